"""The large exposure view in headless Chromium on the synthetic 10,000-factory graph (embedded store): A0's
view shows every open finding of its answer and the folded factory groups on first draw within 2 s, its
filters change the drawing as the exposure answer says, and a click on a node opens that node's page.

The oracle is A0's exposure answer from queries/ (computed before the app serves), filtered by
queries/exposure_pages.py; the view's time is from navigation to the drawing's "ready" state
(static/exposure.js), read from the browser's own clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from supplygraph.api.app import create_app
from supplygraph.api.keys import KeyRing
from supplygraph.graph.settings import Settings
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.exposure import exposure_for_affiliate
from supplygraph.queries.exposure_pages import filtered

from tests import test_ui_browser as ui_browser
from tests.test_ui_browser import OUTPUT, click_node, serve

AS_OF = "2026-06-01"
FIRST_DRAW_S = 2.0
VIEWPORT = {"width": 1280, "height": 800}


class Big:
    def __init__(self, base: str, keys: dict[str, str], answer: dict[str, Any]) -> None:
        self.base, self.keys, self.answer = base, keys, answer


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Big]:
    from benchmarks.synthetic import generate

    folder = tmp_path_factory.mktemp("ui-fold-10k")
    generate(folder / "bundle", factories=10_000)
    store = LadybugStore(folder / "db")
    load_bundles(store, [folder / "bundle"])
    answer = exposure_for_affiliate(store, "A0", date.fromisoformat(AS_OF), 4).as_json()
    keyring = KeyRing(folder / "keys.sqlite")
    keys = {"investigator": keyring.create("investigator", name="Investigator")[0],
            "A0": keyring.create("affiliate", "A0", "A0")[0]}
    server, thread, base = serve(create_app(Settings(db=folder / "db"), store, keyring=keyring))
    try:
        yield Big(base, keys, answer)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


browser = ui_browser.browser  # its fixture (skipped without Chromium), over this module's `served`


def logged_in(browser: Any, served: Big, who: str) -> Any:
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.goto(f"{served.base}/ui/login")
    page.fill("#key", served.keys[who])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def ready(page: Any) -> dict[str, Any]:
    page.wait_for_selector("#network[data-ready='1']", timeout=30_000)
    return page.evaluate(
        """() => { const nodes = window.sg.nodes.get();
          const pos = window.sg.network.getPositions(); const xs = Object.values(pos).map(p => p.x);
          const ys = Object.values(pos).map(p => p.y);
          const nav = performance.getEntriesByType('navigation')[0];
          return {readyAt: window.sg.readyAt, server: nav.responseStart, loaded: nav.domContentLoadedEventEnd,
                  drawn: window.sg.drawnSinceNavigation, bytes: nav.decodedBodySize, labelPx: window.sg.labelPx,
                  findings: nodes.filter(n => n.sg_type === 'finding' && !n.sg_muted).map(n => n.id.slice(8)),
                  folds: nodes.filter(n => n.sg_type === 'fold').map(n => [n.id, n.sg_count, n.label]),
                  factories: nodes.filter(n => n.sg_type === 'factory').map(n => n.id.slice(8)),
                  width: Math.max(...xs) - Math.min(...xs), height: Math.max(...ys) - Math.min(...ys)}; }""")


def test_first_draw_shows_every_open_finding_and_the_folded_factories(browser: Any, served: Big) -> None:
    """Drawn on three days, each the server's first drawing of that view, in a new browser context (empty
    cache): the fastest of the three must be within 2 s (on 2 CPUs shared with other work, one slow run
    says little); every figure is printed."""
    times = []
    for day in (AS_OF, "2026-06-02", "2026-06-03"):
        page = logged_in(browser, served, "investigator")
        page.goto(f"{served.base}/ui/exposure/affiliate/A0?as_of={day}")
        got = ready(page)
        times.append(got["readyAt"] / 1000)
        print(f"\nA0 on the 10k graph, as of {day}: ready {times[-1]:.2f} s from navigation (first byte"
              f" {got['server']:.0f} ms, page {got['bytes']:,} bytes, first drawing {got['drawn']:.0f} ms);"
              f" {len(got['factories'])} factories drawn, {len(got['folds'])} folded groups,"
              f" labels {got['labelPx']:.1f} px")
        if day == AS_OF:
            first = got
            OUTPUT.mkdir(exist_ok=True)
            page.screenshot(path=str(OUTPUT / "ui-exposure-folded.png"))
            page.click("#fit-all")
            page.screenshot(path=str(OUTPUT / "ui-exposure-folded-all.png"))
        page.context.close()
    assert set(first["findings"]) == {f["id"] for f in served.answer["findings"]}
    assert first["folds"] and all(label.startswith(f"{n:,} factor") for _k, n, label in first["folds"])
    every = {f["id"] for f in served.answer["factories"]}
    assert sum(n for _k, n, _l in first["folds"]) == len(every - set(first["factories"]))
    assert first["labelPx"] >= 11
    assert 0.5 <= first["width"] / first["height"] <= 3  # about the screen's shape, no sliver
    assert min(times) <= FIRST_DRAW_S, times


def test_a_filter_changes_the_drawing_as_the_answer_says(browser: Any, served: Big) -> None:
    page = logged_in(browser, served, "investigator")
    page.goto(f"{served.base}/ui/exposure/affiliate/A0?as_of={AS_OF}&depth=4")
    before = ready(page)
    page.select_option("#min_severity", "critical")
    page.click("#as-of-form button[type=submit]")
    page.wait_for_url("**min_severity=critical**")
    assert "depth=4" in page.url and f"as_of={AS_OF}" in page.url  # the form keeps every parameter
    after = ready(page)
    critical = {f["id"] for f in filtered(served.answer, min_severity="critical")["findings"]}
    assert set(after["findings"]) == critical and len(critical) < len(before["findings"])
    assert page.input_value("#depth") == "4" and page.input_value("#min_severity") == "critical"
    page.check("#findings_only")
    page.click("#as-of-form button[type=submit]")
    page.wait_for_url("**findings_only=1**")
    only = ready(page)
    assert set(only["findings"]) == critical and not only["folds"] and "min_severity=critical" in page.url


def test_a_click_opens_the_nodes_page(browser: Any, served: Big) -> None:
    page = logged_in(browser, served, "investigator")
    view = f"{served.base}/ui/exposure/affiliate/A0?as_of={AS_OF}"
    finding = served.answer["findings"][0]
    for key, expected in ((f"Finding:{finding['id']}", f"/ui/entity/finding/{finding['id']}"),
                          (f"Factory:{finding['path'][-2]}", f"/ui/entity/factory/{finding['path'][-2]}")):
        page.goto(view)
        ready(page)
        click_node(page, key)
        page.wait_for_url(f"**{expected}")
        page.wait_for_selector("#entity-title")
    page.goto(view)
    folds = ready(page)["folds"]
    key, count, _label = max(folds, key=lambda f: f[1])
    click_node(page, key)  # a folded group: the view again, with that group's factories drawn
    page.wait_for_url(f"**expand={key.split(':', 1)[1].replace(':', '%3A')}**")
    expanded = ready(page)
    tier, country = key.split(":")[1:]
    members = {f["id"] for f in served.answer["factories"] if str(f["tier"]) == tier and f["country"] == country}
    assert len(members) >= count and members <= set(expanded["factories"])
    assert key not in {k for k, _n, _l in expanded["folds"]}
    page.click("#answers li.answer a.answer-link >> nth=0")
    page.wait_for_url("**/ui/entity/finding/**")
    factory = finding["path"][-2]  # who is exposed to a factory: its nodes open their pages too, depth kept
    page.goto(f"{served.base}/ui/exposure/factory/{factory}?as_of={AS_OF}&depth=5")
    ready(page)
    assert page.input_value("#depth") == "5"
    click_node(page, "Affiliate:A0")
    page.wait_for_url("**/ui/entity/affiliate/A0")


def test_an_affiliate_sees_only_its_own_folded_exposure(browser: Any, served: Big) -> None:
    page = logged_in(browser, served, "A0")
    page.goto(f"{served.base}/ui/exposure/affiliate/A0?as_of={AS_OF}")
    got = ready(page)
    own_factories = {f["id"] for f in served.answer["factories"]}
    assert set(got["findings"]) == {f["id"] for f in served.answer["findings"]}
    assert set(got["factories"]) <= own_factories
    assert sum(n for _k, n, _l in got["folds"]) == len(own_factories - set(got["factories"]))
    hrefs = page.evaluate("window.sg.nodes.get().filter(n => n.sg_type !== 'fold').map(n => n.sg_href)")
    assert None not in hrefs and f"/ui/entity/affiliate/A0?as_of={AS_OF}" in hrefs  # pages of that day's answer
    links = page.eval_on_selector_all("#answers a[href^='/ui/entity/']", "els => els.map(e => e.getAttribute('href'))")
    assert links
    for href in sorted(set(hrefs))[::max(1, len(set(hrefs)) // 15)] + links[:5]:  # a sample of both opens
        assert page.request.get(f"{served.base}{href}").status == 200, href
    assert page.request.get(f"{served.base}/ui/entity/affiliate/A1").status == 404
    answer = page.goto(f"{served.base}/ui/exposure/affiliate/A1?as_of={AS_OF}")
    assert answer is not None and answer.status == 404
