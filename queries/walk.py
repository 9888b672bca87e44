"""The exposure walk of one affiliate on one day, exactly as ../shared/spec/bundle-format.md defines it: what it
buys, the factories assembling it (tier 1) and their suppliers tier by tier, the agencies placing workers there
and their sub-agents, and the open findings on all of them, each reached by its best route.

The walk runs in Python, one step per tier (queries/steps.py), so that the smallest tier is exact and cycles
end nowhere. Among several paths to an item with the same smallest tier, the one kept is the shortest, then
the first in id order, so answers are deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from supplygraph.graph.errors import NotFound
from supplygraph.graph.stores.protocol import Row
from supplygraph.queries.basis import BASES, RANK, Purchase, SiteSeeds, site_seeds
from supplygraph.queries.routes import Best, Route, nearer, source_list, walk_from
from supplygraph.queries.steps import CypherSteps

MAX_AGENCY_HOPS = 3
NO_DETAILS: dict[str, Any] = {}


@dataclass
class Walk:
    """The routes of one affiliate's exposure, before they are written out as an answer."""

    affiliate: Row
    contracts: dict[str, dict[str, Any]]  # every contract bought through: value and currency
    products: dict[str, Route]
    info: Mapping[str, Row]  # product -> model and brand
    gaps: list[dict[str, Any]]
    factories: dict[str, Route]
    tiers: dict[str, int]
    basis: dict[str, str] = field(default_factory=dict)  # factory -> its basis
    agency_basis: dict[str, str] = field(default_factory=dict)
    company_basis: dict[str, str] = field(default_factory=dict)
    seeds: SiteSeeds = field(default_factory=SiteSeeds)
    details: Mapping[str, Row] = field(default_factory=dict)
    agencies: dict[str, Route] = field(default_factory=dict)
    companies: dict[str, Route] = field(default_factory=dict)
    findings: dict[str, tuple[Route, Row]] = field(default_factory=dict)


WALK_PARTS = ("factories", "agencies", "findings")


def _purchases(steps: CypherSteps, affiliate_id: str, as_of: date, contracts: dict[str, Any]) -> list[Purchase]:
    """Every contract item the affiliate buys on `as_of`, once (its shortest route to the contract)."""
    start = Route((affiliate_id,))
    direct, framework = steps.purchases(affiliate_id, as_of)
    bought: dict[str, Purchase] = {}
    for row in direct:
        parent = start.extend(row["contract"], None)
        parent.contracts = (row["contract"],)
        contracts[row["contract"]] = {"value": row["value"], "currency": row["currency"]}
        bought.setdefault(row["item"], Purchase(row, parent))
    for row in framework:
        parent = start.extend(row["framework"], None).extend(row["contract"], None)
        parent.contracts = (row["framework"],)
        contracts[row["framework"]] = {"value": row["value"], "currency": row["currency"]}
        if row["item"] not in bought or parent.key < bought[row["item"]].parent.key:
            bought[row["item"]] = Purchase(row, parent)
    return [bought[i] for i in sorted(bought)]


def walk_exposure(steps: CypherSteps, affiliate_id: str, as_of: date, depth: int, upto: str = "findings") -> Walk:
    """The exposure walk as far as `upto` (factories, then agencies, then companies and findings)."""
    found = steps.affiliate(affiliate_id)
    if found is None:
        raise NotFound(f"no affiliate with id {affiliate_id!r}")
    contracts: dict[str, dict[str, Any]] = {}
    purchases = _purchases(steps, affiliate_id, as_of, contracts)

    # The best route to each product, per basis of the item -> product link (disclosed wins).
    bought = {b: Best() for b in BASES[:2]}
    for p in purchases:
        if p.row["product"]:
            bought[p.basis].offer(p.row["product"], p.parent, p.row["sources"])
    by_basis = {b: best.routes() for b, best in bought.items()}
    by_basis["matched"] = {k: r for k, r in by_basis["matched"].items() if k not in by_basis["disclosed"]}
    products = {**by_basis["matched"], **by_basis["disclosed"]}
    product_basis = {k: b for b in BASES[:2] for k in by_basis[b]}
    info = steps.products(sorted(products))

    # Tier 1: where the products are assembled; items with no product assembled are gaps.
    assembly = {b: Best() for b in BASES[:2]}
    assembled: set[str] = set()
    for row in steps.assembly(sorted(products), as_of):
        assembly[product_basis[row["product"]]].offer(row["factory"], products[row["product"]], row["sources"])
        assembled.add(row["product"])
    lacking = [p for p in purchases if p.row["product"] not in assembled]
    seeds = site_seeds(steps, lacking, as_of, Best, source_list)

    # Tiers 2..depth, one walk per basis from its own seeds; the strongest basis reaching a factory wins.
    factories: dict[str, Route] = {}
    tiers: dict[str, int] = {}
    basis: dict[str, str] = {}
    walks: list[tuple[str, dict[str, Route], dict[str, Route]]] = [
        ("disclosed", assembly["disclosed"].routes(), {}),
        ("matched", assembly["matched"].routes(), {}),
    ]
    walks.append(("brand_list", seeds.tier_one, seeds.tier_two))
    for name, first, second in walks:
        trees = (walk_from(steps, first, depth, as_of, tiers), walk_from(steps, second, depth, as_of, tiers, 1))
        if not trees[1].tiers and not basis:  # the first walk: its routes were made as it went
            factories.update(trees[0].routes)
            tiers.update(trees[0].tiers)
            basis.update(dict.fromkeys(trees[0].tiers, name))
            continue
        if not trees[1].tiers:  # one walk (no component sites): its own tiers, no comparing
            tree = trees[0]
            for fid, tier in tree.tiers.items():
                if fid not in basis:
                    factories[fid], tiers[fid], basis[fid] = tree.route(fid), tier, name
            continue
        for fid in (*trees[0].tiers, *(f for f in trees[1].tiers if f not in trees[0].tiers)):
            if fid not in basis:
                tree = nearer(*trees, fid)
                factories[fid], tiers[fid], basis[fid] = tree.route(fid), tree.tiers[fid], name
    gaps = [
        {
            "id": p.row["product"] or p.id,
            "model": info.get(p.row["product"] or "", NO_DETAILS).get("model"),
            "brand": p.row["brand"],
            "item": p.id,
            "brand_list": seeds.listed.get(p.id),
        }
        for p in sorted(lacking, key=lambda p: (p.row["product"] or p.id, p.id))
    ]
    walk = Walk(found, contracts, products, info, gaps, factories, tiers, basis=basis, seeds=seeds)
    if WALK_PARTS.index(upto) < 1:
        return walk
    by_basis_routes: dict[str, dict[str, Route]] = {name: {} for name in BASES}
    for fid, route in factories.items():
        by_basis_routes[basis[fid]][fid] = route
    for name in BASES:  # agencies take the basis of the factory they are placed at
        if not by_basis_routes[name]:
            continue
        placed = _agencies(steps, by_basis_routes[name], as_of)
        for aid, route in placed.items():
            if aid not in walk.agencies:
                walk.agencies[aid], walk.agency_basis[aid] = route, name
    if WALK_PARTS.index(upto) < 2:
        return walk

    # Companies: operators of exposed factories and brands of bought items, each with its strongest basis.
    walk.details = details = steps.factories(list(factories))
    via: dict[str, tuple[int, Route]] = {}  # company -> (basis rank, the best route to what it operates or brands)

    def offer(company: str | None, rank: int, route: Route) -> None:
        if company and (company not in via or (rank, route.key) < (via[company][0], via[company][1].key)):
            via[company] = (rank, route)

    for fid, known in details.items():  # factories the graph has no details of have no operator
        if fid in factories:
            offer(known.get("operator"), RANK[basis[fid]], factories[fid])
    for pid, route in products.items():
        offer(info.get(pid, NO_DETAILS).get("brand"), RANK[product_basis[pid]], route)
    for p in purchases:
        if not p.row["product"] and p.row["brand"]:  # a brand from brand_name, the description or the supplier
            offer(p.row["brand"], RANK["brand_list"], p.parent.extend(p.id, p.row["sources"]))
    walk.companies = {company: route.extend(company, None) for company, (_r, route) in via.items()}
    walk.company_basis = {company: BASES[rank] for company, (rank, _route) in via.items()}
    walk.findings = _findings(steps, as_of, {"factory": factories, "agency": walk.agencies, "company": walk.companies})
    return walk


def _agencies(steps: CypherSteps, factories: dict[str, Route], as_of: date) -> dict[str, Route]:
    placed = Best()
    for factory, agency, sources in steps.placements(list(factories), as_of):
        placed.offer(agency, factories[factory], sources)
    agencies = placed.routes()
    frontier = sorted(agencies)
    for _hop in range(MAX_AGENCY_HOPS):
        if not frontier:
            break
        recruited = Best()
        for agency, subagent, sources in steps.subagents(frontier, as_of):
            if subagent not in agencies:
                recruited.offer(subagent, agencies[agency], sources)
        reached = recruited.routes()
        agencies.update(reached)
        frontier = sorted(reached)
    return agencies


def _findings(steps: CypherSteps, as_of: date, subjects: dict[str, dict[str, Route]]) -> dict[str, tuple[Route, Row]]:
    found: dict[str, tuple[Route, Row]] = {}
    for subject_type, routes in subjects.items():
        if not routes:
            continue
        for row in steps.open_findings(subject_type, list(routes), as_of):
            parent = routes[row["subject_id"]]
            route = parent.extend(row["id"], row["sources"])
            if row["id"] not in found or route.key < found[row["id"]][0].key:
                found[row["id"]] = (route, row)
    return found
