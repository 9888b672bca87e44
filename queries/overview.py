"""The investigators' overview of the whole graph on one day: open findings ranked by the affiliates exposed
to them and those affiliates' contract value, the graph's counts, and the bundles it was built from.

The ranking walks every affiliate holding a contract forward once (queries/walk.py) and turns the walks
round: an affiliate is exposed to a finding when its own walk reaches it, through the route its answer
gives, and the contract value counted is that route's first contract, as the reverse question
(queries/reverse.py) counts it. So each row agrees with `exposed-affiliates finding ID` on that day, and
one pass costs as many walks as there are buying affiliates, not one reverse question per finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from supplygraph.graph.origins import LOADED
from supplygraph.graph.stores.protocol import Store
from supplygraph.queries import cypher
from supplygraph.queries.exposure_summary import natural_key, severity_rank
from supplygraph.queries.steps import steps_for
from supplygraph.queries.walk import walk_exposure

OPEN_FINDINGS = (
    "MATCH (fi:Finding) WHERE "
    + cypher.FINDING_OPEN.replace("{f}", "fi")
    + " RETURN fi.id AS id, fi.category AS category, fi.severity AS severity, fi.status AS status,"
    " fi.subject_type AS subject_type, fi.subject_id AS subject_id, fi.monitor AS monitor,"
    " fi.reported_on AS reported_on"
)
COUNTED = {  # what the overview counts: label -> its name in the counts
    "Factory": "factories", "Agency": "agencies", "Affiliate": "affiliates", "Contract": "contracts",
}
COUNT_NODES = {label: f"MATCH (n:{label}) RETURN count(n) AS n" for label in COUNTED}


@dataclass
class Overview:
    as_of: date
    counts: dict[str, int]
    findings: list[dict[str, Any]]  # every open finding, most affiliates exposed first
    loads: list[dict[str, Any]]  # the bundles the graph was built from, last loaded first

    def as_json(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "counts": self.counts, "findings": self.findings,
                "loads": self.loads}


def finding_leverage(store: Store, as_of: date, depth: int = 4) -> list[dict[str, Any]]:
    """Every finding open on `as_of`, with the affiliates exposed to it and their contract value per currency.

    Ordered by affiliates exposed (most first), then by the summed contract value (across currencies: a
    tie-break only), then severity (most severe first), then id in natural order.
    """
    rows = {r["id"]: r for r in store.run(OPEN_FINDINGS, {"as_of": as_of})}
    exposed: dict[str, list[str]] = {fid: [] for fid in rows}
    value: dict[str, dict[str, float]] = {fid: {} for fid in rows}
    steps = steps_for(store)
    for row in store.run(cypher.AFFILIATES_WITH_CONTRACTS):
        walk = walk_exposure(steps, row["id"], as_of, depth, upto="findings")
        for fid, (route, _finding) in walk.findings.items():
            if fid not in rows:
                continue
            exposed[fid].append(row["id"])
            contract = route.path[1] if len(route.path) > 1 else ""
            terms = walk.contracts.get(contract, {})
            if terms.get("value") is not None and terms.get("currency"):
                totals = value[fid]
                totals[terms["currency"]] = totals.get(terms["currency"], 0.0) + float(terms["value"])
    out = []
    for fid, r in rows.items():
        out.append({
            "id": fid, "category": r["category"], "severity": r["severity"], "status": r["status"],
            "subject": {"type": r["subject_type"], "id": r["subject_id"]}, "monitor": r["monitor"],
            "reported_on": r["reported_on"].isoformat() if isinstance(r["reported_on"], date) else r["reported_on"],
            "affiliates": len(exposed[fid]), "affiliate_ids": exposed[fid],
            "contract_value": dict(sorted(value[fid].items())),
        })
    out.sort(key=lambda f: natural_key(f["id"]))
    out.sort(key=lambda f: (-f["affiliates"], -sum(f["contract_value"].values()), severity_rank(f["severity"])))
    return out


def graph_counts(store: Store) -> dict[str, int]:
    """Factories, agencies, affiliates and contracts in the graph."""
    return {name: int(store.run(COUNT_NODES[label])[0]["n"]) for label, name in COUNTED.items()}


def recent_loads(store: Store) -> list[dict[str, Any]]:
    """The bundles the graph is built from, last loaded first: name, rows, files and the day each was read."""
    out = []
    for position, bundle in enumerate(store.bundles()):
        days: set[str] = set()
        for table in bundle.tables.values():
            if LOADED in table.column_names:
                days.update(str(d) for d in table.column(LOADED).unique().to_pylist() if d)
        out.append({"name": bundle.name, "position": position + 1,
                    "rows": sum(t.num_rows for t in bundle.tables.values()),
                    "files": {k: t.num_rows for k, t in sorted(bundle.tables.items())},
                    "loaded_on": max(days) if days else None})
    return out[::-1]


def overview(store: Store, as_of: date, depth: int = 4) -> Overview:
    findings = finding_leverage(store, as_of, depth)
    counts = {**graph_counts(store), "findings_open": len(findings)}  # every finding open on the day
    return Overview(as_of=as_of, counts=counts, findings=findings, loads=recent_loads(store))
