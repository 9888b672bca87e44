"""GET /v1/affiliates/{id}/exposure: the same JSON as `supplygraph exposure --json`.

An affiliate key sees only its own affiliate: any other id answers exactly as an unknown id does
(404, same text), so a key cannot even learn which ids exist. A consortium's own exposure already
includes what its members call off under its frameworks (queries/exposure.py).

A generation (a load) never changes, so encoded answers are cached per (generation, affiliate, day,
depth, provenance), gzip-compressed, and sent compressed to clients that accept it (X-Cache: hit or
miss). An answer not cached is computed in a worker process (api/walkers.py) under a slot of the
caller's key (api/fairness.py: 429 or 503 when there is none); `category` and `min_severity` filter
the findings afterwards. With `provenance=true` every item names the input records it came from (`origins`), and the answer those of
every other node and link on the paths (queries/provenance.py).
"""

from __future__ import annotations

import asyncio
import gzip
import json
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from supplygraph.api.deps import Caller, ExposureCache, State
from supplygraph.api.keys import Principal, Role
from supplygraph.api.models import Exposure
from supplygraph.api.routers.common import SEVERITY_RANK, AsOf, Depth, FindingCategory, PathId, Severity, problems
from supplygraph.api.walkers import exposure_answer, walker_config
from supplygraph.graph.errors import NotFound
from supplygraph.queries.basis import BASES, at_least
from supplygraph.queries.exposure import check_depth

router = APIRouter(tags=["exposure"])
Basis = StrEnum("Basis", {b: b for b in BASES})  # type: ignore[misc]


def not_found(affiliate_id: str) -> NotFound:
    return NotFound(f"no affiliate with id {affiliate_id!r}")  # the text queries/exposure.py uses


def check_own(caller: Principal, affiliate_id: str) -> None:
    if caller.role == Role.affiliate and affiliate_id != caller.affiliate_id:
        raise not_found(affiliate_id)


async def computed(app_state: State, caller: Principal, key: tuple[Any, ...]) -> bytes:
    """The answer for `key` (generation, affiliate, day, depth, provenance) not found in the cache.

    One being computed for another request is awaited (no slot). Else the walk is expensive: it takes a
    slot of the caller's key (waiting briefly, then 429; 503 when every walker is busy) and runs in a
    walker process; the answer is cached when it is done."""
    cached, fairness = app_state.exposure_cache, app_state.fairness
    generation = key[0]
    computing = cached.computing.get(key) if generation else None
    if computing is None:
        pool = await fairness.admit(caller.key_id, "walkers")
        body = cached.get(key) if generation else None  # answered, or started, while this one waited?
        computing = cached.computing.get(key) if generation else None
        if body is not None or computing is not None:
            fairness.give_back(caller.key_id, "walkers")
            if body is not None:
                return body
        if computing is None:
            config = walker_config(app_state.access.store, app_state.settings.walk_buffer_pool_mb * 2**20)
            computing = fairness.start(pool, caller, "walkers", exposure_answer, config, *key)
            if generation:
                cached.computing[key] = computing
                computing.add_done_callback(lambda done: _cache(cached, key, done))
    return await asyncio.shield(computing)


def _cache(cached: ExposureCache, key: tuple[Any, ...], done: asyncio.Future[bytes]) -> None:
    """An answer computed for `key` (generation, affiliate, day, depth, provenance) goes to the cache."""
    cached.computing.pop(key, None)
    if not done.cancelled() and done.exception() is None:
        cached.put(key, done.result())


def _json(body: bytes, request: Request, cache: str) -> Response:
    """Compressed JSON as it is to clients that accept gzip, else decompressed."""
    headers = {"X-Cache": cache, "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(body, media_type="application/json", headers={**headers, "Content-Encoding": "gzip"})
    return Response(gzip.decompress(body), media_type="application/json", headers=headers)


@router.get(
    "/v1/affiliates/{affiliate_id:entity_id}/exposure",
    response_model=Exposure,
    responses=problems(403, 404, 429),
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
    # A cached answer is sent from the event loop, taking no slot and no thread.
    generation = await app_state.access.generation_now()
    key = (generation, affiliate_id, day, depth, provenance)
    body = app_state.exposure_cache.get(key) if generation else None
    cache = "hit" if body is not None else "miss"
    if body is None:
        body = await computed(app_state, caller, key)
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
