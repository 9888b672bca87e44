"""A listed company (FollowTheMoney entity on a sanctions or forced-labour list) that is also a factory or an
agency of the graph: its listing findings are repeated on that factory or agency (subject_type factory or
agency), so that exposure answers show the risk wherever the listed entity sits in a supply chain. Matching as
for entities of one type (loaders/resolve/scoring.py, with the term frequencies of the factories and agencies):
the same registration/licence number, or name, country, address and town scored; an automatic match needs 0.8
or more with one candidate; 0.5-0.8, or a name that nearly agrees, goes to the review queue (label `Listing`)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.loaders.resolve.clustering import AUTO
from supplygraph.loaders.resolve.decisions import Decisions, pair_id
from supplygraph.loaders.resolve.features import TermStats, features
from supplygraph.loaders.resolve.scoring import Scorer
from supplygraph.loaders.resolve.tables import Bundles, records

# A near match of a listed entity is shown to a person at a lower bar than a merge (missing it hides a risk):
# from this score, or when the names nearly agree and nothing refuses the pair.
LISTING_REVIEW, LISTING_NAME = 0.5, 0.9


def listings(bundles: Bundles, decisions: Decisions) -> tuple[Bundles, list[dict[str, Any]]]:
    listed = listed_companies(bundles)
    if not listed:
        return bundles, []
    decided = {k: d["decision"] for k, d in decisions.decided.items() if d["label"] == "Listing"}
    targets = {label: records(bundles, label) for label in ("Factory", "Agency")}
    feats = {(label, rid): features(label, rec) for label, recs in targets.items() for rid, rec in recs.items()}
    stats = TermStats()
    for f in feats.values():
        stats.add(f)
    scorer = Scorer(stats)
    index: dict[str, list[tuple[str, str]]] = defaultdict(list)
    numbers: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for (label, rid), f in feats.items():
        for token in set(f.name):
            if len(token) > 2:
                index[token].append((label, rid))
        rec = targets[label][rid]
        if rec.get("license_no") and rec.get("country"):
            numbers[f"{rec['country']}:{rec['license_no'].upper()}"].append((label, rid))
    matched: dict[tuple[int, str], list[tuple[str, str, float]]] = defaultdict(list)
    review = []
    for (order, cid), rec in listed.items():
        mine = features("Company", {**rec, "id": cid, "lei": None})
        scores: dict[tuple[str, str], float] = {}
        named: set[tuple[str, str]] = set()
        for number in (rec.get("registration_numbers") or "").split("|"):
            for hit in numbers.get(f"{rec.get('country')}:{number.upper()}", []) if number else []:
                scores[hit] = 1.0
        for token in set(mine.name):
            for hit in index.get(token, [])[:200]:
                if hit not in scores:
                    scores[hit], evidence = scorer.compare(mine, feats[hit])
                    if float(evidence.get("name_similarity", 0)) >= LISTING_NAME:
                        named.add(hit)
        strong = [hit for hit, s in scores.items() if s >= AUTO]
        for (label, rid), s in scores.items():
            pid = pair_id("Listing", cid, rid)
            if decided.get(pid) == "reject" or (
                s < LISTING_REVIEW and (label, rid) not in named and decided.get(pid) != "accept"
            ):
                continue
            if decided.get(pid) == "accept" or (s >= AUTO and len(strong) == 1):
                matched[(order, cid)].append((label, rid, s))
            elif s >= max(scores.values()) or s >= AUTO or (label, rid) in named:
                names = [rec.get("name"), targets[label][rid].get("name")]
                review.append({"id": pid, "label": "Listing", "a": cid, "b": rid, "score": s, "names": names,
                               "members": [cid, rid]})  # fmt: skip
    return (add_listing_findings(bundles, matched) if matched else bundles), review


def listed_companies(bundles: Bundles) -> dict[tuple[int, str], dict[str, Any]]:
    """(bundle position, company id) -> name, country, address, registration numbers of listed companies."""
    out = {}
    for order, (_bundle, tables) in enumerate(bundles):
        table = tables.get("companies")
        if table is None or "listed" not in table.column_names:
            continue
        wanted = [
            c for c in ("id", "name", "country", "address", "registration_numbers", "listed") if c in table.column_names
        ]
        for row in table.filter(pc.is_valid(table.column("listed"))).select(wanted).to_pylist():
            out[(order, row["id"])] = row
    return out


def add_listing_findings(bundles: Bundles, matched: dict[tuple[int, str], list[tuple[str, str, float]]]) -> Bundles:
    out: Bundles = []
    for order, (bundle, tables) in enumerate(bundles):
        findings = tables.get("findings")
        ours = {cid: hits for (o, cid), hits in matched.items() if o == order}
        if not ours or findings is None or "subject_id" not in findings.column_names:
            out.append((bundle, tables))
            continue
        new = []
        for row in findings.to_pylist():
            if row.get("subject_type") != "company" or row.get("subject_id") not in ours:
                continue
            for label, rid, s in ours[row["subject_id"]]:
                kind = label.lower()
                new.append(
                    {
                        **row,
                        "id": f"{row['id']}@{rid}",
                        "subject_type": kind,
                        "subject_id": rid,
                        "summary": f"{row.get('summary') or row['id']} (matched to {kind} {rid}, score {s:.2f})",
                        "listing_match": f"{row['subject_id']}={rid}@{s:.2f}",
                    }
                )
        if not new:
            out.append((bundle, tables))
            continue
        schema = findings.schema
        if "listing_match" not in schema.names:
            schema = schema.append(pa.field("listing_match", pa.string()))
        added = pa.Table.from_pylist(new, schema=schema)
        out.append((bundle, {**tables, "findings": pa.concat_tables([findings, added], promote_options="default")}))
    return out
