"""Exposure of an affiliate on a day, exactly as ../shared/spec/bundle-format.md defines it.

The walk runs in Python, one step per tier (queries/steps.py), so that the smallest tier is exact,
cycles end nowhere, and the same engine answers on every store: each step is a small named Cypher
query (queries/cypher.py), or is answered from the link index of the store's current generation
(queries/link_index.py), which gives the same rows.

Among several paths to an item with the same smallest tier, the one kept is the shortest, then
the first in id order, so answers are deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from supplygraph.graph.errors import InvalidParameter, NotFound
from supplygraph.graph.stores.protocol import Row, Store
from supplygraph.queries.basis import BASES, RANK, Purchase, SiteSeeds, at_least, check_basis, listed_by, site_seeds
from supplygraph.queries.exposure_summary import described, summary
from supplygraph.queries.provenance import add_origins
from supplygraph.queries.routes import Best, Route, nearer, source_list, walk_from
from supplygraph.queries.steps import CypherSteps, steps_for

MAX_AGENCY_HOPS = 3
NO_DETAILS: dict[str, Any] = {}


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
    provenance: dict[str, Any] | None = None  # the paths' other nodes and links, when asked (queries/provenance.py)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)  # title, url, date and kind of each source named

    def as_json(self) -> dict[str, Any]:
        """The summary first, then the findings (most severe first), factories, agencies, gaps and sources."""
        sections = {"findings": self.findings, "factories": self.factories, "agencies": self.agencies, "gaps": self.gaps}
        return {
            "affiliate": self.affiliate,
            "as_of": self.as_of.isoformat(),
            "summary": summary(sections),
            **sections,
            "sources": self.sources,
        } | ({} if self.provenance is None else {"provenance": self.provenance})


def check_depth(depth: int, max_depth: int = 8) -> int:
    if not 1 <= depth <= max_depth:
        raise InvalidParameter("depth", f"must be between 1 and {max_depth}, got {depth}")
    return depth


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

    for fid, route in factories.items():
        offer(details.get(fid, NO_DETAILS).get("operator"), RANK[basis[fid]], route)
    for pid, route in products.items():
        offer(info.get(pid, NO_DETAILS).get("brand"), RANK[product_basis[pid]], route)
    for p in purchases:
        if not p.row["product"] and p.row["brand"]:  # a brand from brand_name, the description or the supplier
            offer(p.row["brand"], RANK["brand_list"], p.parent.extend(p.id, p.row["sources"]))
    walk.companies = {company: route.extend(company, None) for company, (_r, route) in via.items()}
    walk.company_basis = {company: BASES[rank] for company, (rank, _route) in via.items()}
    walk.findings = _findings(steps, as_of, {"factory": factories, "agency": walk.agencies, "company": walk.companies})
    return walk


def exposure_for_affiliate(
    store: Store,
    affiliate_id: str,
    as_of: date,
    depth: int = 4,
    *,
    steps: CypherSteps | None = None,
    provenance: bool = False,
    min_basis: str | None = None,
) -> Exposure:
    """`steps` defaults to the store's own (indexed where the store offers it). With `provenance`, items
    carry their origins and the answer those of every other node and link on the paths. `min_basis`
    keeps the factories, agencies and findings of that basis or stronger (gaps are always listed)."""
    check_depth(depth)
    minimum = check_basis(min_basis)
    steps = steps or steps_for(store)
    walk = walk_exposure(steps, affiliate_id, as_of, depth)
    details, tiers = walk.details, walk.tiers
    agency_details = steps.agencies(sorted(walk.agencies))
    subject_basis = {"factory": walk.basis, "agency": walk.agency_basis, "company": walk.company_basis}

    def basis_of(item: dict[str, Any], basis: str) -> dict[str, Any]:
        item["basis"] = basis
        if basis == "brand_list":
            item["listed"] = listed_by(item["path"], walk.seeds.listed, walk.seeds.sources)
        return item

    seen_basis = set(walk.basis.values())

    factories = _factory_items(walk.factories, tiers, details)
    if seen_basis == {"disclosed"}:  # the usual answer: one basis, set without a call per item
        for f in factories:
            f["basis"] = "disclosed"
    else:
        factories = [basis_of(f, walk.basis[f["id"]]) for f in factories]
    agencies = [
        basis_of(
            {
                "id": aid,
                "name": agency_details.get(aid, NO_DETAILS).get("name"),
                "country": agency_details.get(aid, NO_DETAILS).get("country"),
                "path": list(route.path),
                "sources": list(route.sources),
            },
            walk.agency_basis[aid],
        )
        for aid, route in sorted(walk.agencies.items())
    ]
    findings = [
        basis_of(
            {
                "id": fid,
                "category": row["category"],
                "severity": row["severity"],
                "status": row["status"],
                "subject": {"type": row["subject_type"], "id": row["subject_id"]},
                "path": list(route.path),
                "sources": list(route.sources),
            },
            subject_basis[row["subject_type"]][row["subject_id"]],
        )
        for fid, (route, row) in sorted(walk.findings.items())
    ]
    if minimum != BASES[-1]:
        factories, agencies, findings = (
            [i for i in items if at_least(i["basis"], minimum)] for items in (factories, agencies, findings)
        )
    findings, sources = described(steps.store, findings, (factories, agencies))
    routes = (*walk.factories.values(), *walk.agencies.values(), *walk.companies.values())
    used = {c for contracts in {r.contracts for r in routes} for c in contracts}  # few distinct tuples
    answer = Exposure(
        affiliate={"id": walk.affiliate["id"], "name": walk.affiliate["name"]},
        as_of=as_of,
        depth=depth,
        factories=factories,
        agencies=agencies,
        findings=findings,
        gaps=walk.gaps,
        contracts={c: v for c, v in walk.contracts.items() if c in used},
        sources=sources,
    )
    return add_origins(answer, steps) if provenance else answer


def _factory_items(routes: dict[str, Route], tiers: dict[str, int], details: Mapping[str, Row]) -> list[dict[str, Any]]:
    """The answer's factories by tier, then id (tiers are grouped first, so that plain string sorts do the rest)."""
    by_tier: dict[int, list[str]] = {}
    for fid, tier in tiers.items():
        by_tier.setdefault(tier, []).append(fid)
    get, items = details.get, []
    for tier in sorted(by_tier):
        for fid in sorted(by_tier[tier]):
            route, known = routes[fid], get(fid, NO_DETAILS)
            items.append(
                {
                    "id": fid,
                    "name": known.get("name"),
                    "country": known.get("country"),
                    "tier": tier,
                    "path": list(route.path),
                    "sources": list(route.sources),
                }
            )
    return items


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
