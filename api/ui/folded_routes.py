"""The folded, filtered view of an affiliate's exposure for the /ui/exposure/affiliate/ID routes: its filters
read from the request, its drawing cached per graph generation as the other drawings are, and what its page
template is given."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from supplygraph.api.keys import Principal, Role
from supplygraph.graph.errors import NotFound
from supplygraph.queries.basis import BASES
from supplygraph.queries.exposure_summary import SEVERITY_ORDER

from . import pages
from .drawing_cache import drawings
from .folded_view import FoldedDrawing, folded_drawing
from .guard import parse_day, parse_int
from .view_filters import CATEGORIES, ViewFilters, parse_filters


def request_filters(request: Request) -> ViewFilters:
    max_depth = pages.app_state(request).settings.max_depth
    return parse_filters(request.query_params, request.query_params.getlist("expand"), max_depth)


def cached_folded_drawing(request: Request, caller: Principal, id_: str, filters: ViewFilters) -> FoldedDrawing:
    """The folded view of affiliate `id_`'s exposure as `filters` ask; an affiliate's key sees only its own."""
    own = caller.affiliate_id if caller.role == Role.affiliate else None
    if own is not None and id_ != own:
        raise NotFound("not visible")
    day = parse_day(filters.as_of)
    app_state = pages.app_state(request)
    depth = parse_int(filters.depth, 4, "depth", 1, app_state.settings.max_depth)
    cache = drawings(request)
    with app_state.access.use() as store:
        generation = store.generation
        key = (generation, "folded", id_, day, depth, own, filters.key())
        cached = cache.get(key) if generation else None
        if isinstance(cached, FoldedDrawing):
            return cached
        app_state.fairness.take(caller.key_id, "threads")  # as every exposure drawing (exposure_routes.py)
        try:
            drawing = folded_drawing(store, id_, day, depth, filters, findings_allowed=set() if own else None)
        finally:
            app_state.fairness.give_back(caller.key_id, "threads")
    if generation:
        cache.put(key, drawing)
    return drawing


def form_choices(request: Request, filters: ViewFilters) -> dict[str, Any]:
    """What the view's filter form offers, and what is chosen."""
    return {"filters": filters, "severity_choices": list(reversed(SEVERITY_ORDER)), "categories": CATEGORIES,
            "bases": BASES, "max_depth": pages.app_state(request).settings.max_depth, "depth": filters.depth or "4"}
