"""The HTTP API: `create_app(settings, store)` builds it; `supplygraph serve` runs it with uvicorn.

Keys are sent as `Authorization: Bearer sg_...` (see api/keys.py and `supplygraph keys`); roles and
what each sees are described in api/deps.py and the routers. Every error is a problem details object
(api/problems.py). The OpenAPI schema is at /openapi.json, the docs at /docs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from supplygraph.api import problems
from supplygraph.api.deps import AppState, ExposureCache, StoreAccess
from supplygraph.api.docs_pages import NoSniff, install_docs
from supplygraph.api.fairness import fairness_for
from supplygraph.api.keys import KeyRing, Keys
from supplygraph.api.problems import MEDIA_TYPE
from supplygraph.api.routers import (
    affiliates,
    cypher,
    entities,
    health,
    loads,
    paths,
    queries,
    reverse,
    schema,
    watches,
)
from supplygraph.api.sandbox import Sandbox
from supplygraph.api.shared_keys import keyring_for
from supplygraph.api.ui.routes import router as ui_router
from supplygraph.api.ui.timeline import router as timeline_router
from supplygraph.api.watches.service import watch_service_for
from supplygraph.graph.errors import SupplygraphError
from supplygraph.graph.settings import Settings
from supplygraph.graph.stores import open_store
from supplygraph.graph.stores.protocol import Store
from supplygraph.graph.temp_folders import remove_stale_temp_folders

GENERATION_POLL_S = 1.0

DESCRIPTION = """Which public buyers are exposed to which factories, recruitment agencies and findings, through which
path, backed by which source.

Send an API key as `Authorization: Bearer KEY` (`supplygraph keys create --role ROLE`). Roles:
**affiliate** (its own exposure only; anything about another affiliate answers 404),
**investigator** (reads everything), **researcher** (investigator plus read-only Cypher),
**admin** (researcher plus loads). Errors are problem details (`application/problem+json`)."""


async def warm_new_generations(access: StoreAccess, every_s: float = GENERATION_POLL_S) -> None:
    """When a load completes, build the new generation's exposure index at once, so that the first
    request after it does not wait for it (requests use the new generation from the start anyway)."""
    seen = await run_in_threadpool(access.current_generation)
    while True:
        await asyncio.sleep(every_s)
        try:
            now = await run_in_threadpool(access.current_generation)
            if now is not None and now != seen:
                await run_in_threadpool(access.warm)
            seen = now
        except SupplygraphError:
            continue  # the store is away for now (Neo4j restarting): the next request says so


def create_app(
    settings: Settings | None = None,
    store: Store | None = None,
    *,
    keyring: Keys | None = None,
    warm: bool = True,
) -> FastAPI:
    """The app over `store` (default: from settings and NEO4J_URI). A store passed in is not closed by the app."""
    settings = settings or Settings()
    owns_store = store is None
    store = store if store is not None else open_store(default_db=settings.db)
    root = store.data_folder
    access = StoreAccess(store)
    sandbox = Sandbox(
        store.worker_config(),
        workers=settings.cypher_workers,
        memory_bytes=settings.cypher_memory_mb * 2**20,
        buffer_pool_bytes=settings.cypher_buffer_pool_mb * 2**20,
        max_bytes=settings.cypher_max_bytes,
    )
    app_state = AppState(
        settings=settings,
        access=access,
        keyring=keyring or keyring_for(settings, store, root),
        sandbox=sandbox,
        exposure_cache=ExposureCache(settings.exposure_cache_mb * 2**20),
        fairness=fairness_for(settings),
    )

    shared = app_state.keyring if not isinstance(app_state.keyring, KeyRing) else None  # keys in Neo4j
    watching = watch_service_for(app_state.keyring.path, access.use, shared)  # api/watches/runner.py

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        remove_stale_temp_folders()  # uploads and loads of a server that crashed or was killed
        watcher = None
        if warm:
            await run_in_threadpool(access.warm)
            watcher = asyncio.create_task(warm_new_generations(access))
        watching.start()
        try:
            yield
        finally:
            watching.stop()
            if watcher is not None:
                watcher.cancel()
            sandbox.close()
            app_state.fairness.close()
            access.close(store=owns_store)

    app = FastAPI(
        title="supplygraph",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # install_docs serves /docs and /redoc from local files
        redoc_url=None,
    )
    app.state.supplygraph = app_state
    app.state.watches = watching
    app.add_middleware(
        BodyLimit,
        default=settings.max_body_kb * 1024,
        larger={"/v1/loads": settings.max_upload_mb * 2**20},
    )
    app.add_middleware(NoSniff)
    problems.install(app)
    install_docs(app)
    for module in (health, affiliates, reverse, entities, paths, queries, cypher, loads, schema, watches):
        app.include_router(module.router)
    app.include_router(ui_router)  # the browser views under /ui (api/ui/)
    app.include_router(timeline_router)  # /ui/timeline/{affiliate} (api/ui/timeline.py)
    _problem_media_types(app)
    return app


class BodyLimit:
    """Refuses request bodies above a size (413) before the app reads them; streamed bodies are cut off."""

    def __init__(self, app: ASGIApp, default: int, larger: dict[str, int]) -> None:
        self.app = app
        self.default = default
        self.larger = larger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.default)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            response = problems.problem(413, "Too large", f"request bodies here may have at most {limit:,} bytes")
            await response(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:  # a 413 problem from whoever reads the body (not a disconnect, which would be a 500)
                raise problems.ApiError(413, "Too large", f"request bodies here may have at most {limit:,} bytes")
            return message

        await self.app(scope, limited, send)


def _problem_media_types(app: FastAPI) -> None:
    """In the OpenAPI schema every 4xx/5xx answer is application/problem+json with the Problem schema."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        problem_ref = {"$ref": "#/components/schemas/Problem"}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    if status[0] in "45":
                        response["content"] = {MEDIA_TYPE: {"schema": problem_ref}}
        components = schema.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
