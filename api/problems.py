"""Every error the API answers is a problem details object (RFC 9457): type, title, status, detail.

graph.errors classes carry their own http_status and title, so they are mapped here once. Validation
errors name the parameter; unknown routes are 404 problems; anything unexpected is a 500 problem
without a trace (it is logged server-side).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from supplygraph.graph.errors import BundleError, InvalidParameter, SupplygraphError

MEDIA_TYPE = "application/problem+json"
NOT_VISIBLE = "not found, or not visible to this key"
log = logging.getLogger("supplygraph.api")


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "error"


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": f"urn:supplygraph:problem:{slug(title)}", "title": title, "status": status}
    body["detail"] = detail
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=dict(headers or {}))


class ApiError(SupplygraphError):
    """An HTTP-only refusal (authentication, role) that graph/ has no class for."""

    def __init__(self, status: int, title: str, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.http_status = status
        self.title = title
        self.headers = dict(headers or {})


def unauthorized(detail: str, *, invalid: bool = False) -> ApiError:
    challenge = 'Bearer realm="supplygraph"' + (', error="invalid_token"' if invalid else "")
    return ApiError(401, "Unauthorized", detail, {"WWW-Authenticate": challenge})


def forbidden(detail: str) -> ApiError:
    return ApiError(403, "Forbidden", detail)


def _location(loc: tuple[Any, ...] | list[Any]) -> tuple[str, str]:
    """('query', 'depth') -> ('query parameter', 'depth'); body locations keep their path."""
    where = str(loc[0]) if loc else "request"
    name = ".".join(str(p) for p in loc[1:]) or where
    kind = {"query": "query parameter", "path": "path parameter", "header": "header", "body": "body field"}
    return kind.get(where, where), name


def install(app: FastAPI) -> None:
    @app.exception_handler(SupplygraphError)
    async def _supplygraph(request: Request, exc: SupplygraphError) -> JSONResponse:
        extra: dict[str, Any] = {}
        if isinstance(exc, InvalidParameter):
            extra["errors"] = [{"parameter": exc.parameter, "message": str(exc)}]
        if isinstance(exc, BundleError):
            extra["problems"] = [
                {"file": p.file, "line": p.line, "column": p.column, "message": p.message} for p in exc.problems[:500]
            ]
        headers = getattr(exc, "headers", None)
        detail = str(exc)
        caller = getattr(request.state, "principal", None)
        if exc.http_status == 404 and caller is not None and caller.affiliate_id is not None:
            detail = NOT_VISIBLE  # the same for unknown ids and other affiliates' ids, and echoes neither
        return problem(exc.http_status, exc.title, detail, headers=headers, extra=extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            kind, name = _location(err.get("loc", ()))
            errors.append({"parameter": name, "in": kind, "message": str(err.get("msg", "invalid"))})
        detail = "; ".join(f"{e['in']} '{e['parameter']}': {e['message']}" for e in errors) or "invalid request"
        return problem(422, "Invalid parameter", detail, extra={"errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = HTTPStatus(exc.status_code).phrase if exc.status_code in HTTPStatus._value2member_map_ else "Error"
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such resource; see /docs for the endpoints"
        return problem(exc.status_code, title, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(500, "Internal error", "the server failed to answer this request; it has been logged")
