"""/ui/timeline/{affiliate} on both stores: the SVG's counts per month equal the oracle's, tenancy, events."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from xml.etree import ElementTree as ET

import pytest
from supplygraph.api.watches.runner import evaluate_watches
from supplygraph.queries.changes import Question

from tests import oracle
from tests.conftest import DEMO
from tests.test_ui_views import Ui, serve_ui

SVG = "{http://www.w3.org/2000/svg}"
TIERS = ("1", "2", "3", "4+")


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def ui(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    yield from serve_ui(request.param, tmp_path_factory)


def drawn_counts(html: str) -> dict[tuple[str, str], int]:
    """(month, tier or severity) -> count, from the bars' titles ("2026-06: 3 high")."""
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", html, re.S).group(0))
    counts = {}
    for rect in svg.iter(f"{SVG}rect"):
        title = rect.find(f"{SVG}title")
        if title is not None:
            month, rest = title.text.split(": ")
            n, name = rest.split(" ", 1)
            counts[(month, name)] = int(n)
    return counts


def oracle_counts(months: set[str]) -> dict[tuple[str, str], int]:
    rows = oracle.read_bundle(DEMO)
    severity = {r["finding_id"]: r["severity"] or "unknown" for r in rows["findings"]}
    counts: dict[tuple[str, str], int] = {}
    for month in months:
        answer = oracle.exposure_oracle_11(rows, "AF-LIN", date.fromisoformat(month + "-01"))
        for tier, _basis in answer["factories"].values():
            key = (month, TIERS[min(tier, 4) - 1])
            counts[key] = counts.get(key, 0) + 1
        for finding in answer["findings"]:
            key = (month, severity[finding])
            counts[key] = counts.get(key, 0) + 1
    return counts


def test_timeline_counts_are_the_oracles(ui: Ui) -> None:
    page = ui.client("AF-LIN").get("/ui/timeline/AF-LIN")
    assert page.status_code == 200, page.text
    drawn = drawn_counts(page.text)
    months = set(re.findall(r">(\d{4}-\d{2})</text>", page.text)) | {m for m, _n in drawn}
    assert len(months) > 6 and drawn
    assert drawn == oracle_counts(months)


def test_other_affiliates_timeline_is_404(ui: Ui) -> None:
    client = ui.client("AF-LIN")
    other, unknown = client.get("/ui/timeline/AF-DBH"), client.get("/ui/timeline/AF-NOPE")
    assert other.status_code == unknown.status_code == 404
    assert other.text.replace("AF-DBH", "X") == unknown.text.replace("AF-NOPE", "X")
    assert "AF-DBH" not in other.text
    assert ui.client("investigator").get("/ui/timeline/AF-DBH").status_code == 200


def test_the_watch_events_are_listed_under_it(ui: Ui) -> None:
    service = ui.app.state.watches
    watch = service.watches.create("affiliate:AF-LIN", None, Question("affiliate", "AF-LIN"), None)[0]
    with service.use_store() as store:
        evaluate_watches(store, service.watches, date(2019, 1, 1), only=[watch.id])
        evaluate_watches(store, service.watches, date(2026, 6, 1), only=[watch.id])
    events = service.watches.latest_events(watch.id, 100)
    assert events
    page = ui.client("AF-LIN").get("/ui/timeline/AF-LIN").text
    listed = re.search(r'<ul id="changes">(.*?)</ul>', page, re.S).group(1)
    assert listed.count("<li>") == len(events)
    for event in events:
        assert f"?as_of={event['as_of']}\">{event['item']['id']}</a>" in listed
    assert "<li>" not in re.search(r'<ul id="changes">(.*?)</ul>', ui.client("AF-DBH").get("/ui/timeline/AF-DBH").text, re.S).group(1)
