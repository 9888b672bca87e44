"""The /ui pages in real headless Chromium (Debian's `chromium`, driven by Playwright), over the demo graph.

The app runs with uvicorn on a free loopback port, over each store. Every request the pages make is
recorded, and none may leave 127.0.0.1. Screenshots go to test-output/ (git-ignored; over Neo4j with a
neo4j- prefix). Without Chromium these tests are skipped on a laptop and fail in CI (CI=true).
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from supplygraph.api.app import create_app
from supplygraph.api.keys import KeyRing
from supplygraph.graph.settings import Settings
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO
from tests.test_api_access import open_test_store

CHROMIUM = os.environ.get("SUPPLYGRAPH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"
AS_OF = "2026-06-01"
LOCAL = {"127.0.0.1", "localhost"}


def _require_browser() -> Any:
    problem = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = "playwright is not installed (pip install -e '.[dev]')"
    if problem is None and not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        problem = "no Chromium at /usr/bin/chromium: apt-get install -y chromium"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    return sync_playwright


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    base: str
    keys: dict[str, str]
    store: str
    requests: list[str] = field(default_factory=list)


def serve(app: Any) -> tuple[Any, threading.Thread, str]:
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    _require_browser()
    folder = tmp_path_factory.mktemp(f"ui-browser-{request.param}")
    store = open_test_store(request.param, folder)
    load_bundles(store, [DEMO])
    keyring = KeyRing(folder / "keys.sqlite")
    keys = {"investigator": keyring.create("investigator", name="Investigator")[0]}
    for affiliate in ("AF-LIN", "AF-DBH"):
        keys[affiliate] = keyring.create("affiliate", affiliate, affiliate)[0]
    server, thread, base = serve(create_app(Settings(db=folder / "db"), store, keyring=keyring))
    try:
        yield Served(base, keys, request.param)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Any]:
    sync_playwright = _require_browser()
    with sync_playwright() as p:
        found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
        launched = p.chromium.launch(executable_path=found, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, served: Served) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    served.requests.clear()
    page.on("request", lambda request: served.requests.append(request.url))
    yield page
    context.close()
    outside = [u for u in served.requests if urlparse(u).scheme in ("http", "https", "ws", "wss")
               and urlparse(u).hostname not in LOCAL]
    assert not outside, f"requests left localhost: {outside}"
    assert all(urlparse(u).scheme in ("http", "data", "blob", "file") for u in served.requests), served.requests


def login(page: Any, served: Served, who: str) -> None:
    page.goto(f"{served.base}/ui/login")
    page.fill("#key", served.keys[who])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def drawn_nodes(page: Any) -> int:
    page.wait_for_selector("#network[data-drawn='1']", timeout=15_000)
    return int(page.evaluate("window.sg.nodes.length"))


def click_node(page: Any, node_id: str) -> None:
    """Clicks a node of the drawn network where vis-network placed it."""
    point = page.evaluate(
        """(id) => { const n = window.sg.network; n.focus(id, {scale: 1.0}); const p = n.getPosition(id);
                    const d = n.canvasToDOM(p); const r = document.getElementById('network').getBoundingClientRect();
                    return {x: r.left + d.x, y: r.top + d.y}; }""",
        node_id,
    )
    page.wait_for_timeout(100)
    page.mouse.click(point["x"], point["y"])


def shot(page: Any, served: Served, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / (name if served.store == "ladybug" else f"{served.store}-{name}")))


def test_login_search_entity_and_expand(page: Any, served: Served) -> None:
    page.goto(f"{served.base}/ui/search")
    assert "/ui/login" in page.url  # no cookie yet
    login(page, served, "investigator")
    page.goto(f"{served.base}/ui/search")
    page.fill("#q", "silver heron")
    page.press("#q", "Enter")
    page.wait_for_selector(".result-group[data-type='factory']")
    assert int(page.inner_text("#result-count").split()[0]) >= 3
    assert "CN" in page.inner_text(".result-group[data-type='factory']")
    shot(page, served, "ui-search.png")

    page.click("a.entity-link:text('FA-SH2')")
    page.wait_for_selector("#entity-title")
    assert "Silver Heron Assembly Plant 2" in page.inner_text("#entity-title")
    assert "FI-101" in page.inner_text("#findings") and "SRC-03" in page.inner_text("#sources")
    before = drawn_nodes(page)
    more = page.evaluate("window.sg.nodes.get().filter(n => n.sg_type === 'more').map(n => n.id)")
    assert more and before == 10  # the factory, 8 neighbours, "and 2 more"
    click_node(page, more[0])
    page.wait_for_selector("#network[data-expanded='1']:not([data-busy])")
    after = int(page.evaluate("window.sg.nodes.length"))
    assert after == before - 1 + 2  # the "more" node gave way to the two others
    click_node(page, "Company:CO-SHM")  # any other node shows its own neighbours
    page.wait_for_selector("#network[data-expanded='2']:not([data-busy])")
    assert int(page.evaluate("window.sg.nodes.length")) > after
    box = page.locator("#network").bounding_box()
    page.mouse.move(box["x"] + 8, box["y"] + box["height"] - 8)  # to an empty corner: no tooltip left open
    page.wait_for_timeout(600)
    shot(page, served, "ui-entity.png")


def test_exposure_view_date_and_exports(
    page: Any, served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from supplygraph.api.ui import exposure_routes as routes

    monkeypatch.setattr(routes, "ANSWER_PAGE", 4)  # the served app runs in this process
    login(page, served, "investigator")
    page.goto(f"{served.base}/ui/exposure/affiliate/AF-DBH?as_of={AS_OF}")
    now = drawn_nodes(page)
    assert page.locator("#answers li.answer").count() == 4
    page.click("#more-answers")  # the rest of the side list
    page.wait_for_selector("#more-answers", state="detached")
    answers = page.locator("#answers li.answer").count()
    assert now > 5 and answers > 4
    levels = page.evaluate("Object.fromEntries(window.sg.nodes.get().map(n => [n.id, n.level]))")
    assert levels["Affiliate:AF-DBH"] == 0
    # Drawn where the server placed them: x by level, and no physics moved them.
    xs = page.evaluate("Object.fromEntries(Object.entries(window.sg.network.getPositions()).map(([k, p]) => [k, p.x]))")
    assert all((xs[a] < xs[b]) == (levels[a] < levels[b]) for a in xs for b in xs)
    assert "Sources:" in page.inner_text("#answers")
    corner = {"x": 3, "y": 3}  # the item's text, not one of its links (which open entity pages)
    page.locator("#answers li.answer").last.click(position=corner)  # one of those added later
    assert page.evaluate("window.sg.network.getSelectedNodes().length") > 1
    page.locator("#answers li.answer").first.click(position=corner)
    assert page.evaluate("window.sg.network.getSelectedNodes().length") > 1
    page.wait_for_timeout(200)
    shot(page, served, "ui-exposure.png")

    page.fill("#as_of", "2021-01-01")
    page.click("#as-of-form button")
    page.wait_for_url("**as_of=2021-01-01**")
    then = drawn_nodes(page)
    assert then != now
    assert page.input_value("#as_of") == "2021-01-01"
    shot(page, served, "ui-exposure-2021.png")

    page.goto(f"{served.base}/ui/exposure/affiliate/AF-DBH?as_of={AS_OF}")
    drawn_nodes(page)
    with page.expect_download() as graphml:
        page.click("#export-graphml")
    assert "<graphml" in Path(graphml.value.path()).read_text()
    with page.expect_download() as as_json:
        page.click("#export-json")
    assert '"nodes"' in Path(as_json.value.path()).read_text()
    with page.expect_download() as offline:
        page.click("#export-html")
    standalone = tmp_path / "offline.html"
    offline.value.save_as(standalone)
    page.goto(standalone.as_uri())
    assert drawn_nodes(page) == now
    shot(page, served, "ui-offline.png")


def test_affiliate_key_cannot_open_another_affiliates_view(page: Any, served: Served) -> None:
    login(page, served, "AF-LIN")
    assert page.url.endswith("/ui/summary/affiliate/AF-LIN")  # it lands on its own summary
    page.click("#exposure-link")
    assert drawn_nodes(page) > 3
    answer = page.goto(f"{served.base}/ui/exposure/affiliate/AF-DBH?as_of={AS_OF}")
    assert answer is not None and answer.status == 404
    assert "AF-DBH" not in page.inner_text("main")
    answer = page.goto(f"{served.base}/ui/entity/factory/FA-SH2")
    assert answer is not None and answer.status == 404
    cookie = next(c for c in page.context.cookies() if c["name"] == "sg_ui_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["secure"] == served.base.startswith("https:")  # Secure when served over https
    assert cookie["value"] not in served.keys.values()  # a session id, not the API key
    assert page.evaluate("document.cookie") == ""


def answer_with(body: str, route: Any) -> None:
    route.fulfill(body=body, content_type="text/html")


def test_a_form_on_another_site_can_neither_log_in_nor_log_out(page: Any, served: Served) -> None:
    """Login CSRF: a page elsewhere auto-submits a form with the attacker's key, or to /ui/logout."""
    login(page, served, "investigator")
    session = next(c for c in page.context.cookies() if c["name"] == "sg_ui_session")["value"]
    elsewhere = "http://localhost:9/attack.html"  # another origin, answered by the browser itself
    for action, fields in (("login", f'<input name="key" value="{served.keys["AF-LIN"]}">'), ("logout", "")):
        form = (f'<form method="post" action="{served.base}/ui/{action}">{fields}</form>'
                "<script>document.forms[0].submit()</script>")
        page.route(elsewhere, functools.partial(answer_with, form))
        with page.expect_response(f"{served.base}/ui/{action}") as posted:
            page.goto(elsewhere)
        assert posted.value.status == 403
        page.unroute(elsewhere)
        assert next(c for c in page.context.cookies() if c["name"] == "sg_ui_session")["value"] == session
        answer = page.goto(f"{served.base}/ui/search")  # still the investigator's session
        assert answer is not None and answer.status == 200 and page.url.endswith("/ui/search")
