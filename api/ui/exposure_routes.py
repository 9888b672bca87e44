"""The exposure views under /ui/exposure: an affiliate's, a factory's or an agency's exposure answers drawn by
tier, their answers in pages, and their exports. Drawings are cached per graph generation
(api/ui/drawing_cache.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from supplygraph.api.keys import Principal, Role
from supplygraph.graph.errors import NotFound

from . import exports, exposure_view, folded_routes, network, pages
from .drawing_cache import drawings
from .folded_view import with_links
from .guard import guarded, parse_day, parse_int
from .pages import templates

ANSWER_PAGE = 100  # answers listed beside an exposure drawing at first; the rest come on request

router = APIRouter()



def cached_exposure_drawing(
    request: Request, caller: Principal, kind: str, id_: str, as_of: str | None, depth: str | None
) -> network.Drawing:
    """The drawing of an exposure view, from the cache when this generation drew it already."""
    if kind not in network.EXPOSURE_KINDS:
        raise NotFound("no such view")
    own = caller.affiliate_id if caller.role == Role.affiliate else None
    if own is not None and kind == "affiliate" and id_ != own:
        raise NotFound("not visible")
    day = parse_day(as_of)
    app_state = pages.app_state(request)
    d = parse_int(depth, 4, "depth", 1, app_state.settings.max_depth)
    findings_allowed: set[str] | None = None
    if own is not None:  # an affiliate key: only what its own answer holds, checked before anything else
        findings_allowed = set()  # on its own view, the open findings of its answer are on its paths
        if kind != "affiliate":
            mine = cached_exposure_drawing(request, caller, "affiliate", own, as_of, depth)
            if id_ not in {a["id"] for a in mine.answers if a["kind"] == kind}:
                raise NotFound("not visible")
            findings_allowed = {a["id"] for a in mine.answers if a["kind"] == "finding"}
    cache = drawings(request)
    with app_state.access.use() as store:
        generation = store.generation
        key = (generation, kind, id_, day, d, own)  # an affiliate's key sees only its own paths
        drawing = cache.get(key) if generation else None
        if drawing is not None:
            return drawing
        # Expensive: a slot of the caller's key, as on /v1 (api/fairness.py), taken at once or refused
        # (429, or 503 when the server is busy), so no thread waits here behind another tenant's walks.
        app_state.fairness.take(caller.key_id, "threads")
        try:
            drawing = exposure_view.exposure_drawing(store, kind, id_, day, d, only=own, findings_allowed=findings_allowed)
        finally:
            app_state.fairness.give_back(caller.key_id, "threads")
    if generation:
        cache.put(key, drawing)
    return drawing


def _query(as_of: str | None, depth: str | None, **more: Any) -> str:
    return f"?as_of={as_of}" + (f"&depth={quote(depth)}" if depth else "") + "".join(
        f"&{k}={v}" for k, v in more.items())


def _more_answers(kind: str, id_: str, drawing: network.Drawing, query: str, offset: int) -> dict[str, Any] | None:
    left = len(drawing.answers) - offset
    if left <= 0:
        return None
    url = f"/ui/exposure/{kind}/{quote(id_, safe='')}/answers{query}&offset={offset}"
    return {"url": url, "left": left}


@router.get("/exposure/{kind}/{id_:entity_id}")
def exposure_page(request: Request, kind: str, id_: str, as_of: str | None = None, depth: str | None = None) -> Response:
    def work(caller: Principal) -> Response:
        if kind == "affiliate":  # folded and filtered (api/ui/folded_routes.py)
            filters = folded_routes.request_filters(request)
            folded = folded_routes.cached_folded_drawing(request, caller, id_, filters)
            query = filters.query(as_of=folded.as_of)
            more = _more_answers(kind, id_, folded, query, ANSWER_PAGE)
            return pages.page(request, "exposure_folded.html", caller, drawing=folded, kind=kind, item_id=id_,
                              query=query, answers=with_links(folded, folded.answers[:ANSWER_PAGE]), more_answers=more,
                              **folded_routes.form_choices(request, filters), **network.legend())
        drawing = cached_exposure_drawing(request, caller, kind, id_, as_of, depth)
        return pages.page(request, "exposure.html", caller, drawing=drawing, kind=kind, item_id=id_,
                     query=_query(drawing.as_of, depth), answers=drawing.answers[:ANSWER_PAGE],
                     more_answers=_more_answers(kind, id_, drawing, _query(drawing.as_of, depth), ANSWER_PAGE),
                     **network.legend())

    return guarded(request, work)


@router.get("/exposure/{kind}/{id_:entity_id}/answers")
def exposure_answers(
    request: Request, kind: str, id_: str, as_of: str | None = None, depth: str | None = None,
    offset: str | None = None,
) -> Response:
    """The next answers of an exposure view's side list, as list items: {"html": ..., "next": {url, left} | null}."""

    def work(caller: Principal) -> Response:
        items = "_answer_items.html"
        drawing: network.Drawing
        if kind == "affiliate":
            filters = folded_routes.request_filters(request)
            folded = drawing = folded_routes.cached_folded_drawing(request, caller, id_, filters)
            query, items = filters.query(as_of=drawing.as_of), "_folded_answer_items.html"
            start = parse_int(offset, ANSWER_PAGE, "offset", 0, 10_000_000)
            answers = with_links(folded, folded.answers[start:start + 5 * ANSWER_PAGE])
        else:
            drawing = cached_exposure_drawing(request, caller, kind, id_, as_of, depth)
            query = _query(drawing.as_of, depth)
            start = parse_int(offset, ANSWER_PAGE, "offset", 0, 10_000_000)
            answers = drawing.answers[start:start + 5 * ANSWER_PAGE]
        end = start + 5 * ANSWER_PAGE
        html = templates.env.get_template(items).render(answers=answers, severity_colours=network.SEVERITY_COLOURS)
        return JSONResponse({"html": html, "next": _more_answers(kind, id_, drawing, query, end)},
                            headers={"Cache-Control": "no-store"})

    return guarded(request, work, api=True)


@router.get("/exposure/{kind}/{id_:entity_id}/export.{fmt}")
def exposure_export(
    request: Request, kind: str, id_: str, fmt: str, as_of: str | None = None, depth: str | None = None
) -> Response:
    def work(caller: Principal) -> Response:
        drawing = cached_exposure_drawing(request, caller, kind, id_, as_of, depth)
        return exports.export_response(drawing, fmt, f"exposure-{kind}-{id_}-{drawing.as_of}")

    return guarded(request, work)
