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

from supplygraph.graph.errors import InvalidParameter
from supplygraph.graph.stores.protocol import Row, Store
from supplygraph.queries.basis import BASES, SiteSeeds, at_least, check_basis, listed_by
from supplygraph.queries.cycle_pause import cycles_paused
from supplygraph.queries.details_cache import detail_cache
from supplygraph.queries.exposure_summary import described, summary
from supplygraph.queries.provenance import add_origins
from supplygraph.queries.routes import Route
from supplygraph.queries.steps import CypherSteps, steps_for
from supplygraph.queries.walk import NO_DETAILS, walk_exposure


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


@cycles_paused
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

    factories = _factory_items(walk.factories, tiers, details, walk.basis, walk.seeds)
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
    known = detail_cache(steps.store, steps.index, steps.details_reads) if steps.index is not None else None
    findings, sources = described(steps.store, findings, (factories, agencies), steps.details_reads, known)
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


def _factory_items(
    routes: dict[str, Route],
    tiers: dict[str, int],
    details: Mapping[str, Row],
    basis: Mapping[str, str],
    seeds: SiteSeeds,
) -> list[dict[str, Any]]:
    """The answer's factories by tier, then id (tiers are grouped first, so that plain string sorts do the rest),
    each with its basis, and for `brand_list` ones whose list it is (listed_by reads no further than the sixth
    node of a path, so factories behind the same first six share it)."""
    by_tier: dict[int, list[str]] = {}
    for fid, tier in tiers.items():
        by_tier.setdefault(tier, []).append(fid)
    get = details.get
    items: list[dict[str, Any]] = []
    append = items.append
    lists: dict[tuple[str, ...], dict[str, Any]] = {}
    for tier in sorted(by_tier):
        for fid in sorted(by_tier[tier]):
            route, known, kind = routes[fid], get(fid), basis[fid]
            name, country = (None, None) if known is None else (known.get("name"), known.get("country"))
            path = route.path
            item = {
                "id": fid,
                "name": name,
                "country": country,
                "tier": tier,
                "path": list(path),
                "sources": list(route.sources),
                "basis": kind,
            }
            if kind == "brand_list":
                head = path[:6]
                whose = lists.get(head)
                if whose is None:
                    whose = lists[head] = listed_by(list(head), seeds.listed, seeds.sources)
                item["listed"] = {**whose, "sources": list(whose["sources"])} if whose else {}
            append(item)
    return items
