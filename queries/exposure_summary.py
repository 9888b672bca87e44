"""An exposure answer as people act on it: a summary of counts first, findings in the order to read them,
each with its summary, monitor, dates and its own sources (title, URL, date).

Findings are ordered most severe first (no severity last), then most recently reported first (no date
last), then by id in natural order (X2 before X10). The summary counts the whole answer it is given:
the API computes it after filtering and before cutting a page, so a page never changes it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Protocol

from supplygraph.graph.stores.protocol import ArrowReader, Store
from supplygraph.queries import cypher
from supplygraph.queries.entity_cypher import SOURCES_BY_ID
from supplygraph.queries.routes import source_list

SEVERITY_ORDER = ("critical", "high", "medium", "low")  # most severe first
NO_SEVERITY = "none"
SECTIONS = ("findings", "factories", "agencies", "gaps")
DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """A sort key under which X2 comes before X10 (runs of digits compare as numbers)."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in DIGITS.split(text) if part)


def severity_rank(severity: str | None) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


def ordered_findings(findings: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Most severe first, then most recently reported, then natural id order (sorts are stable)."""
    by_id = sorted(findings, key=lambda f: natural_key(str(f["id"])))
    by_day = sorted(by_id, key=lambda f: (f.get("reported_on") is not None, f.get("reported_on") or ""), reverse=True)
    return sorted(by_day, key=lambda f: severity_rank(f.get("severity")))


def summary(answer: Mapping[str, Any]) -> dict[str, Any]:
    """Counts of the answer's items: per section, factories by tier and country, findings by severity
    (most severe first) and category (most frequent first), and every item by basis."""
    factories, agencies, findings = answer["factories"], answer["agencies"], answer["findings"]
    severities = Counter(f.get("severity") or NO_SEVERITY for f in findings)
    categories = Counter(f["category"] for f in findings)
    countries = Counter(str(f.get("country") or "unknown") for f in factories)
    bases = Counter(i.get("basis", "disclosed") for i in (*factories, *agencies, *findings))
    return {
        "findings": len(findings),
        "factories": len(factories),
        "agencies": len(agencies),
        "gaps": len(answer["gaps"]),
        "findings_by_severity": {s: severities[s] for s in (*SEVERITY_ORDER, NO_SEVERITY) if severities[s]},
        "findings_by_category": dict(sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))),
        "factories_by_tier": {str(t): n for t, n in sorted(Counter(f["tier"] for f in factories).items())},
        "factories_by_country": dict(sorted(countries.items(), key=lambda kv: (-kv[1], kv[0]))),
        "by_basis": dict(sorted(bases.items())),
    }


def _day(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, date) else (None if value is None else str(value))


def _kept(reads: ArrowReader, query: str, ids: Iterable[str]) -> list[dict[str, Any]]:
    """The rows of a bulk read whose id is among `ids`."""
    wanted = set(ids)
    return [r for r in reads.run_arrow(query).to_pylist() if r["id"] in wanted]


def source_details(store: Store, ids: Iterable[str], reads: ArrowReader | None = None) -> dict[str, dict[str, Any]]:
    """Title, URL, date published and kind of each source named, by id (ids without a node left out); with
    `reads`, from a bulk read of every source (a Neo4j load's kept reads) instead of the live graph."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = _kept(reads, cypher.ALL_SOURCE_DETAILS, wanted) if reads else store.run(SOURCES_BY_ID, {"ids": wanted})
    return {
        r["id"]: {"title": r["title"], "url": r["url"], "published_on": _day(r["published_on"]), "kind": r["kind"]}
        for r in rows
    }


def finding_details(store: Store, ids: Sequence[str], reads: ArrowReader | None = None) -> dict[str, dict[str, Any]]:
    """Monitor, summary, dates and own sources of each finding, by id (with `reads`: as source_details)."""
    if not ids:
        return {}
    rows = _kept(reads, cypher.ALL_FINDING_DETAILS, ids) if reads else store.run(cypher.FINDING_DETAILS, {"ids": list(ids)})
    return {
        r["id"]: {
            "reported_on": _day(r["reported_on"]),
            "closed_on": _day(r["closed_on"]),
            "monitor": r["monitor"],
            "summary": r["summary"],
            "sources": source_list(r["sources"]),
        }
        for r in rows
    }


class DetailsReader(Protocol):
    def findings(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]: ...

    def sources(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]: ...


FINDING_FIELDS = ("reported_on", "closed_on", "monitor", "summary")  # told after status, before the subject
UNKNOWN_SOURCE = {"title": None, "url": None, "published_on": None, "kind": None}  # named, but no such node


def described(
    store: Store,
    findings: list[dict[str, Any]],
    others: Iterable[list[dict[str, Any]]],
    reads: ArrowReader | None = None,
    known: DetailsReader | None = None,
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The findings in reading order, each with its dates, monitor, summary and `evidence` (its own sources
    with title, URL and date), and the details of every source the findings and `others` name (read through
    `known` when given: details kept for the generation)."""
    finding_ids = sorted(f["id"] for f in findings)
    told = known.findings(finding_ids) if known else finding_details(store, finding_ids, reads)
    named: set[str] = set()
    for items in (findings, *others):
        for i in items:
            named.update(i["sources"])
    for d in told.values():
        named.update(d["sources"])
    sources = known.sources(sorted(named)) if known else source_details(store, named, reads)
    out = []
    for f in findings:
        details = told.get(f["id"], {})
        at = list(f).index("subject")
        fields = list(f.items())
        item = dict(fields[:at] + [(k, details.get(k)) for k in FINDING_FIELDS] + fields[at:])
        item["evidence"] = [{"id": s, **sources.get(s, UNKNOWN_SOURCE)} for s in details.get("sources", ())]
        out.append(item)
    return ordered_findings(out), sources
