"""POST /v1/cypher: read-only Cypher for researcher (and admin) keys, through the sandbox (api/sandbox.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import Researcher, State
from api.models import CypherIn, CypherOut
from api.routers.common import problems

router = APIRouter(tags=["cypher"])


@router.post("/v1/cypher", response_model=CypherOut, responses=problems(400, 403, 413, 504), summary="Read-only Cypher")
def run_cypher(body: CypherIn, caller: Researcher, app_state: State) -> dict[str, Any]:
    """Run a read-only query with $params. Allowed: MATCH, OPTIONAL MATCH, WHERE, WITH, UNWIND, RETURN,
    ORDER BY, SKIP, LIMIT, UNION, CASE, EXISTS/COUNT subqueries and built-in functions; anything that
    writes, reads files, calls procedures or changes settings is refused (400). The query runs in a
    separate process with CPU, memory and time limits: past `timeout_s` it is killed (504). At most
    `max_rows` rows come back (`truncated` says whether there were more)."""
    settings = app_state.settings
    timeout = min(body.timeout_s or settings.query_timeout_s, settings.query_timeout_s)
    max_rows = min(body.max_rows or settings.max_rows, settings.max_rows)
    return app_state.sandbox.run(  # type: ignore[no-any-return]
        body.query, body.params, timeout_s=timeout, max_rows=max_rows, generation=app_state.access.current_generation()
    )
