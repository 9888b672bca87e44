"""POST /v1/cypher: read-only Cypher for researcher (and admin) keys, through the sandbox (api/sandbox/).

A query is expensive (api/fairness.py): it takes a slot of the caller's key (429 beyond) and a sandbox
worker (503 when all are busy), both at once or not at all; no thread waits for either.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from supplygraph.api.deps import Researcher, State
from supplygraph.api.resource_models import CypherIn, CypherOut
from supplygraph.api.routers.common import problems
from supplygraph.api.sandbox import check_query

router = APIRouter(tags=["cypher"])


@router.post(
    "/v1/cypher", response_model=CypherOut, responses=problems(400, 403, 413, 429, 504), summary="Read-only Cypher"
)
async def run_cypher(body: CypherIn, caller: Researcher, app_state: State) -> dict[str, Any]:
    """Run a read-only query with $params. Allowed: MATCH, OPTIONAL MATCH, WHERE, WITH, UNWIND, RETURN,
    ORDER BY, SKIP, LIMIT, UNION, CASE, EXISTS/COUNT subqueries and built-in functions; anything that
    writes, reads files, calls procedures or changes settings is refused (400). The query runs in a
    separate process with CPU, memory and time limits: past `timeout_s` it is killed (504). At most
    `max_rows` rows come back (`truncated` says whether there were more). A key may have
    `expensive_per_key` expensive requests running at once (429 beyond, with Retry-After); when every
    sandbox worker is busy the answer is 503 with Retry-After."""
    settings = app_state.settings
    timeout = min(body.timeout_s or settings.query_timeout_s, settings.query_timeout_s)
    max_rows = min(body.max_rows or settings.max_rows, settings.max_rows)
    check_query(body.query)  # a refused query takes no slot
    generation = await app_state.access.generation_now()
    return await app_state.fairness.run(  # type: ignore[no-any-return]
        caller,
        app_state.sandbox.run,
        body.query,
        body.params,
        executor="sandbox",
        timeout_s=timeout,
        max_rows=max_rows,
        generation=generation,
    )
