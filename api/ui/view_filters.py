"""The filters of an affiliate's exposure view (/ui/exposure/affiliate/ID?...): read from the query, applied
to the exposure answer, and written back into links, so that every link of the view keeps them all.

Severity, category and basis are those of the API (queries/exposure_pages.py). Tier and country keep
the factories of that tier or country, and the findings and agencies whose path reaches them through
one: tier counts the factories on an item's path (a factory's own tier), country is the factory's or
agency's, and a finding's is its subject's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from supplygraph.graph.errors import InvalidParameter
from supplygraph.graph.schema import SCHEMA
from supplygraph.queries.basis import check_basis
from supplygraph.queries.exposure_pages import filtered
from supplygraph.queries.exposure_summary import SEVERITY_ORDER, summary

from .guard import parse_int

COUNTRY = re.compile(r"^[A-Z]{2}$|^unknown$")
GROUP = re.compile(r"^\d{1,2}:([A-Z]{2}|unknown)$")
CATEGORIES = tuple(SCHEMA.enums["finding_category"])


@dataclass(frozen=True)
class ViewFilters:
    as_of: str | None = None
    depth: str | None = None
    min_severity: str | None = None
    category: str | None = None
    tier: int | None = None
    country: str | None = None
    min_basis: str | None = None
    findings_only: bool = False
    fold: str = "auto"  # "auto" (large answers fold), "on" or "off"
    expand: tuple[str, ...] = ()  # folded groups drawn one by one, "<tier>:<country>"

    def key(self) -> tuple[Any, ...]:
        """What decides the drawing besides the day, the depth and the key (the drawing cache's key)."""
        return (self.min_severity, self.category, self.tier, self.country, self.min_basis, self.findings_only,
                self.fold, self.expand)

    def query(self, **change: Any) -> str:
        """`?as_of=...&depth=...&...`: every parameter of the view, with `change` applied."""
        f = replace(self, **change)
        pairs: list[tuple[str, str]] = []
        for name in ("as_of", "depth", "min_severity", "category", "tier", "country", "min_basis"):
            value = getattr(f, name)
            if value is not None and value != "":
                pairs.append((name, str(value)))
        if f.findings_only:
            pairs.append(("findings_only", "1"))
        if f.fold != "auto":
            pairs.append(("fold", f.fold))
        pairs += [("expand", g) for g in f.expand]
        return "?" + urlencode(pairs)

    def expanded(self, group: str) -> str:
        return self.query(expand=tuple(dict.fromkeys((*self.expand, group))))

    @property
    def fold_choice(self) -> bool | None:
        return {"auto": None, "on": True, "off": False}[self.fold]


def parse_filters(params: Mapping[str, Any], expand: list[str], max_depth: int) -> ViewFilters:
    """The view's filters from its query parameters (`expand` may repeat); a bad value is a clear error."""

    def text(name: str) -> str | None:
        value = params.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None

    severity, category, country, basis = text("min_severity"), text("category"), text("country"), text("min_basis")
    if severity is not None and severity not in SEVERITY_ORDER:
        raise InvalidParameter("min_severity", f"must be one of {', '.join(SEVERITY_ORDER)}, got {severity!r}")
    if category is not None and category not in CATEGORIES:
        raise InvalidParameter("category", f"must be one of {', '.join(CATEGORIES)}, got {category!r}")
    if country is not None:
        country = country.upper() if country != "unknown" else country
        if not COUNTRY.match(country):
            raise InvalidParameter("country", f"expected a two-letter country code, got {country!r}")
    if basis is not None:
        check_basis(basis)
    tier_text = text("tier")
    tier = parse_int(tier_text, 1, "tier", 1, 64) if tier_text else None
    depth = text("depth")
    if depth is not None:
        parse_int(depth, 4, "depth", 1, max_depth)
    fold = text("fold") or "auto"
    if fold not in ("auto", "on", "off"):
        raise InvalidParameter("fold", f"must be auto, on or off, got {fold!r}")
    bad = [g for g in expand if not GROUP.match(g)]
    if bad:
        raise InvalidParameter("expand", f"expected <tier>:<country> such as 3:CN, got {bad[0]!r}")
    only = text("findings_only")
    return ViewFilters(as_of=text("as_of"), depth=depth, min_severity=severity, category=category, tier=tier,
                       country=country, min_basis=basis, findings_only=only not in (None, "0", "false", "off"),
                       fold=fold, expand=tuple(dict.fromkeys(expand)))


def apply_filters(answer: Mapping[str, Any], f: ViewFilters) -> dict[str, Any]:
    """The answer with only what the filters keep, its summary recounted."""
    out = filtered(answer, category=f.category, min_severity=f.min_severity, min_basis=f.min_basis)
    if f.tier is None and f.country is None:
        return out
    factory_ids = {x["id"] for x in answer["factories"]}
    where = {x["id"]: x.get("country") or "unknown" for x in (*answer["factories"], *answer["agencies"])}

    def tier_of(item: Mapping[str, Any]) -> int:
        return sum(1 for i in item["path"] if i in factory_ids)

    def keep(tier: int, country: str | None) -> bool:
        return (f.tier is None or tier == f.tier) and (f.country is None or country == f.country)

    out["factories"] = [x for x in out["factories"] if keep(int(x["tier"]), x.get("country") or "unknown")]
    out["agencies"] = [x for x in out["agencies"] if keep(tier_of(x), x.get("country") or "unknown")]
    out["findings"] = [x for x in out["findings"] if keep(tier_of(x), where.get(x["subject"]["id"]))]
    out["summary"] = summary(out)
    return out
