"""/ui sessions and login CSRF, on both stores: the cookie is a session id, never the key; logout, expiry and
key revocation end a session; cross-site or origin-less posts to /ui/login and /ui/logout are refused (403)
and change nothing; an oversized login body is a clean 413; every response says nosniff; /docs and /redoc
load nothing from another site."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from supplygraph.api.keys import KeyRing
from supplygraph.api.ui.pages import COOKIE
from supplygraph.api.ui.sessions import SessionStore

from tests.test_ui_views import Ui, serve_ui

EXTERNAL = re.compile(r"""(?:src|href|url)\s*[=(]\s*["']?(?:https?:)?//""", re.I)


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def ui(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    yield from serve_ui(request.param, tmp_path_factory)


def session_of(client: TestClient) -> str:
    value = client.cookies.get(COOKIE, path="/ui")
    assert value, "no session cookie"
    return value


def new_key(ui: Ui, role: str = "investigator", affiliate: str | None = None) -> tuple[str, str]:
    key, info = ui.app.state.supplygraph.keyring.create(role, affiliate, "session test")
    return key, info.id


def logged_in(ui: Ui, key: str) -> TestClient:
    client = ui.client()
    answer = client.post("/ui/login", data={"key": key, "next": "/ui/search"})
    assert answer.status_code == 303, answer.text
    return client


def test_the_cookie_is_a_session_id_not_the_key(ui: Ui) -> None:
    key, _id = new_key(ui)
    client = logged_in(ui, key)
    session = session_of(client)
    assert session != key and key not in session and session.startswith("sgs_")
    stored = ui.app.state.ui_sessions.path.read_bytes()
    assert session.encode() not in stored and key.encode() not in stored  # only hashes are kept
    assert ui.app.state.ui_sessions.path.stat().st_mode & 0o077 == 0
    assert client.get("/ui/search").status_code == 200


def test_the_key_itself_as_a_cookie_is_refused(ui: Ui) -> None:
    key, _id = new_key(ui)
    client = ui.client()
    client.cookies.set(COOKIE, key, path="/ui")
    client.cookies.set("sg_ui_key", key, path="/ui")  # the old cookie, which held the key itself
    assert client.get("/ui/search").status_code == 303


def test_after_logout_the_old_cookie_is_refused(ui: Ui) -> None:
    key, _id = new_key(ui)
    client = logged_in(ui, key)
    old = session_of(client)
    assert client.post("/ui/logout").status_code == 303
    replay = ui.client()
    replay.cookies.set(COOKIE, old, path="/ui")
    answer = replay.get("/ui/search")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/ui/login")


def test_revoking_the_key_ends_its_sessions(ui: Ui) -> None:
    key, key_id = new_key(ui)
    client = logged_in(ui, key)
    session = session_of(client)
    ui.app.state.supplygraph.keyring.revoke(key_id)
    assert client.get("/ui/search").status_code == 303
    assert ui.app.state.ui_sessions.lookup(session) is None


def test_revoke_on_the_command_line_deletes_the_sessions(ui: Ui) -> None:
    from supplygraph.api.cli import app as cli
    from typer.testing import CliRunner

    key, key_id = new_key(ui)
    client = logged_in(ui, key)
    store = ui.app.state.ui_sessions
    session = session_of(client)
    keys_file = ui.app.state.supplygraph.keyring.path
    done = CliRunner().invoke(cli, ["keys", "revoke", key_id, "--keys", str(keys_file)])
    assert done.exit_code == 0, done.output
    with store._db() as conn:  # the row itself is gone, not only refused
        assert conn.execute("SELECT count(*) FROM ui_sessions WHERE key_id = ?", (key_id,)).fetchone()[0] == 0
    assert store.lookup(session) is None and client.get("/ui/search").status_code == 303


def test_an_expired_session_is_refused(ui: Ui) -> None:
    key, _id = new_key(ui)
    client = logged_in(ui, key)
    store = ui.app.state.ui_sessions
    clock = store.clock
    try:
        start = clock()
        store.clock = lambda: start + store.lifetime_s - 60
        assert client.get("/ui/search").status_code == 200
        store.clock = lambda: start + store.lifetime_s + 1
        assert client.get("/ui/search").status_code == 303
    finally:
        store.clock = clock
    assert store.lifetime_s == 12 * 3600  # Settings.ui_session_hours


def test_cross_site_login_is_refused_and_keeps_the_session(ui: Ui) -> None:
    victim_key, _ = new_key(ui)
    attacker_key, _ = new_key(ui, "affiliate", "AF-DBH")
    client = logged_in(ui, victim_key)
    before = session_of(client)
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null", "Referer": "https://evil.example/page"},
        {"Origin": "https://testserver.evil.example"},
        {"Origin": "http://evil.example", "Referer": "https://testserver/ui/login"},  # Origin decides
    ):
        answer = client.post("/ui/login", data={"key": attacker_key, "next": "/ui/"}, headers=headers)
        assert answer.status_code == 403, headers
        assert "set-cookie" not in answer.headers
        assert session_of(client) == before
    bare = TestClient(ui.app, base_url="https://testserver", follow_redirects=False)  # neither Origin nor Referer
    bare.cookies.set(COOKIE, before, path="/ui")
    answer = bare.post("/ui/login", data={"key": attacker_key})
    assert answer.status_code == 403 and "set-cookie" not in answer.headers
    assert ui.app.state.ui_sessions.lookup(before) is not None
    assert client.get("/ui/search").status_code == 200  # still logged in as before
    # the same site by Referer alone (a browser that sent no Origin) is accepted
    ok = bare.post("/ui/login", data={"key": victim_key}, headers={"Referer": "https://testserver/ui/login"})
    assert ok.status_code == 303


def test_cross_site_logout_is_refused_and_keeps_the_session(ui: Ui) -> None:
    key, _ = new_key(ui)
    client = logged_in(ui, key)
    session = session_of(client)
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Referer": "http://evil.example/"}):
        client.headers.pop("Origin", None)
        answer = client.post("/ui/logout", headers=headers)
        assert answer.status_code == 403, headers
        assert "set-cookie" not in answer.headers
    client.headers.pop("Origin", None)
    assert client.post("/ui/logout").status_code == 403  # neither header
    assert ui.app.state.ui_sessions.lookup(session) is not None
    assert client.get("/ui/search").status_code == 200
    assert client.post("/ui/logout", headers={"Origin": "https://testserver"}).status_code == 303
    assert ui.app.state.ui_sessions.lookup(session) is None


def test_login_pages_send_a_referrer_policy_that_keeps_the_origin(ui: Ui) -> None:
    page = ui.client().get("/ui/login")
    assert page.headers["referrer-policy"] == "same-origin"  # no-referrer makes browsers send Origin: null


def test_an_oversized_login_body_is_a_clean_413(ui: Ui) -> None:
    client = ui.client()
    limit = ui.app.state.supplygraph.settings.max_body_kb * 1024

    def chunks(size: int) -> Iterator[bytes]:  # no Content-Length: sent chunked, cut off by the app's body limit
        sent = 0
        while sent < size:
            yield b"key=" + b"x" * 65536
            sent += 65540

    for body in (chunks(limit + 10), chunks(20_000)):
        answer = client.post("/ui/login", content=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert answer.status_code == 413, answer.text[:300]
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "Traceback" not in answer.text and answer.json()["status"] == 413


def test_every_response_says_nosniff(ui: Ui) -> None:
    client = ui.client("investigator")
    for url in ("/healthz", "/openapi.json", "/docs", "/redoc", "/ui/login", "/ui/search", "/ui/static/ui.js",
                "/v1/entities", "/nowhere", "/ui/entity/factory/FA-NOPE"):
        assert client.get(url).headers.get("x-content-type-options") == "nosniff", url


def test_docs_load_nothing_from_another_site(ui: Ui) -> None:
    client = ui.client()
    assert client.get("/openapi.json").json()["info"]["title"] == "supplygraph"
    for url in ("/docs", "/redoc"):
        page = client.get(url)
        assert page.status_code == 200
        assert not EXTERNAL.search(page.text), EXTERNAL.search(page.text)
        for asset in re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", page.text):
            answer = client.get(asset)
            assert answer.status_code == 200 and len(answer.content) > 1000, asset
    assert "https://" not in client.get("/docs").text.replace("https://testserver", "")


def test_a_logout_in_another_server_process_ends_the_session_here(tmp_path: Path) -> None:
    """uvicorn --workers N: each process caches live sessions; a logout in one ends the session in all."""
    ring = KeyRing(tmp_path / "keys.sqlite")
    key, _info = ring.create("investigator", name="two workers")
    here, there = SessionStore(ring, 3600.0), SessionStore(KeyRing(ring.path), 3600.0)
    principal = ring.lookup(key)
    assert principal is not None
    session = here.create(principal)
    assert here.lookup(session) == principal and there.lookup(session) == principal  # both cached now
    there.end(session)
    assert here.lookup(session) is None and there.lookup(session) is None
