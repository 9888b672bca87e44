"""GET /v1/affiliates/{id}/exposure: the same JSON as `supplygraph exposure --json`.

An affiliate key sees only its own affiliate: any other id answers exactly as an unknown id does
(404, same text), so a key cannot even learn which ids exist. A consortium's own exposure already
includes what its members call off under its frameworks (queries/exposure.py).

A generation (a load) never changes, so encoded answers are cached per (generation, affiliate, day,
depth, provenance), gzip-compressed, and sent compressed to clients that accept it (X-Cache: hit or
miss). An answer not cached is computed in a worker process (api/walkers.py) under a slot of the
caller's key (api/fairness.py: 429 or 503 when there is none); filters, pages and the CSV or XLSX
exports are made from it afterwards (queries/exposure_pages.py, api/answer_export.py). With `provenance=true` every item names the input records it came from (`origins`), and the answer those of
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
from supplygraph.api.answer_export import safe_name, to_csv, to_xlsx
from supplygraph.api.deps import Caller, ExposureCache, State
from supplygraph.api.keys import Principal, Role
from supplygraph.api.models import Exposure
from supplygraph.api.page_cursor import PageCursor, check_cursor, decode_cursor, question_digest
from supplygraph.api.routers.common import AsOf, Depth, FindingCategory, PathId, Severity, problems
from supplygraph.api.walkers import exposure_answer, walker_config
from supplygraph.graph.errors import InvalidParameter, NotFound
from supplygraph.queries.basis import BASES
from supplygraph.queries.exposure import check_depth
from supplygraph.queries.exposure_pages import filtered, page, parse_sections

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


ExportFormat = StrEnum("ExportFormat", {f: f for f in ("json", "csv", "xlsx")})  # type: ignore[misc]
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/v1/affiliates/{affiliate_id:entity_id}/exposure",
    response_model=Exposure,
    responses=problems(403, 404, 410, 429)
    | {200: {"content": {t: {} for t in EXPORT_TYPES.values()}, "description": "the answer (JSON, CSV or XLSX)"}},
    summary="What an affiliate is exposed to, with paths and sources",
)
async def exposure(
    affiliate_id: PathId,
    request: Request,
    caller: Caller,
    app_state: State,
    as_of: AsOf = None,
    depth: Depth = 4,
    category: Annotated[
        FindingCategory | None,
        Query(description="only findings of this category (one of the bundle format's finding categories)"),
    ] = None,
    min_severity: Annotated[
        Severity | None,
        Query(description="only findings at least this severe (low < medium < high < critical); "
              "a finding without a severity is left out"),
    ] = None,
    provenance: Annotated[
        bool, Query(description="name the input records behind every item, node and link on the paths")
    ] = False,
    min_basis: Annotated[
        Basis | None, Query(description="only factories, agencies and findings of this basis or stronger")
    ] = None,
    fields: Annotated[
        str | None,
        Query(
            max_length=100,
            pattern=r"^(findings|factories|agencies|gaps)(,(findings|factories|agencies|gaps))*$",
            description="the sections to return, comma-separated, of findings, factories, agencies, gaps (default "
            "all); the summary is always there",
        ),
    ] = None,
    limit: Annotated[
        int | None, Query(ge=1, le=100_000, description="at most this many items of each section (default all)")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="items of each section to skip")] = 0,
    cursor: Annotated[
        str | None,
        Query(max_length=300, description="`page.next_cursor` of the previous page, instead of `offset`: the pages "
              "then add up to one answer (410 once the graph was reloaded)"),
    ] = None,
    format: Annotated[
        ExportFormat,
        Query(description="json, or csv / xlsx: one row per item (section, id, name, tier, basis, path, sources...)"),
    ] = ExportFormat.json,  # type: ignore[attr-defined]
) -> Response:
    """The answer opens with a `summary` (counts by section, severity, category, tier, country and basis),
    then open findings (most severe first, then most recently reported, then by id in natural order: X2
    before X10), each with its monitor, summary, dates and `evidence` (its own sources' title, URL and
    date); then factories by tier, agencies and sub-agents, disclosure gaps, and `sources` (title, URL,
    date of every source named). Every item has its path from the affiliate and the sources behind it.

    `category` and `min_severity` filter the findings, `min_basis` every section but the gaps; the summary
    counts what the filters keep. `fields`, `limit` and `offset` cut a page out of each section asked for;
    `page` then says how many each has in all and where the next page starts, as `next_offset` and as
    `next_cursor` (pass it as `cursor`: the pages then come from one graph, or 410; the summary is never
    cut). `format=csv` or `xlsx` sends the same items as a table (filters and page applied). With
    `provenance=true`, items name the input records they came from (`origins`: file, format, record,
    day loaded) and `provenance` does the same for the paths' affiliate, contracts, products, companies
    and every link on them."""
    check_own(caller, affiliate_id)
    check_depth(depth, app_state.settings.max_depth)
    sections = parse_sections(fields)
    given = decode_cursor(cursor) if cursor is not None else None
    if given is not None and offset:
        raise InvalidParameter("cursor", "give a cursor or an offset, not both")
    day = as_of or (given.day if given is not None else date.today())
    # A cached answer is sent from the event loop, taking no slot and no thread.
    generation = await app_state.access.generation_now()
    question = question_digest(depth=depth, category=category, min_severity=min_severity, min_basis=min_basis,
                               fields=fields, limit=limit, provenance=provenance)
    if given is not None:
        check_cursor(given, generation, day, question)
        offset = given.offset
    key = (generation, affiliate_id, day, depth, provenance)
    body = app_state.exposure_cache.get(key) if generation else None
    cache = "hit" if body is not None else "miss"
    if body is None:
        body = await computed(app_state, caller, key)
    whole = fields is None and limit is None and offset == 0
    filters = (category, min_severity, min_basis)
    if all(f is None for f in filters) and whole and format.value == "json":
        return _json(body, request, cache)
    answer = json.loads(gzip.decompress(body))
    if any(f is not None for f in filters):
        answer = filtered(
            answer,
            category=None if category is None else category.value,
            min_severity=None if min_severity is None else min_severity.value,
            min_basis=None if min_basis is None else min_basis.value,
        )
    if not whole:
        answer = page(answer, sections, limit, offset)
        following = answer["page"]["next_offset"]
        answer["page"]["next_cursor"] = None if following is None or not generation else PageCursor(
            generation, day, question, following).encode()
    if format.value == "json":
        return Response(json.dumps(answer, ensure_ascii=False, separators=(",", ":")), media_type="application/json")
    data = to_csv(answer) if format.value == "csv" else to_xlsx(answer)
    name = f"exposure-{safe_name(affiliate_id)}-{day.isoformat()}.{format.value}"
    return Response(data, media_type=EXPORT_TYPES[format.value],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
