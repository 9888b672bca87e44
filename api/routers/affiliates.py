"""GET /v1/affiliates/{id}/exposure: the same JSON as `supplygraph exposure --json`.

An affiliate key sees only its own affiliate: any other id answers exactly as an unknown id does
(404, same text), so a key cannot even learn which ids exist. A consortium's own exposure already
includes what its members call off under its frameworks (queries/exposure.py).

On the embedded store a generation never changes, so encoded answers are cached per
(generation, affiliate, day, depth), gzip-compressed, and sent compressed to clients that accept it
(X-Cache: hit or miss); `category` and `min_severity` filter the findings afterwards. With
`provenance=true` every item names the input records it came from (`origins`), and the answer those of
every other node and link on the paths (queries/provenance.py).
"""

from __future__ import annotations

import gzip
import json
from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import Caller, State
from api.keys import Principal, Role
from api.models import Exposure
from api.routers.common import SEVERITY_RANK, AsOf, Depth, FindingCategory, PathId, Severity, problems
from graph.errors import NotFound
from queries.basis import BASES, at_least
from queries.exposure import check_depth
from queries.registry import get_query

router = APIRouter(tags=["exposure"])
Basis = StrEnum("Basis", {b: b for b in BASES})  # type: ignore[misc]


def not_found(affiliate_id: str) -> NotFound:
    return NotFound(f"no affiliate with id {affiliate_id!r}")  # the text queries/exposure.py uses


def check_own(caller: Principal, affiliate_id: str) -> None:
    if caller.role == Role.affiliate and affiliate_id != caller.affiliate_id:
        raise not_found(affiliate_id)


def exposure_json(app_state: State, affiliate_id: str, day: date, depth: int, provenance: bool = False) -> bytes:
    """The answer as gzip-compressed JSON: computed (at most `exposure_threads` at once: the walk is
    CPU-bound) and cached. Compressed, a 100k-factory answer (~300 KB of JSON) takes a tenth of the room."""
    with app_state.exposure_slots, app_state.access.use() as store:
        generation = store.generation
        key = (generation, affiliate_id, day, depth, provenance)
        cached = app_state.exposure_cache.get(key) if generation else None
        if cached is not None:
            return cached
        params = {"affiliate_id": affiliate_id, "as_of": day, "depth": depth, "provenance": provenance}
        answer = get_query("exposure").run(store, params)
    body = gzip.compress(json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode(), compresslevel=1)
    if generation:
        app_state.exposure_cache.put(key, body)
    return body


def _json(body: bytes, request: Request, cache: str) -> Response:
    """Compressed JSON as it is to clients that accept gzip, else decompressed."""
    headers = {"X-Cache": cache, "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(body, media_type="application/json", headers={**headers, "Content-Encoding": "gzip"})
    return Response(gzip.decompress(body), media_type="application/json", headers=headers)


@router.get(
    "/v1/affiliates/{affiliate_id}/exposure",
    response_model=Exposure,
    responses=problems(403, 404),
    summary="What an affiliate is exposed to, with paths and sources",
)
async def exposure(
    affiliate_id: PathId,
    request: Request,
    caller: Caller,
    app_state: State,
    as_of: AsOf = None,
    depth: Depth = 4,
    category: Annotated[FindingCategory | None, Query(description="only findings of this category")] = None,
    min_severity: Annotated[Severity | None, Query(description="only findings at least this severe")] = None,
    provenance: Annotated[
        bool, Query(description="name the input records behind every item, node and link on the paths")
    ] = False,
    min_basis: Annotated[
        Basis | None, Query(description="only factories, agencies and findings of this basis or stronger")
    ] = None,
) -> Response:
    """Factories by tier, agencies and sub-agents, open findings and disclosure gaps on `as_of`, each with
    its path from the affiliate and the sources behind it. `category` and `min_severity` filter findings
    (a finding without a severity is left out by `min_severity`). With `provenance=true`, items name the
    input records they came from (`origins`: file, format, record, day loaded) and `provenance` does the
    same for the paths' affiliate, contracts, products, companies and every link on them."""
    check_own(caller, affiliate_id)
    check_depth(depth, app_state.settings.max_depth)
    day = as_of or date.today()
    # A cached answer is sent from the event loop; only a miss waits for a worker thread.
    generation = app_state.access.current_generation()
    body = app_state.exposure_cache.get((generation, affiliate_id, day, depth, provenance)) if generation else None
    cache = "hit" if body is not None else "miss"
    if body is None:
        body = await run_in_threadpool(exposure_json, app_state, affiliate_id, day, depth, provenance)
    if category is None and min_severity is None and min_basis is None:
        return _json(body, request, cache)
    answer = json.loads(gzip.decompress(body))
    if min_basis is not None:  # gaps are always listed
        for section in ("factories", "agencies", "findings"):
            answer[section] = [i for i in answer[section] if at_least(i["basis"], min_basis.value)]
    findings = answer["findings"]
    if category is not None:
        findings = [f for f in findings if f["category"] == category.value]
    if min_severity is not None:
        least = SEVERITY_RANK[min_severity.value]
        findings = [f for f in findings if SEVERITY_RANK.get(f["severity"], -1) >= least]
    answer["findings"] = findings
    return Response(json.dumps(answer, ensure_ascii=False, separators=(",", ":")), media_type="application/json")
