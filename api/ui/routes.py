"""Pages under /ui: login, search, entity, exposure views and their exports; every asset from /ui/static.

Exposure drawings are cached per graph generation (api/ui/drawing_cache.py): the next request for the
same view, day, depth and visibility, its answer pages and its exports skip the walk.

Logging in (api/ui/login.py) makes a server-side session; each request finds its key through it, so
roles and revocation apply at once. Affiliate keys see their own affiliate only: any other affiliate's
view, and every other entity page, answers 404 exactly as an unknown id does; what they are shown is
drawn from their own exposure answer and contracts (api/ui/tenancy.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from supplygraph.api.keys import Principal, Role
from supplygraph.graph.errors import InvalidParameter, NotFound
from supplygraph.graph.schema import SCHEMA
from supplygraph.queries import entity_cypher as q
from supplygraph.queries.entity_cypher import fill

from . import entity_view, exports, network, own_pages, pages, tenancy
from .exposure_routes import router as exposure_router
from .finding_view import router as finding_router
from .guard import guarded, hidden_labels, parse_int
from .login import router as login_router
from .overview import router as overview_router
from .review import router as review_router

STATIC_FILES = {
    "vis-network.min.js": (network.VIS_JS, "text/javascript"),
    "vis-network.css": (network.VIS_CSS, "text/css"),
    "ui.js": (network.STATIC / "ui.js", "text/javascript"),
    "exposure.js": (network.STATIC / "exposure.js", "text/javascript"),
    "ui.css": (network.STATIC / "ui.css", "text/css"),
    "overview.css": (network.STATIC / "overview.css", "text/css"),
}

router = APIRouter(prefix="/ui", include_in_schema=False)
router.include_router(login_router)
router.include_router(overview_router)  # /ui/ and /ui/overview, an affiliate's /ui/summary (api/ui/overview.py)
router.include_router(finding_router)  # /ui/exposure/finding/{id}, before the other exposure views (api/ui/finding_view.py)
router.include_router(exposure_router)  # /ui/exposure: exposure views (api/ui/exposure_routes.py)
router.include_router(review_router)  # /ui/review: review queues, split and move (api/ui/review.py)


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
            among = tenancy.own_nodes(own_pages.own_graph_of(request, caller)) if caller.role == Role.affiliate else None
            with pages.app_state(request).access.use() as store:
                groups = entity_view.search(store, needle, among=among, type_=label, country=where)
        total = sum(g["count"] for g in groups)
        return pages.page(request, "search.html", caller, q=q, groups=groups, total=total, type=label or "",
                          country=where or "", types=list(SCHEMA.nodes))

    return guarded(request, work)


def _entity(
    request: Request, caller: Principal, type_: str, id_: str, depth: int, as_of: str | None = None
) -> tuple[dict[str, Any], Any]:
    if caller.role == Role.affiliate:  # what its own answer names only (api/ui/own_pages.py), checked first
        label = entity_view.LABELS.get(type_)
        if label is None:
            raise NotFound("not visible")
        if not 1 <= depth <= 3:
            raise InvalidParameter("depth", f"must be between 1 and 3, got {depth}")
        graph = own_pages.own_graph_of(request, caller, as_of)  # its answer of that day (default today)
        visible = own_pages.own_visible(graph)
        if not visible.has(label, id_):
            raise NotFound("not visible")
        with pages.app_state(request).access.use() as store:
            detail = entity_view.entity_detail(store, type_, id_, hidden_labels(caller), {"parent_id"})
        detail = own_pages.own_detail(detail, visible)
        title = f"{label} {detail['name']} ({id_})"
        return detail, tenancy.own_neighbourhood(graph, title, depth, f"{label}:{id_}")
    with pages.app_state(request).access.use() as store:
        detail = entity_view.entity_detail(store, type_, id_, [], set())
        drawing = entity_view.neighbourhood_drawing(store, detail, depth, [])
    return detail, drawing


@router.get("/entity/{type_}/{id_:entity_id}")
def entity_page(
    request: Request, type_: str, id_: str, depth: str | None = None, as_of: str | None = None
) -> Response:
    def work(caller: Principal) -> Response:
        d = parse_int(depth, 1, "depth", 1, 3)
        detail, drawing = _entity(request, caller, type_, id_, d, as_of)
        return pages.page(request, "entity.html", caller, entity=detail, drawing=drawing, depth=d,
                     exposure_kinds=network.EXPOSURE_KINDS, **network.legend())

    return guarded(request, work)


@router.get("/entity/{type_}/{id_:entity_id}/export.{fmt}")
def entity_export(
    request: Request, type_: str, id_: str, fmt: str, depth: str | None = None, as_of: str | None = None
) -> Response:
    def work(caller: Principal) -> Response:
        _detail, drawing = _entity(request, caller, type_, id_, parse_int(depth, 1, "depth", 1, 3), as_of)
        return exports.export_response(drawing, fmt, f"{type_}-{id_}")

    return guarded(request, work)


@router.get("/api/neighbours/{type_}/{id_:entity_id}")
def neighbours(request: Request, type_: str, id_: str, offset: str | None = None) -> Response:
    """A page of a node's neighbours for the entity network, with an "and N more" node when more remain."""

    def work(caller: Principal) -> Response:
        label = entity_view.LABELS.get(type_)
        if label is None:
            raise NotFound("not visible")
        start = parse_int(offset, 0, "offset", 0, 1_000_000)
        builder = network.NetworkBuilder()
        if caller.role == Role.affiliate:  # pages of its own graph only
            graph = own_pages.own_graph_of(request, caller)
            if f"{label}:{id_}" not in graph.nodes:
                raise NotFound("not visible")
            tenancy.expand_own(graph, builder, f"{label}:{id_}", start)
            return JSONResponse({"nodes": builder.nodes, "edges": builder.edges})
        with pages.app_state(request).access.use() as store:
            if not store.run(fill(q.NODE, label=label), {"id": id_}):
                raise NotFound("no such node")
            entity_view.expand(store, builder, label, id_, hidden_labels(caller), start)
        return JSONResponse({"nodes": builder.nodes, "edges": builder.edges})

    return guarded(request, work, api=True)


# ---------------------------------------------------------------- assets


@router.get("/static/{name}")
def static(name: str) -> Response:
    found = STATIC_FILES.get(name)
    if found is None:
        return Response("not found", status_code=404, media_type="text/plain")
    path, media = found
    return FileResponse(path, media_type=media, headers={"Cache-Control": "public, max-age=3600"})
