"""Where people land after logging in: investigators (and researchers, admins) on the overview of the whole
graph, an affiliate's key on its own exposure summary, never on the overview.

The overview (queries/overview.py) ranks the open findings by affiliates exposed and their contract value,
counts the graph and lists the bundles loaded. It walks every buying affiliate once, so it is kept per
graph generation and day (an immutable generation never changes) under a slot of the caller's key, as
exposure drawings are.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from supplygraph.api.keys import Principal, Role
from supplygraph.api.ui.labels import short
from supplygraph.graph.errors import NotFound
from supplygraph.queries.exposure import exposure_for_affiliate
from supplygraph.queries.overview import overview

from . import network, pages
from .guard import guarded, parse_day, parse_int

FINDINGS_SHOWN = 50  # ranked findings listed on the overview; the count says how many more are open
router = APIRouter()


class ViewCache:
    """Answers of immutable generations for the overview and summary pages, least recently used out first."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        if key[0]:  # a store that cannot name its generation is not cached
            with self._lock:
                self._items[key] = value
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return value


_cache_lock = threading.Lock()


def view_cache(request: Request) -> ViewCache:
    state = request.app.state
    with _cache_lock:
        found = getattr(state, "ui_views", None)
        if found is None:
            found = state.ui_views = ViewCache()
    return found  # type: ignore[no-any-return]


def cached(request: Request, caller: Principal, what: tuple[Any, ...], make: Callable[[Any], Any]) -> Any:
    """`make(store)` for `what` in this generation, from the cache or made under a slot of the caller's key."""
    app_state = pages.app_state(request)
    with app_state.access.use() as store:
        key = (store.generation, *what)

        def made() -> Any:
            app_state.fairness.take(caller.key_id, "threads")
            try:
                return make(store)
            finally:
                app_state.fairness.give_back(caller.key_id, "threads")

        return view_cache(request).get_or_make(key, made)


def money(values: dict[str, float]) -> str:
    """Contract value per currency in one line: 1,250,000 EUR + 300,000 GBP."""
    return " + ".join(f"{v:,.0f} {c}" for c, v in values.items()) or "—"


def landing(caller: Principal) -> str:
    if caller.role == Role.affiliate:
        return f"/ui/summary/affiliate/{quote(caller.affiliate_id or '', safe='')}"
    return "/ui/overview"


@router.get("/")
def home(request: Request) -> Response:
    return guarded(request, lambda caller: RedirectResponse(landing(caller), status_code=303))


@router.get("/overview")
def overview_page(request: Request, as_of: str | None = None) -> Response:
    def work(caller: Principal) -> Response:
        if caller.role == Role.affiliate:  # an affiliate's key never sees the whole graph: its own summary
            return RedirectResponse(landing(caller), status_code=303)
        day = parse_day(as_of)
        found = cached(request, caller, ("overview", day), lambda store: overview(store, day))
        reaching = [f for f in found.findings if f["affiliates"]]
        return pages.page(request, "overview.html", caller, overview=found, day=day.isoformat(),
                          findings=reaching[:FINDINGS_SHOWN], reaching=len(reaching), money=money,
                          severity_colours=network.SEVERITY_COLOURS)

    return guarded(request, work)


@router.get("/summary/affiliate/{id_:entity_id}")
def summary_page(request: Request, id_: str, as_of: str | None = None, depth: str | None = None) -> Response:
    """An affiliate's exposure in counts and findings (most severe first), with links to each finding's view."""

    def work(caller: Principal) -> Response:
        if caller.role == Role.affiliate and id_ != caller.affiliate_id:
            raise NotFound("not visible")
        day = parse_day(as_of)
        d = parse_int(depth, 4, "depth", 1, pages.app_state(request).settings.max_depth)
        answer = cached(request, caller, ("summary", id_, day, d),
                        lambda store: exposure_for_affiliate(store, id_, day, d).as_json())
        return pages.page(request, "summary.html", caller, answer=answer, item_id=id_, day=day.isoformat(),
                          depth=d, short=short, severity_colours=network.SEVERITY_COLOURS)

    return guarded(request, work)
