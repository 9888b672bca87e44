"""GET /v1/queries and POST /v1/queries/{name}: the named query registry (queries/registry.py) over HTTP.

Affiliate keys may list and run three of them, about themselves only: `exposure` and
`contracts_of_affiliate` for their own affiliate id (any other id answers 404, as an unknown one),
and `exposed_affiliates` for an item of their own exposure answer, which lists only themselves. Every other query needs an investigator key.
Ids that name no node answer 404 (affiliate_id, factory_id, and the item of exposed_affiliates).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from supplygraph.api.deps import Caller, State
from supplygraph.api.keys import Principal, Role
from supplygraph.api.models import Exposure
from supplygraph.api.problems import forbidden
from supplygraph.api.resource_models import ExposedAffiliatesAnswer, QueryList, Rows
from supplygraph.api.routers.affiliates import check_own
from supplygraph.api.routers.common import problems
from supplygraph.api.tenancy import check_reachable
from supplygraph.graph.errors import InvalidParameter
from supplygraph.queries.registry import QUERIES, NamedQuery, check_named_ids, get_query
from supplygraph.queries.reverse import exposed_affiliates

router = APIRouter(tags=["queries"])
FOR_AFFILIATES = ("exposure", "exposed_affiliates", "contracts_of_affiliate")


def _allowed(caller: Principal) -> list[NamedQuery]:
    if caller.role == Role.affiliate:
        return [QUERIES[name] for name in FOR_AFFILIATES if name in QUERIES]
    return list(QUERIES.values())


@router.get("/v1/queries", response_model=QueryList, responses=problems(), summary="The named queries")
def list_queries(caller: Caller) -> dict[str, Any]:
    """The named queries this key may run, with their typed parameters."""
    items = [query.describe() for query in _allowed(caller)]
    return {"count": len(items), "items": items}


@router.post(
    "/v1/queries/{name}",
    response_model=Exposure | ExposedAffiliatesAnswer | Rows,
    response_model_exclude_unset=True,
    responses=problems(403, 404, 429),
    summary="Run a named query",
)
async def run_query(
    name: Annotated[str, Path(min_length=1, max_length=100)],
    caller: Caller,
    app_state: State,
    params: Annotated[dict[str, Any] | None, Body(description="the query's parameters by name")] = None,
) -> dict[str, Any]:
    """Run one named query with its parameters as a JSON object, e.g. {"affiliate_id": "AF-LIN"}."""
    query = get_query(name)
    if query not in _allowed(caller):
        raise forbidden(f"query {name!r} needs an investigator key")
    raw = dict(params or {})
    booleans = {p.name for p in query.params if p.type == "bool"}
    for key, value in raw.items():
        if isinstance(value, bool) and key in booleans:
            continue
        if isinstance(value, bool) or (value is not None and not isinstance(value, str | int)):
            raise InvalidParameter(key, "must be a string or a whole number")
    parsed = query.parse(raw)
    if caller.role == Role.affiliate and "affiliate_id" in parsed:
        check_own(caller, parsed["affiliate_id"])

    if caller.role == Role.affiliate and name == "exposed_affiliates":  # only items of its own answer
        await check_reachable(app_state, caller, parsed["kind"], parsed["item_id"], parsed["as_of"], parsed["depth"])

    def compute() -> dict[str, Any]:
        with app_state.access.use() as store:
            check_named_ids(store, parsed)
            if name == "exposed_affiliates" and caller.role == Role.affiliate:
                return exposed_affiliates(store, **parsed, only=caller.affiliate_id).as_json()
            return query.run(store, parsed)  # type: ignore[no-any-return]

    return await app_state.fairness.run(caller, compute)  # expensive: api/fairness.py
