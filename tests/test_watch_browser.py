"""The timeline page in headless Chromium (as tests/test_ui_browser.py): drawn, events listed, nothing from outside."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from supplygraph.api.app import create_app
from supplygraph.api.keys import KeyRing
from supplygraph.api.watches.runner import evaluate_watches
from supplygraph.graph.settings import Settings
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.changes import Question

from tests import test_ui_browser as ui_browser
from tests.conftest import DEMO
from tests.test_api_access import open_test_store
from tests.test_ui_browser import Served, login, serve, shot

browser, page = ui_browser.browser, ui_browser.page  # its fixtures, over this module's `served`


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp(f"timeline-{request.param}")
    store = open_test_store(request.param, folder)
    load_bundles(store, [DEMO])
    keyring = KeyRing(folder / "keys.sqlite")
    keys = {"AF-LIN": keyring.create("affiliate", "AF-LIN", "Lindenfluh")[0]}
    app = create_app(Settings(db=folder / "db"), store, keyring=keyring)
    server, thread, base = serve(app)
    watching = app.state.watches
    watch = watching.watches.create("affiliate:AF-LIN", None, Question("affiliate", "AF-LIN"), None)[0]
    for day in (date(2023, 1, 1), date(2026, 6, 1)):
        evaluate_watches(store, watching.watches, day, only=[watch.id])
    try:
        yield Served(base, keys, request.param)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


def test_timeline_and_changes(page: Any, served: Served) -> None:
    login(page, served, "AF-LIN")
    page.goto(f"{served.base}/ui/exposure/affiliate/AF-LIN")
    page.click("#timeline-link")
    page.wait_for_selector("#timeline svg")
    assert page.locator("#timeline svg rect title").count() > 10
    assert page.locator("#changes li").count() > 3
    assert "finding" in page.inner_text("#changes") and "path: AF-LIN" in page.inner_text("#changes")
    page.set_viewport_size({"width": 1000, "height": 900})
    shot(page, served, "ui-timeline.png")
