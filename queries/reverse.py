"""The reverse questions: which affiliates are exposed to a factory, an agency or a finding, and the leverage.

Candidates are the affiliates that could reach the item on that day: with a store's link index,
a walk from the item against the links (supplier -> buyer up to depth - 1 links, sub-agent ->
agency up to three) finds the tier-1 factories that lead to it, and the affiliates buying there
(or buying the brand) are the candidates; without an index, every affiliate holding a contract.
Each candidate's forward exposure decides, so a reverse answer always agrees with the forward
answer (same tier, same path). With `only` (an affiliate's key), that one affiliate is walked and no
candidate is looked for: nothing about any other affiliate is computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from supplygraph.graph.errors import InvalidParameter, NotFound
from supplygraph.graph.stores.protocol import Store
from supplygraph.queries import cypher
from supplygraph.queries.basis import BASES, at_least, check_basis
from supplygraph.queries.cycle_pause import cycles_paused
from supplygraph.queries.exposure import check_depth
from supplygraph.queries.steps import CypherSteps, steps_for
from supplygraph.queries.walk import MAX_AGENCY_HOPS, walk_exposure

KINDS = {"factory": ("Factory", "factories"), "agency": ("Agency", "agencies"), "finding": ("Finding", "findings")}


@dataclass
class ExposedAffiliates:
    kind: str
    item: dict[str, Any]
    as_of: date
    affiliates: list[dict[str, Any]]
    leverage: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "item": self.item,
            "as_of": self.as_of.isoformat(),
            "count": len(self.affiliates),
            "affiliates": self.affiliates,
            "leverage": self.leverage,
        }


@cycles_paused
def exposed_affiliates(
    store: Store,
    kind: str,
    item_id: str,
    as_of: date,
    depth: int = 4,
    *,
    only: str | None = None,
    min_basis: str | None = None,
) -> ExposedAffiliates:
    """Affiliates exposed to item `item_id` of `kind` on `as_of`; with `only`, that affiliate if it is."""
    if kind not in KINDS:
        raise InvalidParameter("kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    check_depth(depth)
    minimum = check_basis(min_basis)
    label, section = KINDS[kind]
    found = store.run(cypher.NODE_EXISTS[label], {"id": item_id})
    if not found:
        raise NotFound(f"no {kind} with id {item_id!r}")
    affiliates = []
    value: dict[str, float] = {}
    counts = dict.fromkeys(BASES, 0)
    steps = steps_for(store)  # one generation's steps for the candidates and every walk
    candidates = [only] if only is not None else candidate_affiliates(store, kind, item_id, as_of, depth, steps=steps)
    for candidate in candidates:
        walk = walk_exposure(steps, candidate, as_of, depth, upto=section)
        if kind == "finding":
            route = walk.findings[item_id][0] if item_id in walk.findings else None
        else:
            route = getattr(walk, section).get(item_id)
        if route is None:
            continue
        entry: dict[str, Any] = {"id": walk.affiliate["id"], "name": walk.affiliate["name"], "path": list(route.path)}
        if kind == "factory":
            entry["tier"] = walk.tiers[item_id]
        entry["basis"] = _basis(walk, kind, item_id)
        if not at_least(entry["basis"], minimum):
            continue
        counts[entry["basis"]] += 1
        entry["sources"] = list(route.sources)
        contract = route.path[1] if len(route.path) > 1 else None
        terms = walk.contracts.get(contract or "", {})
        entry["contract"] = {"id": contract, "value": terms.get("value"), "currency": terms.get("currency")}
        if terms.get("value") is not None and terms.get("currency"):
            value[terms["currency"]] = value.get(terms["currency"], 0.0) + float(terms["value"])
        affiliates.append(entry)
    return ExposedAffiliates(
        kind=kind,
        item={"id": found[0]["id"], "name": found[0]["name"]},
        as_of=as_of,
        affiliates=affiliates,
        leverage={
            "affiliates": len(affiliates),
            "contract_value": dict(sorted(value.items())),
            "by_basis": counts,  # affiliates per basis of their path (strongest first)
        },
    )


def _basis(walk: Any, kind: str, item_id: str) -> str:
    if kind == "factory":
        return str(walk.basis[item_id])
    if kind == "agency":
        return str(walk.agency_basis[item_id])
    row = walk.findings[item_id][1]
    subject = {"factory": walk.basis, "agency": walk.agency_basis, "company": walk.company_basis}[row["subject_type"]]
    return str(subject[row["subject_id"]])


def candidate_affiliates(
    store: Store, kind: str, item_id: str, as_of: date, depth: int, *, steps: CypherSteps | None = None
) -> list[str]:
    """Every affiliate that may be exposed to the item (a superset of the answer), in id order."""
    index = (steps or steps_for(store)).index
    if index is None:
        return [row["id"] for row in store.run(cypher.AFFILIATES_WITH_CONTRACTS)]
    params = {"as_of": as_of}
    targets: set[str] = set()
    buyers: set[str] = set()
    subject_type, subject = kind, item_id
    if kind == "finding":
        found = store.run(cypher.FINDING_BY_ID, {"id": item_id})
        subject_type, subject = (found[0]["subject_type"], found[0]["subject_id"]) if found else ("", "")
    if subject_type == "factory":
        targets = {subject}
    elif subject_type == "agency":
        targets = index.factories_reaching(subject, MAX_AGENCY_HOPS, as_of)
    elif subject_type == "company":
        targets = index.factories_operated_by(subject)
        for text in cypher.AFFILIATES_BUYING_BRAND:
            buyers.update(row["affiliate"] for row in store.run(text, {**params, "company": subject}))
        buyers |= index.buyers_of_brands({subject}, as_of)  # a brand found from brand_name, description, supplier
    if targets:
        tier_one = index.supply_walk.upstream(targets, depth - 1, as_of)
        for text in cypher.AFFILIATES_BUYING_AT_FACTORIES:
            buyers.update(row["affiliate"] for row in store.run(text, params) if row["factory"] in tier_one)
        # brand lists: buyers of the items of a brand listing one of those sites (a component site is at
        # tier 2, so within depth - 1 links as well)
        listing = {brand for _f, brand, _s in index.listing.active(sorted(tier_one), as_of)}
        buyers |= index.buyers_of_brands(listing, as_of)
    return sorted(buyers)
