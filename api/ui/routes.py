"""Pages under /ui: login, search, entity, exposure views and their exports; every asset from /ui/static.

Exposure drawings are cached per graph generation (a generation never changes): the next request
for the same view, day, depth and visibility, its answer pages and its exports skip the walk.

The login page takes an API key and keeps it in a Secure, HttpOnly, SameSite=Strict cookie scoped to
/ui; each request looks the key up in the same key ring as the API, so roles and revocation apply at
once. Affiliate keys see their own affiliate only: any other affiliate's view, and every other entity
page, answers 404 exactly as an unknown id does; a factory or agency view lists only their own paths.
Pages send a Content-Security-Policy allowing nothing but this origin.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from contextlib import nullcontext
from datetime import date
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.deps import AppState
from api.keys import Principal, Role
from graph.errors import EmptyGraph, InvalidParameter, NotFound
from graph.schema import SCHEMA

from . import views

COOKIE = "sg_ui_key"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
STATIC_FILES = {
    "vis-network.min.js": (views.VIS_JS, "text/javascript"),
    "vis-network.css": (views.VIS_CSS, "text/css"),
    "ui.js": (views.STATIC / "ui.js", "text/javascript"),
    "ui.css": (views.STATIC / "ui.css", "text/css"),
}
ANSWER_PAGE = 100  # answers listed beside an exposure drawing at first; the rest come on request
EXPORTS = {"graphml": "application/graphml+xml", "json": "application/json", "html": "text/html"}

router = APIRouter(prefix="/ui", include_in_schema=False)
templates = Jinja2Templates(env=views.templates_env())


class LoginNeeded(Exception):
    pass


class DrawingCache:
    """Exposure drawings of immutable generations, least recently used out first.

    Bounded by an estimate of the memory they hold: twice their page JSON plus 2 kB an answer (a
    2,025-node drawing with 1,984 answers holds 5.3 MB, estimated 4.9 MB), at most half the API's
    exposure_cache_mb.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[Any, ...], tuple[views.Drawing, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> views.Drawing | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: tuple[Any, ...], drawing: views.Drawing) -> None:
        size = 2 * len(drawing.script_data()) + 2048 * len(drawing.answers)
        if size > self.max_bytes // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes += size - (old[1] if old is not None else 0)
            self._items[key] = (drawing, size)
            while self._bytes > self.max_bytes and self._items:
                _key, (_drawing, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped


_cache_lock = threading.Lock()


def _drawings(request: Request) -> DrawingCache:
    state = request.app.state
    with _cache_lock:
        cache = getattr(state, "ui_drawings", None)
        if cache is None:
            cache = state.ui_drawings = DrawingCache(_state(request).settings.exposure_cache_mb * 2**19)
    return cache  # type: ignore[no-any-return]


def _state(request: Request) -> AppState:
    return request.app.state.supplygraph  # type: ignore[no-any-return]


def _caller(request: Request) -> Principal:
    key = request.cookies.get(COOKIE)
    found = _state(request).keyring.lookup(key) if key else None
    if found is None:
        raise LoginNeeded
    return found


def _hidden(caller: Principal) -> list[str]:
    return ["Affiliate"] if caller.role == Role.affiliate else []


def _page(request: Request, name: str, caller: Principal | None, status: int = 200, **context: Any) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, {"caller": caller, **context}, status_code=status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _guard(request: Request, work: Any, *, api: bool = False) -> Response:
    """Runs `work(caller)`; a missing key goes to the login page (401 for data calls), errors become pages."""
    try:
        caller = _caller(request)
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
        return _page(request, "error.html", caller, status=status, message=message)


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


@router.get("/login")
def login_page(request: Request, next: str = "/ui/") -> Response:
    return _page(request, "login.html", None, next=_safe_next(next), error=None)


def _safe_next(target: str) -> str:
    return target if target.startswith("/ui/") and not target.startswith("//") else "/ui/"


@router.post("/login")
async def login(request: Request) -> Response:
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    key = (form.get("key") or [""])[0].strip()
    target = _safe_next((form.get("next") or ["/ui/"])[0])
    found = _state(request).keyring.lookup(key) if key else None
    if found is None:
        return _page(request, "login.html", None, status=401, next=target, error="Unknown or revoked key.")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, key, path="/ui", secure=True, httponly=True, samesite="strict", max_age=8 * 3600)
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE, path="/ui", secure=True, httponly=True, samesite="strict")
    return response


@router.get("/")
def home(request: Request) -> Response:
    def work(caller: Principal) -> Response:
        if caller.role == Role.affiliate:
            return RedirectResponse(f"/ui/exposure/affiliate/{quote(caller.affiliate_id or '')}", status_code=303)
        return RedirectResponse("/ui/search", status_code=303)

    return _guard(request, work)


# ---------------------------------------------------------------- search and entities


@router.get("/search")
def search_page(request: Request, q: str = "") -> Response:
    def work(caller: Principal) -> Response:
        needle = q.strip().lower()[:200]
        groups: list[dict[str, Any]] = []
        if needle:
            with _state(request).access.use() as store:
                if caller.role == Role.affiliate:
                    groups = [g for g in views.search(store, needle) if g["type"] == "affiliate"]
                    for g in groups:
                        g["items"] = [i for i in g["items"] if i["id"] == caller.affiliate_id]
                        g["count"] = len(g["items"])
                    groups = [g for g in groups if g["count"]]
                else:
                    groups = views.search(store, needle)
        total = sum(g["count"] for g in groups)
        return _page(request, "search.html", caller, q=q, groups=groups, total=total)

    return _guard(request, work)


def _entity(request: Request, caller: Principal, type_: str, id_: str, depth: int) -> tuple[dict[str, Any], Any]:
    if caller.role == Role.affiliate and (type_ != "affiliate" or id_ != caller.affiliate_id):
        raise NotFound("not visible")
    redacted = {"parent_id"} if caller.role == Role.affiliate else set()
    with _state(request).access.use() as store:
        detail = views.entity_detail(store, type_, id_, _hidden(caller), redacted)
        drawing = views.neighbourhood_drawing(store, detail, depth, _hidden(caller))
    return detail, drawing


@router.get("/entity/{type_}/{id_:entity_id}")
def entity_page(request: Request, type_: str, id_: str, depth: str | None = None) -> Response:
    def work(caller: Principal) -> Response:
        d = _int(depth, 1, "depth", 1, 3)
        detail, drawing = _entity(request, caller, type_, id_, d)
        return _page(request, "entity.html", caller, entity=detail, drawing=drawing, depth=d,
                     exposure_kinds=views.EXPOSURE_KINDS, **_legend())

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
        label = views.LABELS.get(type_)
        if label is None or (caller.role == Role.affiliate and (type_ != "affiliate" or id_ != caller.affiliate_id)):
            raise NotFound("not visible")
        start = _int(offset, 0, "offset", 0, 1_000_000)
        builder = views.NetworkBuilder()
        with _state(request).access.use() as store:
            if not store.run(views.fill(views.q.NODE, label=label), {"id": id_}):
                raise NotFound("no such node")
            views.expand(store, builder, label, id_, _hidden(caller), start)
        return JSONResponse({"nodes": builder.nodes, "edges": builder.edges})

    return _guard(request, work, api=True)


# ---------------------------------------------------------------- exposure views


def _exposure(
    request: Request, caller: Principal, kind: str, id_: str, as_of: str | None, depth: str | None
) -> views.Drawing:
    """The drawing of an exposure view, from the cache when this generation drew it already."""
    if kind not in views.EXPOSURE_KINDS:
        raise NotFound("no such view")
    if caller.role == Role.affiliate and kind == "affiliate" and id_ != caller.affiliate_id:
        raise NotFound("not visible")
    own = caller.affiliate_id if caller.role == Role.affiliate else None
    visible = (lambda affiliate_id: affiliate_id == own) if own is not None else None
    day = _day(as_of)
    app_state = _state(request)
    d = _int(depth, 4, "depth", 1, app_state.settings.max_depth)
    cache = _drawings(request)
    with app_state.access.use() as store:
        generation = store.generation
        key = (generation, kind, id_, day, d, own)  # an affiliate's key sees only its own paths
        drawing = cache.get(key) if generation else None
        if drawing is not None:
            return drawing
        slots = getattr(app_state, "exposure_slots", None) or nullcontext()  # the walk is CPU-bound: bounded
        with slots:
            drawing = views.exposure_drawing(store, kind, id_, day, d, visible=visible)
    if generation:
        cache.put(key, drawing)
    return drawing


def _query(as_of: str | None, depth: str | None, **more: Any) -> str:
    return f"?as_of={as_of}" + (f"&depth={quote(depth)}" if depth else "") + "".join(
        f"&{k}={v}" for k, v in more.items())


def _more_answers(kind: str, id_: str, drawing: views.Drawing, depth: str | None, offset: int) -> dict[str, Any] | None:
    left = len(drawing.answers) - offset
    if left <= 0:
        return None
    url = f"/ui/exposure/{kind}/{quote(id_, safe='')}/answers" + _query(drawing.as_of, depth, offset=offset)
    return {"url": url, "left": left}


@router.get("/exposure/{kind}/{id_:entity_id}")
def exposure_page(request: Request, kind: str, id_: str, as_of: str | None = None, depth: str | None = None) -> Response:
    def work(caller: Principal) -> Response:
        drawing = _exposure(request, caller, kind, id_, as_of, depth)
        return _page(request, "exposure.html", caller, drawing=drawing, kind=kind, item_id=id_,
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
            answers=drawing.answers[start:end], severity_colours=views.SEVERITY_COLOURS)
        return JSONResponse({"html": html, "next": _more_answers(kind, id_, drawing, depth, end)},
                            headers={"Cache-Control": "no-store"})

    return _guard(request, work, api=True)


def _legend() -> dict[str, Any]:
    return {"severities": list(SCHEMA.enums["severity"]), "severity_colours": views.SEVERITY_COLOURS,
            "styles": views.STYLE, "type_names": views.TYPE_NAMES}


@router.get("/exposure/{kind}/{id_:entity_id}/export.{fmt}")
def exposure_export(
    request: Request, kind: str, id_: str, fmt: str, as_of: str | None = None, depth: str | None = None
) -> Response:
    def work(caller: Principal) -> Response:
        drawing = _exposure(request, caller, kind, id_, as_of, depth)
        return _export(drawing, fmt, f"exposure-{kind}-{id_}-{drawing.as_of}")

    return _guard(request, work)


def _export(drawing: views.Drawing, fmt: str, stem: str) -> Response:
    if fmt not in EXPORTS:
        raise NotFound("no such export format")
    if fmt == "graphml":
        body = views.to_graphml(drawing)
    elif fmt == "json":
        body = views.to_json(drawing)
    else:
        body = views.standalone_html(drawing).encode()
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
