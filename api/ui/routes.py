"""Pages under /ui: login, search, entity, exposure views and their exports; every asset from /ui/static.

Exposure drawings are cached per graph generation (api/ui/drawing_cache.py): the next request for the
same view, day, depth and visibility, its answer pages and its exports skip the walk.

Logging in (api/ui/login.py) makes a server-side session; each request finds its key through it, so
roles and revocation apply at once. Affiliate keys see their own affiliate only: any other affiliate's
view, and every other entity page, answers 404 exactly as an unknown id does; what they are shown is
drawn from their own exposure answer and contracts (api/ui/tenancy.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from supplygraph.api.fairness import ServerBusy, TooManyRequests
from supplygraph.api.keys import Principal, Role
from supplygraph.graph.errors import EmptyGraph, InvalidParameter, NotFound
from supplygraph.graph.schema import SCHEMA
from supplygraph.queries import entity_cypher as q
from supplygraph.queries.entity_cypher import fill

from . import entity_view, exports, exposure_view, network, pages, tenancy
from .drawing_cache import drawings
from .login import router as login_router
from .pages import LoginNeeded, templates
from .review import router as review_router

STATIC_FILES = {
    "vis-network.min.js": (network.VIS_JS, "text/javascript"),
    "vis-network.css": (network.VIS_CSS, "text/css"),
    "ui.js": (network.STATIC / "ui.js", "text/javascript"),
    "ui.css": (network.STATIC / "ui.css", "text/css"),
}
ANSWER_PAGE = 100  # answers listed beside an exposure drawing at first; the rest come on request
EXPORTS = {"graphml": "application/graphml+xml", "json": "application/json", "html": "text/html"}

router = APIRouter(prefix="/ui", include_in_schema=False)
router.include_router(login_router)
router.include_router(review_router)  # /ui/review: review queues, split and move (api/ui/review.py)


def _hidden(caller: Principal) -> list[str]:
    return ["Affiliate"] if caller.role == Role.affiliate else []


def _guard(request: Request, work: Any, *, api: bool = False) -> Response:
    """Runs `work(caller)`; a missing key goes to the login page (401 for data calls), errors become pages."""
    try:
        caller = pages.caller(request)
    except LoginNeeded:
        if api:
            return JSONResponse({"detail": "log in first"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/ui/login?next={quote(target)}", status_code=303)
    try:
        return work(caller)  # type: ignore[no-any-return]
    except (NotFound, InvalidParameter, EmptyGraph) as exc:
        status = 404 if isinstance(exc, NotFound) else 422 if isinstance(exc, InvalidParameter) else 503
        if caller.role == Role.affiliate and status == 404:
            message = "Not found, or not visible to this key."  # echo no id to affiliate keys
        else:
            message = str(exc)
        if api:
            return JSONResponse({"detail": message}, status_code=status)
        return pages.page(request, "error.html", caller, status=status, message=message)
    except (TooManyRequests, ServerBusy) as exc:  # an expensive view past its key's bound, or a busy server
        if api:
            return JSONResponse({"detail": str(exc)}, status_code=exc.http_status, headers=exc.headers)
        page = pages.page(request, "error.html", caller, status=exc.http_status, message=str(exc))
        page.headers.update(exc.headers)
        return page


def _day(raw: str | None) -> date:
    if not raw:
        return date.today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidParameter("as_of", f"{raw!r} is not a date; expected YYYY-MM-DD") from None


def _int(raw: str | None, default: int, name: str, low: int, high: int) -> int:
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise InvalidParameter(name, f"{raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise InvalidParameter(name, f"must be between {low} and {high}, got {value}")
    return value


# ---------------------------------------------------------------- login


@router.get("/")
def home(request: Request) -> Response:
    def work(caller: Principal) -> Response:
        if caller.role == Role.affiliate:
            return RedirectResponse(f"/ui/exposure/affiliate/{quote(caller.affiliate_id or '')}", status_code=303)
        return RedirectResponse("/ui/search", status_code=303)

    return _guard(request, work)


# ---------------------------------------------------------------- search and entities


@router.get("/search")
def search_page(request: Request, q: str = "", type: str = "", country: str = "") -> Response:
    def work(caller: Principal) -> Response:
        needle = q.strip()[:200]
        label = {lb.lower(): lb for lb in SCHEMA.nodes}.get(type.strip().lower())
        where = country.strip().upper()[:2] or None
        groups: list[dict[str, Any]] = []
        if needle or label or where:
            # an affiliate key searches only the nodes of its own graph (its exposure today and its contracts)
            among = tenancy.own_nodes(_own_graph(request, caller)) if caller.role == Role.affiliate else None
            with pages.app_state(request).access.use() as store:
                groups = entity_view.search(store, needle, among=among, type_=label, country=where)
        total = sum(g["count"] for g in groups)
        return pages.page(request, "search.html", caller, q=q, groups=groups, total=total, type=label or "",
                          country=where or "", types=list(SCHEMA.nodes))

    return _guard(request, work)


def _entity(request: Request, caller: Principal, type_: str, id_: str, depth: int) -> tuple[dict[str, Any], Any]:
    if caller.role == Role.affiliate and (type_ != "affiliate" or id_ != caller.affiliate_id):
        raise NotFound("not visible")
    if caller.role == Role.affiliate:
        if not 1 <= depth <= 3:
            raise InvalidParameter("depth", f"must be between 1 and 3, got {depth}")
        graph = _own_graph(request, caller)
        with pages.app_state(request).access.use() as store:
            detail = entity_view.entity_detail(store, type_, id_, _hidden(caller), {"parent_id"})
        title = f"Affiliate {detail['name']} ({id_})"
        return detail, tenancy.own_neighbourhood(graph, title, depth)
    with pages.app_state(request).access.use() as store:
        detail = entity_view.entity_detail(store, type_, id_, [], set())
        drawing = entity_view.neighbourhood_drawing(store, detail, depth, [])
    return detail, drawing


def _own_graph(request: Request, caller: Principal) -> tenancy.OwnGraph:
    """What an affiliate key's entity network may show: its exposure today and its contracts."""
    own = caller.affiliate_id or ""
    for depth in ("4", "3", "2", "1"):  # the default depth, or less when that drawing would be too large
        try:
            exposure = _exposure(request, caller, "affiliate", own, None, depth)
            break
        except InvalidParameter:
            if depth == "1":
                raise
    with pages.app_state(request).access.use() as store:
        rows = store.run(fill(q.NODE, label="Affiliate"), {"id": own})
        if not rows:
            raise NotFound("no such affiliate")
        name = str(rows[0]["node"].get("name") or own)
        return tenancy.own_graph(store, exposure, own, name)


@router.get("/entity/{type_}/{id_:entity_id}")
def entity_page(request: Request, type_: str, id_: str, depth: str | None = None) -> Response:
    def work(caller: Principal) -> Response:
        d = _int(depth, 1, "depth", 1, 3)
        detail, drawing = _entity(request, caller, type_, id_, d)
        return pages.page(request, "entity.html", caller, entity=detail, drawing=drawing, depth=d,
                     exposure_kinds=network.EXPOSURE_KINDS, **_legend())

    return _guard(request, work)


@router.get("/entity/{type_}/{id_:entity_id}/export.{fmt}")
def entity_export(request: Request, type_: str, id_: str, fmt: str, depth: str | None = None) -> Response:
    def work(caller: Principal) -> Response:
        _detail, drawing = _entity(request, caller, type_, id_, _int(depth, 1, "depth", 1, 3))
        return _export(drawing, fmt, f"{type_}-{id_}")

    return _guard(request, work)


@router.get("/api/neighbours/{type_}/{id_:entity_id}")
def neighbours(request: Request, type_: str, id_: str, offset: str | None = None) -> Response:
    """A page of a node's neighbours for the entity network, with an "and N more" node when more remain."""

    def work(caller: Principal) -> Response:
        label = entity_view.LABELS.get(type_)
        if label is None:
            raise NotFound("not visible")
        start = _int(offset, 0, "offset", 0, 1_000_000)
        builder = network.NetworkBuilder()
        if caller.role == Role.affiliate:  # pages of its own graph only
            graph = _own_graph(request, caller)
            if f"{label}:{id_}" not in graph.nodes:
                raise NotFound("not visible")
            tenancy.expand_own(graph, builder, f"{label}:{id_}", start)
            return JSONResponse({"nodes": builder.nodes, "edges": builder.edges})
        with pages.app_state(request).access.use() as store:
            if not store.run(fill(q.NODE, label=label), {"id": id_}):
                raise NotFound("no such node")
            entity_view.expand(store, builder, label, id_, _hidden(caller), start)
        return JSONResponse({"nodes": builder.nodes, "edges": builder.edges})

    return _guard(request, work, api=True)


# ---------------------------------------------------------------- exposure views


def _exposure(
    request: Request, caller: Principal, kind: str, id_: str, as_of: str | None, depth: str | None
) -> network.Drawing:
    """The drawing of an exposure view, from the cache when this generation drew it already."""
    if kind not in network.EXPOSURE_KINDS:
        raise NotFound("no such view")
    own = caller.affiliate_id if caller.role == Role.affiliate else None
    if own is not None and kind == "affiliate" and id_ != own:
        raise NotFound("not visible")
    day = _day(as_of)
    app_state = pages.app_state(request)
    d = _int(depth, 4, "depth", 1, app_state.settings.max_depth)
    findings_allowed: set[str] | None = None
    if own is not None:  # an affiliate key: only what its own answer holds, checked before anything else
        findings_allowed = set()  # on its own view, the open findings of its answer are on its paths
        if kind != "affiliate":
            mine = _exposure(request, caller, "affiliate", own, as_of, depth)
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


def _more_answers(kind: str, id_: str, drawing: network.Drawing, depth: str | None, offset: int) -> dict[str, Any] | None:
    left = len(drawing.answers) - offset
    if left <= 0:
        return None
    url = f"/ui/exposure/{kind}/{quote(id_, safe='')}/answers" + _query(drawing.as_of, depth, offset=offset)
    return {"url": url, "left": left}


@router.get("/exposure/{kind}/{id_:entity_id}")
def exposure_page(request: Request, kind: str, id_: str, as_of: str | None = None, depth: str | None = None) -> Response:
    def work(caller: Principal) -> Response:
        drawing = _exposure(request, caller, kind, id_, as_of, depth)
        return pages.page(request, "exposure.html", caller, drawing=drawing, kind=kind, item_id=id_,
                     query=_query(drawing.as_of, depth), answers=drawing.answers[:ANSWER_PAGE],
                     more_answers=_more_answers(kind, id_, drawing, depth, ANSWER_PAGE), **_legend())

    return _guard(request, work)


@router.get("/exposure/{kind}/{id_:entity_id}/answers")
def exposure_answers(
    request: Request, kind: str, id_: str, as_of: str | None = None, depth: str | None = None,
    offset: str | None = None,
) -> Response:
    """The next answers of an exposure view's side list, as list items: {"html": ..., "next": {url, left} | null}."""

    def work(caller: Principal) -> Response:
        drawing = _exposure(request, caller, kind, id_, as_of, depth)
        start = _int(offset, ANSWER_PAGE, "offset", 0, 10_000_000)
        end = start + 5 * ANSWER_PAGE
        html = templates.env.get_template("_answer_items.html").render(
            answers=drawing.answers[start:end], severity_colours=network.SEVERITY_COLOURS)
        return JSONResponse({"html": html, "next": _more_answers(kind, id_, drawing, depth, end)},
                            headers={"Cache-Control": "no-store"})

    return _guard(request, work, api=True)


def _legend() -> dict[str, Any]:
    return {"severities": list(SCHEMA.enums["severity"]), "severity_colours": network.SEVERITY_COLOURS,
            "styles": network.STYLE, "type_names": network.TYPE_NAMES}


@router.get("/exposure/{kind}/{id_:entity_id}/export.{fmt}")
def exposure_export(
    request: Request, kind: str, id_: str, fmt: str, as_of: str | None = None, depth: str | None = None
) -> Response:
    def work(caller: Principal) -> Response:
        drawing = _exposure(request, caller, kind, id_, as_of, depth)
        return _export(drawing, fmt, f"exposure-{kind}-{id_}-{drawing.as_of}")

    return _guard(request, work)


def _export(drawing: network.Drawing, fmt: str, stem: str) -> Response:
    if fmt not in EXPORTS:
        raise NotFound("no such export format")
    if fmt == "graphml":
        body = exports.to_graphml(drawing)
    elif fmt == "json":
        body = exports.to_json(drawing)
    else:
        body = exports.standalone_html(drawing).encode()
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)
    headers = {"Content-Disposition": f'attachment; filename="{safe}.{fmt}"', "Cache-Control": "no-store"}
    return Response(body, media_type=EXPORTS[fmt], headers=headers)


# ---------------------------------------------------------------- assets


@router.get("/static/{name}")
def static(name: str) -> Response:
    found = STATIC_FILES.get(name)
    if found is None:
        return Response("not found", status_code=404, media_type="text/plain")
    path, media = found
    return FileResponse(path, media_type=media, headers={"Cache-Control": "public, max-age=3600"})
