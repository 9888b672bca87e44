"""The basis of exposure paths (bundle version 1.1, "Exposure with a basis").

A path is `disclosed` when every link on it is from the data, `matched` when its item -> product link
was made by the matcher, `brand_list` when it runs through a brand's published list of sites. A
path's basis is its weakest link, and an item of an answer is listed with the strongest basis that
reaches it, with the tier and path of the shortest path of that basis.

Since only the first link of a path can be weaker than `disclosed`, the paths of one basis are those
from that basis's seeds: disclosed products' factories, matched products' factories (products not
also bought through a disclosed item), and the sites on brand lists. So each basis is one walk from
its own seeds, and a node takes the first basis (strongest first) whose walk reaches it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from supplygraph.graph.errors import InvalidParameter
from supplygraph.graph.stores.protocol import Row

BASES = ("disclosed", "matched", "brand_list")
RANK = {b: i for i, b in enumerate(BASES)}
DEFAULT_ROLE = "final_assembly"


def check_basis(value: str | None) -> str:
    """A minimum basis (None: every basis, i.e. `brand_list`)."""
    if value is None:
        return BASES[-1]
    if value not in RANK:
        raise InvalidParameter("min_basis", f"must be one of {', '.join(BASES)}, got {value!r}")
    return value


def at_least(basis: str, minimum: str) -> bool:
    return RANK[basis] <= RANK[minimum]


@dataclass
class Purchase:
    """One bought contract item and the route to its contract (affiliate, framework?, contract)."""

    row: Row
    parent: Any  # queries.exposure.Route

    @property
    def id(self) -> str:
        return str(self.row["item"])

    @property
    def basis(self) -> str:
        return str(self.row.get("basis") or "disclosed")


@dataclass
class SiteSeeds:
    """The brand-list walk's seeds: factories at tier 1 (final assembly) and tier 2 (component sites),
    the brand and list sources behind each site, and which brand's list gave each item an exposure."""

    tier_one: dict[str, Any] = field(default_factory=dict)
    tier_two: dict[str, Any] = field(default_factory=dict)
    sources: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (brand, factory) -> sources
    listed: dict[str, str] = field(default_factory=dict)  # item -> brand


def site_seeds(steps: Any, lacking: Iterable[Purchase], as_of: date, best: type, source_list: Any) -> SiteSeeds:
    """Every site on the list of the brand B of an item of category C with no product assembled on D:
    active on D, of category C or any; final assembly at tier 1, component at tier 2 (tier 1 when the
    site is reached through both roles)."""
    seeds = SiteSeeds()
    wanting = sorted((p for p in lacking if p.row.get("brand")), key=lambda p: p.id)
    if not wanting:
        return seeds
    by_brand: dict[str, list[Row]] = {}
    for site in steps.brand_sites(sorted({p.row["brand"] for p in wanting}), as_of):
        by_brand.setdefault(site["brand"], []).append(site)
    if not by_brand:
        return seeds
    first, second = best(), best()
    for purchase in wanting:
        brand, category = purchase.row["brand"], purchase.row.get("category")
        sites = [s for s in by_brand.get(brand, ()) if s["category"] is None or s["category"] == category]
        if not sites:
            continue
        seeds.listed[purchase.id] = brand
        route = purchase.parent.extend(purchase.id, purchase.row.get("sources")).extend(brand, None)
        for site in sites:
            target = first if (site["role"] or DEFAULT_ROLE) == DEFAULT_ROLE else second
            target.offer(site["factory"], route, site["sources"])
            known = seeds.sources.setdefault((brand, site["factory"]), [])
            known.extend(s for s in source_list(site["sources"]) if s not in known)
    seeds.tier_one = first.routes()
    seeds.tier_two = {f: r for f, r in second.routes().items() if f not in seeds.tier_one}
    return seeds


def listed_by(path: list[str], items: dict[str, str], sources: dict[tuple[str, str], list[str]]) -> dict[str, Any]:
    """For a `brand_list` answer: whose list (the brand after the item on the path) and its sources."""
    for i in (2, 3):  # the item follows the affiliate and its contract (and a framework before it)
        node = path[i] if i < len(path) else None
        if node in items and i + 1 < len(path) and path[i + 1] == items[node]:
            brand = path[i + 1]
            site = path[i + 2] if i + 2 < len(path) else None
            return {"brand": brand, "item": node, "sources": list(sources.get((brand, site or ""), []))}
    return {}
