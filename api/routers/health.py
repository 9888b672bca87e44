"""GET /healthz: no key needed; says which store answers and which generation."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import State
from api.models import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz(app_state: State) -> Health:
    access = app_state.access
    return Health(status="ok", store=access.store.dialect, generation=access.current_generation())
