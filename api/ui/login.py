"""Log in and out of the /ui pages, refusing cross-site requests (login CSRF).

Every state-changing request of the UI (both are POSTs) must come from a page of this site: its
`Origin` header, or when that is absent or `null` its `Referer`, must name this host (the `Host`
header the browser sent). A request with neither is refused too (403), so a form on another site can
neither log a user in with the attacker's key nor log them out. Login makes a server-side session
(api/ui/sessions.py); the cookie carries only its random id: HttpOnly, SameSite=Strict, scoped to /ui,
and Secure when the page was served over https. Logout deletes the session, so an old cookie is dead.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.requests import ClientDisconnect
from supplygraph.api.problems import problem

from .pages import COOKIE, page, sessions

router = APIRouter()
MAX_LOGIN_BODY = 8 * 1024  # a key and a path: a login form is far below this


def same_site(request: Request) -> bool:
    """Whether the request's Origin (else Referer) names this host; False when both are missing."""
    host = (request.headers.get("host") or "").lower()
    for header in ("origin", "referer"):
        value = request.headers.get(header)
        if not value or value == "null":
            continue
        parts = urlsplit(value)
        return bool(host) and parts.scheme in ("http", "https") and parts.netloc.lower() == host
    return False


def cross_site(request: Request) -> Response:
    return page(request, "error.html", None, status=403,
                message="Refused: this request did not come from a page of this site.")


def safe_next(target: str) -> str:
    return target if target.startswith("/ui/") and not target.startswith("//") else "/ui/"


@router.get("/login")
def login_page(request: Request, next: str = "/ui/") -> Response:
    return page(request, "login.html", None, next=safe_next(next), error=None)


async def read_form(request: Request, limit: int = MAX_LOGIN_BODY) -> dict[str, list[str]] | None:
    """A posted form, read up to `limit` bytes; None when it is larger or the body was cut off."""
    body = b""
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return None
    except ClientDisconnect:  # the app's body limit cut a streamed body off, or the client left
        return None
    return parse_qs(body.decode("utf-8", "replace"))


@router.post("/login")
async def login(request: Request) -> Response:
    if not same_site(request):
        return cross_site(request)
    form = await read_form(request)
    if form is None:
        return problem(413, "Too large", f"a login form has at most {MAX_LOGIN_BODY:,} bytes")
    key = (form.get("key") or [""])[0].strip()
    target = safe_next((form.get("next") or ["/ui/"])[0])
    state = request.app.state.supplygraph
    found = state.keyring.lookup(key) if key else None
    if found is None:
        return page(request, "login.html", None, status=401, next=target, error="Unknown or revoked key.")
    store = sessions(request)
    old = request.cookies.get(COOKIE)
    if old:
        store.end(old)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, store.create(found), path="/ui", secure=request.url.scheme == "https",
                        httponly=True, samesite="strict", max_age=int(store.lifetime_s))
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    if not same_site(request):
        return cross_site(request)
    session_id = request.cookies.get(COOKIE)
    if session_id:
        sessions(request).end(session_id)
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE, path="/ui", secure=request.url.scheme == "https", httponly=True, samesite="strict")
    return response
