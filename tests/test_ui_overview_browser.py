"""The overview, an affiliate's summary and the finding-centred view in headless Chromium (as
tests/test_ui_browser.py), over the demo graph on both stores and over the 10,000-factory synthetic graph;
what they show checked against the independent oracle (tests/oracle.py) or the reverse question."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from supplygraph.api.app import create_app
from supplygraph.api.keys import KeyRing
from supplygraph.graph.settings import Settings
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.reverse import exposed_affiliates

from tests import oracle
from tests import test_ui_browser as ui_browser
from tests.conftest import DEMO
from tests.test_ui_browser import AS_OF, Served, drawn_nodes, login, serve, shot

browser, page, served = ui_browser.browser, ui_browser.page, ui_browser.served  # its fixtures: the demo graph
DAY = date.fromisoformat(AS_OF)
ROWS = oracle.read_bundle(DEMO)
ALL = sorted(oracle.all_affiliates(ROWS))
ORACLE = {a: oracle.exposure_oracle_11(ROWS, a, DAY) for a in ALL}


def exposed_to(finding: str) -> set[str]:
    return {a for a in ALL if finding in ORACLE[a]["findings"]}


def test_overview_then_a_finding_view(page: Any, served: Served) -> None:
    login(page, served, "investigator")
    assert page.url.endswith("/ui/overview")  # where an investigator lands
    page.goto(f"{served.base}/ui/overview?as_of={AS_OF}")
    rows = page.locator("#ranked-findings tr[data-finding]")
    ranked = [rows.nth(i).get_attribute("data-finding") for i in range(rows.count())]
    assert set(ranked) == {f for a in ALL for f in ORACLE[a]["findings"]}
    numbers = [int(n) for n in page.locator("#ranked-findings td.affiliates").all_inner_texts()]
    assert numbers == [len(exposed_to(f)) for f in ranked] and numbers == sorted(numbers, reverse=True)
    shot(page, served, "ui-overview.png")
    first = ranked[0]
    page.click(f"#ranked-findings tr[data-finding='{first}'] a.finding-link")
    page.wait_for_url(f"**/ui/exposure/finding/{first}**")
    assert drawn_nodes(page) > len(exposed_to(first))
    drawn = set(page.evaluate("window.sg.nodes.getIds()"))
    assert {f"Affiliate:{a}" for a in exposed_to(first)} <= drawn and f"Finding:{first}" in drawn
    listed = page.locator("#exposed li[data-affiliate]")
    assert {listed.nth(i).get_attribute("data-affiliate") for i in range(listed.count())} == exposed_to(first)
    assert page.locator("#finding-sources a[rel='noopener noreferrer']").count() >= 1
    shot(page, served, "ui-finding.png")
    page.locator("#exposed li[data-affiliate] .path a").last.click()  # every node on a path opens its page
    page.wait_for_selector("#entity-title")
    assert first in page.inner_text("#entity-title")


def test_an_affiliate_lands_on_its_summary_and_sees_only_its_own_finding_views(page: Any, served: Served) -> None:
    login(page, served, "AF-LIN")
    assert page.url.endswith("/ui/summary/affiliate/AF-LIN")
    items = page.locator("#summary-findings li[data-finding]")
    mine = [items.nth(i).get_attribute("data-finding") for i in range(items.count())]
    assert set(mine) == set(ORACLE["AF-LIN"]["findings"]) and mine
    shot(page, served, "ui-affiliate-summary.png")
    page.click(f"#summary-findings li[data-finding='{mine[0]}'] a.finding-link")
    drawn_nodes(page)
    listed = page.locator("#exposed li[data-affiliate]")
    assert [listed.nth(i).get_attribute("data-affiliate") for i in range(listed.count())] == ["AF-LIN"]
    affiliates = {n for n in page.evaluate("window.sg.nodes.getIds()") if n.startswith("Affiliate:")}
    assert affiliates == {"Affiliate:AF-LIN"}  # its own path only
    other = sorted({r["finding_id"] for r in ROWS["findings"]} - set(ORACLE["AF-LIN"]["findings"]))[0]
    answer = page.goto(f"{served.base}/ui/exposure/finding/{other}?as_of={AS_OF}")
    assert answer is not None and answer.status == 404 and other not in page.inner_text("main")
    answer = page.goto(f"{served.base}/ui/overview")
    assert page.url.endswith("/ui/summary/affiliate/AF-LIN")  # never the overview


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Any]]:
    from benchmarks.synthetic import generate

    folder = tmp_path_factory.mktemp("ui-overview-10k")
    generate(folder / "bundle", factories=10_000)
    store = LadybugStore(folder / "db")
    load_bundles(store, [folder / "bundle"])
    keyring = KeyRing(folder / "keys.sqlite")
    keys = {"investigator": keyring.create("investigator", name="Investigator")[0]}
    server, thread, base = serve(create_app(Settings(db=folder / "db"), store, keyring=keyring))
    try:
        yield Served(base, keys, "ladybug-10k"), store
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


@pytest.mark.parametrize("served", ["ladybug"], indirect=True)  # the 10k graph once: the browser comes with a demo
def test_overview_and_finding_view_on_the_10k_graph(browser: Any, served: Served, large: tuple[Served, Any]) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        overview_and_finding_view(context.new_page(), *large)
    finally:
        context.close()


def overview_and_finding_view(tab: Any, served_large: Served, store: Any) -> None:
    """The overview of the 10k graph: its first rows agree with the reverse question; the first opens its view."""
    login(tab, served_large, "investigator")
    started = time.perf_counter()
    tab.goto(f"{served_large.base}/ui/overview?as_of={AS_OF}")
    rows = tab.locator("#ranked-findings tr[data-finding]")
    assert rows.count() == 50  # the first 50 of several hundred
    top = [rows.nth(i).get_attribute("data-finding") for i in range(3)]
    numbers = [int(n) for n in tab.locator("#ranked-findings td.affiliates").all_inner_texts()[:3]]
    for finding, number in zip(top, numbers, strict=True):  # the reverse question agrees with each row
        assert exposed_affiliates(store, "finding", finding, DAY).leverage["affiliates"] == number
    assert time.perf_counter() - started < 60
    tab.click(f"#ranked-findings tr[data-finding='{top[0]}'] a.finding-link")
    assert drawn_nodes(tab) > numbers[0]
    assert tab.locator("#exposed li[data-affiliate]").count() == numbers[0]
