"""Filters, sections and pages of an exposure answer, as the API and the CLI offer them.

The summary is computed over the filtered answer before a page is cut: it counts every item the filters
keep, not only those on the page. A page holds `limit` items of each section asked for, from `offset`;
`page.counts` says how many each section has in all and `page.next_offset` where the next page starts
(null on the last).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from supplygraph.graph.errors import InvalidParameter
from supplygraph.queries.basis import at_least
from supplygraph.queries.exposure_summary import SEVERITY_ORDER, severity_rank, summary

SECTIONS = ("findings", "factories", "agencies", "gaps")
ITEM_SECTIONS = ("findings", "factories", "agencies")  # the sections with a basis


def parse_sections(text: str | None) -> tuple[str, ...]:
    """`findings,factories` -> the sections asked for, in the answer's order; None or empty: all."""
    if not text:
        return SECTIONS
    asked = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in asked if s not in SECTIONS]
    if unknown:
        raise InvalidParameter("fields", f"{', '.join(unknown)}: expected some of {', '.join(SECTIONS)}")
    return tuple(s for s in SECTIONS if s in asked)


def filtered(
    answer: Mapping[str, Any],
    *,
    category: str | None = None,
    min_severity: str | None = None,
    min_basis: str | None = None,
) -> dict[str, Any]:
    """The answer with only the findings of `category` and at least `min_severity` (a finding without a
    severity is left out by it), and the items of basis `min_basis` or stronger (gaps always stay); its
    summary recounted."""
    if min_severity is not None and min_severity not in SEVERITY_ORDER:
        raise InvalidParameter("min_severity", f"must be one of {', '.join(SEVERITY_ORDER)}, got {min_severity!r}")
    out = dict(answer)
    if min_basis is not None:
        for section in ITEM_SECTIONS:
            out[section] = [i for i in out[section] if at_least(i.get("basis", "disclosed"), min_basis)]
    if category is not None:
        out["findings"] = [f for f in out["findings"] if f["category"] == category]
    if min_severity is not None:
        least = severity_rank(min_severity)
        out["findings"] = [f for f in out["findings"] if f.get("severity") and severity_rank(f["severity"]) <= least]
    out["summary"] = summary(out)
    return out


def page(answer: Mapping[str, Any], sections: Iterable[str], limit: int | None, offset: int = 0) -> dict[str, Any]:
    """The answer with only `sections`, each cut to `limit` items from `offset` (None: all), and a `page`
    telling the counts; `sources` keeps the sources the page names."""
    keep = tuple(sections)
    out: dict[str, Any] = {}
    counts = {s: len(answer[s]) for s in keep}
    end = None if limit is None else offset + limit
    for key, value in answer.items():
        if key in SECTIONS:
            if key in keep:
                out[key] = value[offset:end]
        elif key != "sources":
            out[key] = value
    if "sources" in answer:
        named = {s for section in keep for item in out[section] for s in item.get("sources", ())}
        named |= {e["id"] for f in out.get("findings", ()) for e in f.get("evidence", ())}
        out["sources"] = {k: v for k, v in answer["sources"].items() if k in named}
    more = end is not None and any(n > end for n in counts.values())
    out["page"] = {"offset": offset, "limit": limit, "counts": counts, "next_offset": end if more else None}
    return out
