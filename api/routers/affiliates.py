"""GET /v1/affiliates/{id}/exposure: the same JSON as `supplygraph exposure --json`.

An affiliate key sees only its own affiliate: any other id answers exactly as an unknown id does
(404, same text), so a key cannot even learn which ids exist. A consortium's own exposure already
includes what its members call off under its frameworks (queries/exposure.py).

On the embedded store a generation never changes, so encoded answers are cached per
(generation, affiliate, day, depth); `category` and `min_severity` filter the findings afterwards.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import Caller, State
from api.keys import Principal, Role
from api.models import Exposure
from api.routers.common import SEVERITY_RANK, AsOf, Depth, FindingCategory, PathId, Severity, problems
from graph.errors import NotFound
from queries.exposure import check_depth
from queries.registry import get_query

router = APIRouter(tags=["exposure"])


def not_found(affiliate_id: str) -> NotFound:
    return NotFound(f"no affiliate with id {affiliate_id!r}")  # the text queries/exposure.py uses


def check_own(caller: Principal, affiliate_id: str) -> None:
    if caller.role == Role.affiliate and affiliate_id != caller.affiliate_id:
        raise not_found(affiliate_id)


def exposure_json(app_state: State, affiliate_id: str, day: date, depth: int) -> bytes:
    with app_state.access.use() as store:
        generation = store.generation
        key = (generation, affiliate_id, day, depth)
        cached = app_state.exposure_cache.get(key) if generation else None
        if cached is not None:
            return cached
        answer = get_query("exposure").run(store, {"affiliate_id": affiliate_id, "as_of": day, "depth": depth})
    body = json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()
    if generation:
        app_state.exposure_cache.put(key, body)
    return body


@router.get(
    "/v1/affiliates/{affiliate_id}/exposure",
    response_model=Exposure,
    responses=problems(403, 404),
    summary="What an affiliate is exposed to, with paths and sources",
)
def exposure(
    affiliate_id: PathId,
    caller: Caller,
    app_state: State,
    as_of: AsOf = None,
    depth: Depth = 4,
    category: Annotated[FindingCategory | None, Query(description="only findings of this category")] = None,
    min_severity: Annotated[Severity | None, Query(description="only findings at least this severe")] = None,
) -> Response:
    """Factories by tier, agencies and sub-agents, open findings and disclosure gaps on `as_of`, each with
    its path from the affiliate and the sources behind it. `category` and `min_severity` filter findings
    (a finding without a severity is left out by `min_severity`)."""
    check_own(caller, affiliate_id)
    check_depth(depth, app_state.settings.max_depth)
    body = exposure_json(app_state, affiliate_id, as_of or date.today(), depth)
    if category is None and min_severity is None:
        return Response(body, media_type="application/json")
    answer = json.loads(body)
    findings = answer["findings"]
    if category is not None:
        findings = [f for f in findings if f["category"] == category.value]
    if min_severity is not None:
        least = SEVERITY_RANK[min_severity.value]
        findings = [f for f in findings if SEVERITY_RANK.get(f["severity"], -1) >= least]
    answer["findings"] = findings
    return Response(json.dumps(answer, ensure_ascii=False, separators=(",", ":")), media_type="application/json")
