"""GET /healthz: no key needed; says which store answers and which generation.

Answered from the event loop (the embedded store: one stat() of CURRENT), so it takes no thread and
never waits behind expensive requests (api/fairness.py); Neo4j's generation is one small query.
"""

from __future__ import annotations

from fastapi import APIRouter
from supplygraph.api.deps import State
from supplygraph.api.models import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz(app_state: State) -> Health:
    access = app_state.access
    return Health(status="ok", store=access.store.dialect, generation=await access.generation_now())
