"""GET /v1/{factories|agencies|findings}/{id}/exposed-affiliates: who is exposed, through which path, leverage.

An affiliate key may ask only about the items of its own exposure answer (any other id answers 404, as
an unknown one: api/tenancy.py), and gets the same answer restricted to itself: the leverage counts only
it (queries.reverse.exposed_affiliates with `only`, so no other affiliate's exposure is even computed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from supplygraph.api.deps import Caller, State
from supplygraph.api.keys import Role
from supplygraph.api.models import ExposedAffiliates
from supplygraph.api.routers.affiliates import Basis
from supplygraph.api.routers.common import AsOf, Depth, Limit, Offset, PathId, problems
from supplygraph.api.tenancy import check_reachable
from supplygraph.queries.exposure import check_depth
from supplygraph.queries.reverse import exposed_affiliates

router = APIRouter(tags=["exposure"])


def _endpoint(kind: str) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def answer(
        item_id: PathId,
        caller: Caller,
        app_state: State,
        as_of: AsOf = None,
        depth: Depth = 4,
        limit: Limit = 100,
        offset: Offset = 0,
        min_basis: Annotated[
            Basis | None, Query(description="only affiliates exposed on this basis or a stronger one")
        ] = None,
    ) -> dict[str, Any]:
        check_depth(depth, app_state.settings.max_depth)
        day = as_of or date.today()
        await check_reachable(app_state, caller, kind, item_id, day, depth)  # affiliate keys: their own items only
        own = caller.affiliate_id if caller.role == Role.affiliate else None

        def compute() -> dict[str, Any]:
            with app_state.access.use() as store:
                found = exposed_affiliates(
                    store,
                    kind,
                    item_id,
                    day,
                    depth,
                    only=own,
                    min_basis=None if min_basis is None else min_basis.value,
                )
            return found.as_json()

        full = await app_state.fairness.run(caller, compute)  # expensive: api/fairness.py
        return {
            "kind": full["kind"],
            "item": full["item"],
            "as_of": full["as_of"],
            "leverage": full["leverage"],
            "count": full["count"],
            "limit": limit,
            "offset": offset,
            "items": full["affiliates"][offset : offset + limit],
        }

    answer.__doc__ = (
        f"Affiliates exposed to {article(kind)} {kind} on `as_of`, each with its path, sources and first contract, and the "
        "leverage: how many affiliates and their combined contract value per currency. An affiliate key "
        "sees only itself."
    )
    return answer


def article(noun: str) -> str:
    return "an" if noun[:1] in "aeiou" else "a"


for _kind, _plural in (("factory", "factories"), ("agency", "agencies"), ("finding", "findings")):
    router.add_api_route(
        f"/v1/{_plural}/{{item_id:entity_id}}/exposed-affiliates",
        _endpoint(_kind),
        methods=["GET"],
        response_model=ExposedAffiliates,
        response_model_exclude_unset=True,
        responses=problems(404, 429),
        summary=f"Affiliates exposed to {article(_kind)} {_kind}",
        name=f"exposed_affiliates_{_kind}",
        operation_id=f"exposed_affiliates_{_kind}",
    )
