"""What every /ui page shares: the templates, the page headers, who is calling (from the session cookie).

Pages send a Content-Security-Policy allowing nothing but this origin, and `Referrer-Policy: same-origin`
(not `no-referrer`: with it, browsers send `Origin: null` on a same-origin form post, and the login's
origin check (api/ui/login.py) could not tell it from a cross-site one).
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from supplygraph.api.deps import AppState
from supplygraph.api.keys import Principal

from . import exports
from .sessions import Sessions, sessions_for

COOKIE = "sg_ui_session"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

templates = Jinja2Templates(env=exports.templates_env())
_sessions_lock = threading.Lock()


class LoginNeeded(Exception):
    pass


def app_state(request: Request) -> AppState:
    return request.app.state.supplygraph  # type: ignore[no-any-return]


def sessions(request: Request) -> Sessions:
    """The app's session store (beside its key file), made on first use."""
    state = request.app.state
    with _sessions_lock:
        found = getattr(state, "ui_sessions", None)
        if found is None:
            settings = app_state(request).settings
            found = state.ui_sessions = sessions_for(app_state(request).keyring, settings.ui_session_hours)
    return found  # type: ignore[no-any-return]


def caller(request: Request) -> Principal:
    """The principal of the request's live session; LoginNeeded when there is none."""
    session_id = request.cookies.get(COOKIE)
    found = sessions(request).lookup(session_id) if session_id else None
    if found is None:
        raise LoginNeeded
    return found


def page(request: Request, name: str, who: Principal | None, status: int = 200, **context: Any) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, {"caller": who, **context}, status_code=status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response
