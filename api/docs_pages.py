"""/docs (Swagger UI) and /redoc (ReDoc) with every file served by this app, and the nosniff header.

FastAPI's own pages load their scripts, styles, fonts and icon from a CDN; these load the copies that
the fastapi-offline wheel ships, from /docs/static, so the docs need no other site (and leak no visit
to one). The OpenAPI schema stays at /openapi.json. `NoSniff` adds `X-Content-Type-Options: nosniff`
to every response of the app, so that no browser runs a download or an error body as a script or page.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}


def install_docs(app: FastAPI) -> None:
    """Adds /docs, /redoc and their files (the app must be made with docs_url=None, redoc_url=None)."""
    schema = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=schema, title=f"{app.title} - API docs",
            swagger_js_url="/docs/static/swagger-ui-bundle.js", swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="/docs/static/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from the validator's site
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=schema, title=f"{app.title} - ReDoc", redoc_js_url="/docs/static/redoc.standalone.js",
            redoc_favicon_url="/docs/static/favicon.png", with_google_fonts=False,
        )

    @app.get("/docs/static/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        media = ASSET_TYPES.get(name)
        if media is None:
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(ASSETS / name, media_type=media, headers={"Cache-Control": "public, max-age=86400"})


class NoSniff:
    """Adds `X-Content-Type-Options: nosniff` to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-content-type-options"]
                message["headers"] = [*headers, (b"x-content-type-options", b"nosniff")]
            await send(message)

        await self.app(scope, receive, with_header)
