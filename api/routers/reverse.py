"""GET /v1/{factories|agencies|findings}/{id}/exposed-affiliates: who is exposed, through which path, leverage.

An affiliate key gets the same answer restricted to itself: it is listed if it is exposed, and the
leverage counts only it (queries.reverse.exposed_affiliates with a `visible` filter, so no other
affiliate's exposure is even computed).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import Caller, State
from api.keys import Role
from api.models import ExposedAffiliates
from api.routers.affiliates import Basis
from api.routers.common import AsOf, Depth, Limit, Offset, PathId, problems
from queries.exposure import check_depth
from queries.reverse import exposed_affiliates

router = APIRouter(tags=["exposure"])


def _endpoint(kind: str) -> Callable[..., dict[str, Any]]:
    def answer(
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
        own = caller.affiliate_id if caller.role == Role.affiliate else None
        visible = (lambda affiliate_id: affiliate_id == own) if caller.role == Role.affiliate else None
        with app_state.access.use() as store:
            found = exposed_affiliates(
                store,
                kind,
                item_id,
                as_of or date.today(),
                depth,
                visible=visible,
                min_basis=None if min_basis is None else min_basis.value,
            )
        full = found.as_json()
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
        f"Affiliates exposed to a {kind} on `as_of`, each with its path, sources and first contract, and the "
        "leverage: how many affiliates and their combined contract value per currency. An affiliate key "
        "sees only itself."
    )
    return answer


for _kind, _plural in (("factory", "factories"), ("agency", "agencies"), ("finding", "findings")):
    router.add_api_route(
        f"/v1/{_plural}/{{item_id}}/exposed-affiliates",
        _endpoint(_kind),
        methods=["GET"],
        response_model=ExposedAffiliates,
        response_model_exclude_unset=True,
        responses=problems(404),
        summary=f"Affiliates exposed to a {_kind}",
        name=f"exposed_affiliates_{_kind}",
        operation_id=f"exposed_affiliates_{_kind}",
    )
