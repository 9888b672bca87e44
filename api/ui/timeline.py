"""/ui/timeline/{affiliate}: the affiliate's exposure per month as SVG, and its watches' change events.

An affiliate key sees only its own affiliate (any other answers 404, as an unknown id); the drawing
comes from its own exposure answers, and the events from the watches of that affiliate's exposure
that the key may see (api/watches/access.py). Drawings are kept per generation, affiliate and depth.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from supplygraph.api.keys import Principal, Role
from supplygraph.api.watches.access import sees_all, tenant_of
from supplygraph.graph.errors import EmptyGraph, InvalidParameter, NotFound

from . import pages
from .pages import LoginNeeded
from .timeline_svg import timeline, timeline_svg

router = APIRouter(prefix="/ui", include_in_schema=False)
EVENTS_SHOWN = 100
CACHED = 64
_drawings: OrderedDict[tuple[Any, ...], str] = OrderedDict()
_lock = threading.Lock()


def drawing(request: Request, affiliate_id: str, depth: int) -> str:
    """The SVG for the current generation (made once per generation, affiliate and depth)."""
    access = pages.app_state(request).access
    with access.use() as store:
        key = (store.generation, affiliate_id, depth, date.today())
        with _lock:
            found = _drawings.get(key)
        if found is None:
            found = timeline_svg(timeline(store, affiliate_id, depth, date.today()))
            with _lock:
                _drawings[key] = found
                while len(_drawings) > CACHED:
                    _drawings.popitem(last=False)
    return found


def events_of(request: Request, caller: Principal, affiliate_id: str) -> list[dict[str, Any]]:
    """The newest events of the watches on this affiliate's exposure that the caller may see."""
    service = getattr(request.app.state, "watches", None)
    if service is None:
        return []
    mine = [
        w
        for w in service.watches.watches(None if sees_all(caller) else tenant_of(caller))
        if w.kind == "affiliate" and w.target == affiliate_id
    ]
    found = [e for w in mine for e in service.watches.latest_events(w.id, EVENTS_SHOWN)]
    found.sort(key=lambda e: (e.get("recorded", ""), e["id"]), reverse=True)
    return found[:EVENTS_SHOWN]


@router.get("/timeline/{affiliate_id:entity_id}")
def timeline_page(request: Request, affiliate_id: str, depth: str | None = None) -> Response:
    try:
        caller = pages.caller(request)
    except LoginNeeded:
        return RedirectResponse(f"/ui/login?next={quote(request.url.path)}", status_code=303)
    try:
        if caller.role == Role.affiliate and affiliate_id != caller.affiliate_id:
            raise NotFound(f"no affiliate with id {affiliate_id!r}")
        levels = int(depth) if depth and depth.isdigit() else 4
        if not 1 <= levels <= 8:
            raise InvalidParameter("depth", f"must be between 1 and 8, got {levels}")
        svg = drawing(request, affiliate_id, levels)
        events = events_of(request, caller, affiliate_id)
    except (NotFound, InvalidParameter, EmptyGraph) as exc:
        status = 404 if isinstance(exc, NotFound) else 422 if isinstance(exc, InvalidParameter) else 503
        message = "Not found, or not visible to this key." if status == 404 else str(exc)
        return pages.page(request, "error.html", caller, status=status, message=message)
    return pages.page(request, "timeline.html", caller, affiliate_id=affiliate_id, svg=svg, events=events, depth=levels)
