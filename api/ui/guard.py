"""What every /ui route shares: the guard that finds the caller and turns errors into pages, and its
parameter parsing."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from supplygraph.api.keys import Principal, Role
from supplygraph.graph.errors import InvalidParameter, SupplygraphError

from . import pages
from .pages import LoginNeeded


def hidden_labels(caller: Principal) -> list[str]:
    return ["Affiliate"] if caller.role == Role.affiliate else []


def guarded(request: Request, work: Any, *, api: bool = False) -> Response:
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
    except SupplygraphError as exc:  # not found, a bad parameter, no graph, another load, a busy server...
        status = exc.http_status
        if caller.role == Role.affiliate and status == 404:
            message = "Not found, or not visible to this key."  # echo no id to affiliate keys
        else:
            message = str(exc)
        headers = getattr(exc, "headers", None) or {}  # Retry-After of a key past its bound or a busy server
        if api:
            return JSONResponse({"detail": message}, status_code=status, headers=headers)
        page = pages.page(request, "error.html", caller, status=status, message=message)
        page.headers.update(headers)
        return page



def parse_day(raw: str | None) -> date:
    if not raw:
        return date.today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidParameter("as_of", f"{raw!r} is not a date; expected YYYY-MM-DD") from None


def parse_int(raw: str | None, default: int, name: str, low: int, high: int) -> int:
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise InvalidParameter(name, f"{raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise InvalidParameter(name, f"must be between {low} and {high}, got {value}")
    return value
