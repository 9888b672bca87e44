"""Exposure of an affiliate on a day, exactly as ../shared/spec/bundle-format.md defines it.

The walk runs in Python over the rows of small named Cypher queries (queries/cypher.py), one
step per tier, so that the smallest tier is exact, cycles end nowhere, and the same engine
answers on every store. A store may offer a faster `supplier_links` (the embedded store keeps
an in-memory index of the supply links of its immutable generation, see graph/supply_index.py).

Among several paths to an item with the same smallest tier, the one kept is the shortest, then
the first in id order, so answers are deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from graph.errors import InvalidParameter, NotFound
from graph.store import Row, Store
from queries import cypher

MAX_AGENCY_HOPS = 3


class SupplierLinks(Protocol):
    def __call__(self, buyers: Sequence[str], as_of: date) -> Iterable[tuple[str, str, Sequence[str] | None]]: ...


@dataclass(order=True)
class Route:
    """A path from the affiliate to a node and the sources backing each of its links."""

    path: tuple[str, ...]
    sources: tuple[str, ...] = ()
    contracts: tuple[str, ...] = field(default=(), compare=False)

    @property
    def key(self) -> tuple[int, tuple[str, ...]]:
        return (len(self.path), self.path)

    def extend(self, node: str, sources: Iterable[str] | None) -> Route:
        merged = list(self.sources)
        for s in sources or ():
            if s not in merged:
                merged.append(s)
        return Route((*self.path, node), tuple(merged), self.contracts)


def _better(current: Route | None, candidate: Route) -> bool:
    return current is None or candidate.key < current.key


@dataclass
class Exposure:
    affiliate: dict[str, Any]
    as_of: date
    depth: int
    factories: list[dict[str, Any]]
    agencies: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    gaps: list[dict[str, Any]]
    contracts: dict[str, dict[str, Any]] = field(default_factory=dict)  # contracts on exposure paths

    def as_json(self) -> dict[str, Any]:
        return {
            "affiliate": self.affiliate,
            "as_of": self.as_of.isoformat(),
            "factories": self.factories,
            "agencies": self.agencies,
            "findings": self.findings,
            "gaps": self.gaps,
        }


def _cypher_suppliers(store: Store) -> SupplierLinks:
    def links(buyers: Sequence[str], as_of: date) -> Iterable[tuple[str, str, Sequence[str] | None]]:
        rows = store.run(cypher.SUPPLIERS_OF_FACTORIES, {"factory_ids": list(buyers), "as_of": as_of})
        return [(r["buyer"], r["supplier"], r["sources"]) for r in rows]

    return links


def supplier_links_for(store: Store) -> SupplierLinks:
    fast = getattr(store, "supplier_links", None)
    return fast if fast is not None else _cypher_suppliers(store)


def check_depth(depth: int, max_depth: int = 8) -> int:
    if not 1 <= depth <= max_depth:
        raise InvalidParameter("depth", f"must be between 1 and {max_depth}, got {depth}")
    return depth


def exposure_for_affiliate(store: Store, affiliate_id: str, as_of: date, depth: int = 4) -> Exposure:
    check_depth(depth)
    found = store.run(cypher.AFFILIATE, {"affiliate_id": affiliate_id})
    if not found:
        raise NotFound(f"no affiliate with id {affiliate_id!r}")
    start = Route((affiliate_id,))
    params = {"affiliate_id": affiliate_id, "as_of": as_of}

    # What the affiliate buys, and the best route to each product.
    products: dict[str, Route] = {}
    info: dict[str, Row] = {}
    contracts: dict[str, dict[str, Any]] = {}
    for row in store.run(cypher.PURCHASES_DIRECT, params):
        route = start.extend(row["contract"], None).extend(row["product"], row["sources"])
        route.contracts = (row["contract"],)
        contracts[row["contract"]] = {"value": row["value"], "currency": row["currency"]}
        if _better(products.get(row["product"]), route):
            products[row["product"]] = route
        info[row["product"]] = row
    for row in store.run(cypher.PURCHASES_FRAMEWORK, params):
        route = (
            start.extend(row["framework"], None).extend(row["contract"], None).extend(row["product"], row["sources"])
        )
        route.contracts = (row["framework"],)
        contracts[row["framework"]] = {"value": row["value"], "currency": row["currency"]}
        if _better(products.get(row["product"]), route):
            products[row["product"]] = route
        info[row["product"]] = row

    # Tier 1: where the products are assembled; products assembled nowhere are gaps.
    factories: dict[str, Route] = {}
    tiers: dict[str, int] = {}
    assembled: set[str] = set()
    rows = store.run(cypher.ASSEMBLY_OF_PRODUCTS, {"product_ids": sorted(products), "as_of": as_of}) if products else []
    for row in rows:
        assembled.add(row["product"])
        route = _inherit(products[row["product"]].extend(row["factory"], row["sources"]), products[row["product"]])
        if _better(factories.get(row["factory"]), route):
            factories[row["factory"]] = route
            tiers[row["factory"]] = 1
    gaps = [
        {"id": p, "model": info[p]["model"], "brand": info[p]["brand"]} for p in sorted(products) if p not in assembled
    ]

    # Tiers 2..depth: walk supply links from buyer to supplier, breadth first.
    supplier_links = supplier_links_for(store)
    frontier = sorted(factories)
    for tier in range(2, depth + 1):
        if not frontier:
            break
        steps: dict[tuple[str, str], list[str]] = {}
        for buyer, supplier, sources in supplier_links(frontier, as_of):
            if supplier in tiers:
                continue
            merged = steps.setdefault((buyer, supplier), [])
            merged.extend(s for s in sources or () if s not in merged)
        reached: dict[str, Route] = {}
        for (buyer, supplier), sources in steps.items():
            route = _inherit(factories[buyer].extend(supplier, sources), factories[buyer])
            if _better(reached.get(supplier), route):
                reached[supplier] = route
        for fid, route in reached.items():
            factories[fid], tiers[fid] = route, tier
        frontier = sorted(reached)

    details = {r["id"]: r for r in store.run(cypher.FACTORIES_BY_ID, {"ids": sorted(factories)})} if factories else {}

    agencies = _agencies(store, factories, as_of)
    agency_details = (
        {r["id"]: r for r in store.run(cypher.AGENCIES_BY_ID, {"ids": sorted(agencies)})} if agencies else {}
    )

    # Companies: operators of exposed factories and brands of bought products.
    companies: dict[str, Route] = {}
    for fid, route in factories.items():
        operator = details.get(fid, {}).get("operator")
        if operator:
            candidate = _inherit(route.extend(operator, None), route)
            if _better(companies.get(operator), candidate):
                companies[operator] = candidate
    for pid, route in products.items():
        brand = info[pid]["brand"]
        if brand:
            candidate = _inherit(route.extend(brand, None), route)
            if _better(companies.get(brand), candidate):
                companies[brand] = candidate

    findings = _findings(store, as_of, {"factory": factories, "agency": agencies, "company": companies})
    used: set[str] = set()
    for route in (*factories.values(), *agencies.values(), *companies.values()):
        used.update(route.contracts)

    affiliate = {"id": found[0]["id"], "name": found[0]["name"]}
    return Exposure(
        affiliate=affiliate,
        as_of=as_of,
        depth=depth,
        factories=[
            {
                "id": fid,
                "name": details.get(fid, {}).get("name"),
                "country": details.get(fid, {}).get("country"),
                "tier": tiers[fid],
                "path": list(route.path),
                "sources": list(route.sources),
            }
            for fid, route in sorted(factories.items(), key=lambda kv: (tiers[kv[0]], kv[0]))
        ],
        agencies=[
            {
                "id": aid,
                "name": agency_details.get(aid, {}).get("name"),
                "country": agency_details.get(aid, {}).get("country"),
                "path": list(route.path),
                "sources": list(route.sources),
            }
            for aid, route in sorted(agencies.items())
        ],
        findings=[
            {
                "id": fid,
                "category": row["category"],
                "severity": row["severity"],
                "status": row["status"],
                "subject": {"type": row["subject_type"], "id": row["subject_id"]},
                "path": list(route.path),
                "sources": list(route.sources),
            }
            for fid, (route, row) in sorted(findings.items())
        ],
        gaps=gaps,
        contracts={c: v for c, v in contracts.items() if c in used},
    )


def _inherit(route: Route, parent: Route) -> Route:
    route.contracts = parent.contracts
    return route


def _agencies(store: Store, factories: dict[str, Route], as_of: date) -> dict[str, Route]:
    agencies: dict[str, Route] = {}
    if not factories:
        return agencies
    rows = store.run(cypher.PLACEMENTS_AT_FACTORIES, {"factory_ids": sorted(factories), "as_of": as_of})
    for row in rows:
        parent = factories[row["factory"]]
        route = _inherit(parent.extend(row["agency"], row["sources"]), parent)
        if _better(agencies.get(row["agency"]), route):
            agencies[row["agency"]] = route
    frontier = sorted(agencies)
    for _hop in range(MAX_AGENCY_HOPS):
        if not frontier:
            break
        reached: dict[str, Route] = {}
        for row in store.run(cypher.SUBAGENTS_OF_AGENCIES, {"agency_ids": frontier, "as_of": as_of}):
            if row["subagent"] in agencies:
                continue
            parent = agencies[row["agency"]]
            route = _inherit(parent.extend(row["subagent"], row["sources"]), parent)
            if _better(reached.get(row["subagent"]), route):
                reached[row["subagent"]] = route
        agencies.update(reached)
        frontier = sorted(reached)
    return agencies


def _findings(store: Store, as_of: date, subjects: dict[str, dict[str, Route]]) -> dict[str, tuple[Route, Row]]:
    found: dict[str, tuple[Route, Row]] = {}
    for subject_type, routes in subjects.items():
        if not routes:
            continue
        params = {"subject_type": subject_type, "ids": sorted(routes), "as_of": as_of}
        for row in store.run(cypher.OPEN_FINDINGS_ON, params):
            parent = routes[row["subject_id"]]
            route = _inherit(parent.extend(row["id"], row["sources"]), parent)
            if row["id"] not in found or route.key < found[row["id"]][0].key:
                found[row["id"]] = (route, row)
    return found
