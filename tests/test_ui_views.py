"""The /ui pages through the ASGI app on both stores: login cookie, roles, 404s to other affiliates, exports.

The browser itself is driven in tests/test_ui_browser.py.
"""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from supplygraph.api.app import create_app
from supplygraph.api.keys import KeyRing
from supplygraph.api.ui.network import MUTED, SEVERITY_COLOURS
from supplygraph.graph.settings import Settings
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO
from tests.test_api_access import open_test_store

AS_OF = "2026-06-01"
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


def graph_data(html: str) -> dict[str, Any]:
    found = re.search(r'id="graph-data">(.*?)</script>', html, re.S)
    assert found is not None
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def demo_findings() -> dict[str, dict[str, str]]:
    """The demo bundle's findings file, read directly (the oracle for colours and muting)."""
    with (DEMO / "findings.csv").open(newline="") as f:
        return {row["finding_id"]: row for row in csv.DictReader(f)}


def open_on(row: dict[str, str], day: date) -> bool:
    if row["reported_on"] and date.fromisoformat(row["reported_on"]) > day:
        return False
    if row["closed_on"]:
        return date.fromisoformat(row["closed_on"]) > day
    return row["status"] != "remediated"


def check_finding_colours(nodes: list[dict[str, Any]], day: date) -> int:
    """Each drawn finding: muted grey when not open on `day`, else the colour of its severity in the CSV."""
    expected = demo_findings()
    seen = 0
    for node in nodes:
        if node.get("sg_type") != "finding":
            continue
        row = expected[node["id"].split(":", 1)[1]]
        colour = node["color"]
        if open_on(row, day):
            assert colour == SEVERITY_COLOURS[row["severity"]] and not node["sg_muted"], node
        else:
            assert colour["background"] == MUTED and node["sg_muted"], node
        assert node["sg_severity"] == row["severity"]
        seen += 1
    return seen


@dataclass
class Ui:
    app: Any
    keys: dict[str, str]
    store: Any

    def client(self, who: str | None = None) -> TestClient:
        # A browser sends its page's origin with every form post; the UI refuses posts without one.
        client = TestClient(self.app, base_url="https://testserver", follow_redirects=False,
                            headers={"Origin": "https://testserver"})
        if who:
            answer = client.post("/ui/login", data={"key": self.keys[who], "next": "/ui/"})
            assert answer.status_code == 303, answer.text
        return client


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def ui(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    yield from serve_ui(request.param, tmp_path_factory)


def serve_ui(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    """For module-scoped fixtures: the demo graph on a store of `kind`, with an investigator key and two
    affiliate keys (AF-LIN, AF-DBH)."""
    folder = tmp_path_factory.mktemp(f"ui-{kind}")
    store = open_test_store(kind, folder)
    try:
        load_bundles(store, [DEMO])
        keyring = KeyRing(folder / "keys.sqlite")
        keys = {"investigator": keyring.create("investigator", name="inv")[0]}
        for affiliate in ("AF-LIN", "AF-DBH"):
            keys[affiliate] = keyring.create("affiliate", affiliate, affiliate)[0]
        app = create_app(Settings(db=folder / "db"), store, keyring=keyring)
        with TestClient(app):  # runs the lifespan once
            yield Ui(app, keys, store)
    finally:
        store.close()


def test_login_sets_a_secure_http_only_strict_cookie(ui: Ui) -> None:
    client = ui.client()
    assert client.get("/ui/search").headers["location"].startswith("/ui/login")
    page = client.get("/ui/login")
    assert page.status_code == 200 and 'name="key"' in page.text
    refused = client.post("/ui/login", data={"key": "sg_wrong"})
    assert refused.status_code == 401 and "Unknown or revoked key" in refused.text
    answer = client.post("/ui/login", data={"key": ui.keys["investigator"], "next": "/ui/search"})
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/search"
    cookie = answer.headers["set-cookie"].lower()
    for flag in ("secure", "httponly", "samesite=strict", "path=/ui"):
        assert flag in cookie
    assert client.get("/ui/search").status_code == 200
    out = client.post("/ui/logout")
    assert out.status_code == 303
    assert client.get("/ui/search").status_code == 303


def test_open_redirects_are_refused(ui: Ui) -> None:
    client = ui.client()
    answer = client.post("/ui/login", data={"key": ui.keys["investigator"], "next": "//evil.example/"})
    assert answer.headers["location"] == "/ui/"


def test_search_groups_results_by_type_with_country_and_counts(ui: Ui) -> None:
    page = ui.client("investigator").get("/ui/search", params={"q": "silver heron"})
    assert page.status_code == 200
    assert 'data-type="factory"' in page.text and "FA-SH2" in page.text and ">CN<" in page.text
    assert re.search(r"Factory <span class=\"count\">\(2\)</span>", page.text)
    assert "Content-Security-Policy" in page.headers and "default-src 'self'" in page.headers["content-security-policy"]


def test_entity_page_has_properties_sources_findings_and_a_network(ui: Ui) -> None:
    page = ui.client("investigator").get("/ui/entity/factory/FA-SH2", params={"depth": 2})
    assert page.status_code == 200
    assert "FI-101" in page.text and "SRC-03" in page.text and "14500" in page.text
    data = graph_data(page.text)
    assert {"Factory:FA-SH2", "Finding:FI-101"} <= {n["id"] for n in data["nodes"]}
    # nothing loaded from outside; sources' web pages are links the reader may follow (and nothing else)
    followed = re.compile(r'<a class="web" href="https://[^"]*" rel="noopener noreferrer">')
    assert followed.search(page.text) and not EXTERNAL.search(followed.sub("", page.text))
    # The side list: FI-101 open; FI-102 (remediated in 2023) listed apart, muted.
    open_list = page.text.split('id="findings"')[1].split("</ul>")[0]
    closed_list = page.text.split('id="closed-findings" class="muted"')[1].split("</ul>")[0]
    assert "FI-101" in open_list and "FI-102" not in open_list and "FI-102" in closed_list


def test_entity_networks_colour_findings_by_severity_and_mute_closed_ones(ui: Ui) -> None:
    client = ui.client("investigator")
    today = date.today()
    seen = 0
    for type_, id_ in (("factory", "FA-SH2"), ("agency", "AG-TH1"), ("factory", "FA-JED"), ("finding", "FI-102")):
        page = client.get(f"/ui/entity/{type_}/{id_}", params={"depth": 2})
        assert page.status_code == 200
        seen += check_finding_colours(graph_data(page.text)["nodes"], today)
    assert seen >= 8
    expanded = client.get("/ui/api/neighbours/agency/AG-TH1").json()  # what a click adds is coloured alike
    assert check_finding_colours(expanded["nodes"], today) == 2  # FI-201 and FI-202, both remediated
    assert all(n["sg_muted"] for n in expanded["nodes"] if n["sg_type"] == "finding")


def test_neighbour_pages_cap_and_continue(ui: Ui) -> None:
    client = ui.client("investigator")
    first = client.get("/ui/api/neighbours/company/CO-KOR").json()
    more = [n for n in first["nodes"] if n["sg_type"] == "more"]
    if more:
        rest = client.get("/ui/api/neighbours/company/CO-KOR", params={"offset": more[0]["sg_offset"]}).json()
        assert rest["nodes"]
    assert ui.client().get("/ui/api/neighbours/company/CO-KOR").status_code == 401


def test_exposure_view_levels_and_colours(ui: Ui) -> None:
    page = ui.client("investigator").get("/ui/exposure/affiliate/AF-LIN", params={"as_of": AS_OF})
    assert page.status_code == 200
    data = graph_data(page.text)
    nodes = {n["id"]: n for n in data["nodes"]}
    assert nodes["Affiliate:AF-LIN"]["level"] == 0
    levels = [nodes[k]["level"] for k in ("Contract:CT-LIN-01", "Product:PR-OPC450", "Factory:FA-TWP1",
                                          "Factory:FA-TWP2", "Agency:AG-TH1")]
    assert levels == sorted(set(levels))  # contract, product, assembly factory, tier 2, agency
    assert nodes["Agency:AG-MM1"]["sg_type"] == "subagent"
    assert all(n["level"] > nodes["Agency:AG-MM2"]["level"] for n in data["nodes"] if n["sg_type"] == "finding")
    assert check_finding_colours(data["nodes"], date.fromisoformat(AS_OF)) >= 3
    # Laid out by the server: x by level, one node per place, and no layout or physics left to the browser.
    assert not data["options"]["physics"]["enabled"] and not data["options"]["layout"]["hierarchical"]["enabled"]
    x_of_level = {n["level"]: n["x"] for n in data["nodes"]}
    assert all(n["x"] == x_of_level[n["level"]] for n in data["nodes"])
    assert sorted(x_of_level.values()) == [x_of_level[level] for level in sorted(x_of_level)]
    assert len({(n["x"], n["y"]) for n in data["nodes"]}) == len(data["nodes"])
    assert "SRC-07" in page.text  # sources in the side list


def test_names_from_the_exposure_answer_draw_the_same_as_names_looked_up(
    ui: Ui, monkeypatch: pytest.MonkeyPatch
) -> None:
    from supplygraph.api.ui import exposure_view as views

    day = date.fromisoformat(AS_OF)
    for affiliate in ("AF-LIN", "AF-DBH", "AF-UNB"):
        hinted = views.exposure_drawing(ui.store, "affiliate", affiliate, day)
        with monkeypatch.context() as patched:
            patched.setattr(views, "name_hints", lambda _exposure: {})
            looked_up = views.exposure_drawing(ui.store, "affiliate", affiliate, day)
        assert hinted.nodes == looked_up.nodes and hinted.answers == looked_up.answers
        assert len(hinted.nodes) > 3


def test_remediated_findings_are_muted(ui: Ui) -> None:
    page = ui.client("investigator").get("/ui/exposure/factory/FA-SH2", params={"as_of": AS_OF})
    data = graph_data(page.text)
    nodes = {n["id"]: n for n in data["nodes"]}
    assert nodes["Finding:FI-102"]["sg_muted"] is True  # remediated in 2023
    assert nodes["Finding:FI-101"]["sg_muted"] is False
    assert check_finding_colours(data["nodes"], date.fromisoformat(AS_OF)) == 2


def test_the_side_list_comes_a_page_at_a_time(ui: Ui, monkeypatch: pytest.MonkeyPatch) -> None:
    from supplygraph.api.ui import exposure_routes as routes

    client = ui.client("investigator")
    every = client.get("/ui/exposure/affiliate/AF-DBH/export.json", params={"as_of": AS_OF}).json()["answers"]
    assert len(every) > 7
    monkeypatch.setattr(routes, "ANSWER_PAGE", 3)
    page = client.get("/ui/exposure/affiliate/AF-DBH", params={"as_of": AS_OF}).text
    listed = [every[0]["text"], every[1]["text"], every[2]["text"]]
    assert [t for t in (a["text"] for a in every) if t in page] == listed  # the first page only
    more = re.search(r'id="more-answers" data-next="([^"]+)"', page)
    assert more is not None and f"({len(every) - 3} left)" in page
    url = more.group(1).replace("&amp;", "&")
    answer = client.get(url).json()  # 5 pages' worth at a time: the rest
    assert [a["text"] for a in every if a["text"] in answer["html"]] == [a["text"] for a in every[3:]]
    assert answer["next"] is None or answer["next"]["left"] == len(every) - 18
    assert ui.client("AF-LIN").get(url).status_code == 404
    assert ui.client().get(url).status_code == 401


def test_drawings_are_cached_per_generation_and_visibility(ui: Ui) -> None:
    client = ui.client("investigator")
    url, params = "/ui/exposure/factory/FA-SH2/export.json", {"as_of": AS_OF}
    first = client.get(url, params=params).json()
    cache = ui.app.state.ui_drawings
    before = len(cache._items)
    assert client.get(url, params=params).json() == first and len(cache._items) == before  # a hit
    own = ui.client("AF-LIN").get("/ui/exposure/factory/FA-TWP1", params=params)
    # its own paths: its own entries (the factory view, and its own exposure, which says FA-TWP1 is in it)
    assert own.status_code == 200 and len(cache._items) == before + 2
    load_bundles(ui.store, [DEMO])  # a new generation of the same graph: drawn again, alike
    assert client.get(url, params=params).json() == first and len(cache._items) == before + 3


def test_the_drawing_cache_drops_the_least_recently_used() -> None:
    from supplygraph.api.ui.drawing_cache import DrawingCache
    from supplygraph.api.ui.network import Drawing

    drawings = [Drawing(title=f"d{i}", kind="exposure", nodes=[{"id": "x" * 400}]) for i in range(4)]
    size = 2 * len(drawings[0].script_data())
    cache = DrawingCache(max_bytes=4 * size)  # room for four, and none above a quarter of it
    for i, drawing in enumerate(drawings[:3]):
        cache.put((i,), drawing)
    assert cache.get((0,)) is drawings[0]  # now the most recently used
    cache.put((3,), drawings[3])
    cache.put((4,), Drawing(title="d4", kind="exposure", nodes=[{"id": "x" * 400}]))
    assert cache.get((1,)) is None and cache.get((0,)) is drawings[0] and cache.get((4,)) is not None
    cache.put((5,), Drawing(title="big", kind="exposure", nodes=[{"id": "x" * 4000}]))
    assert cache.get((5,)) is None  # too big to keep


def test_affiliate_keys_see_only_their_own_views(ui: Ui) -> None:
    client = ui.client("AF-LIN")
    assert client.get("/ui/").headers["location"] == "/ui/summary/affiliate/AF-LIN"  # its own summary
    assert client.get("/ui/exposure/affiliate/AF-LIN", params={"as_of": AS_OF}).status_code == 200
    for url in (
        "/ui/exposure/affiliate/AF-DBH",
        "/ui/exposure/affiliate/AF-DBH/export.json",
        "/ui/exposure/affiliate/AF-NOPE",
        "/ui/entity/affiliate/AF-DBH",
        "/ui/entity/factory/FA-SH2",
        "/ui/entity/affiliate/AF-DBH/export.graphml",
    ):
        answer = client.get(url, params={"as_of": AS_OF})
        assert answer.status_code == 404, url
        assert "AF-DBH" not in answer.text.split("</header>")[-1]
    assert client.get("/ui/api/neighbours/affiliate/AF-DBH").status_code == 404
    assert client.get("/ui/exposure/factory/FA-SH2", params={"as_of": AS_OF}).status_code == 404  # not its own
    reverse = client.get("/ui/exposure/factory/FA-TWP1", params={"as_of": AS_OF})
    assert reverse.status_code == 200 and "AF-STW" not in reverse.text  # only its own paths
    found = client.get("/ui/search", params={"q": "university"})
    assert "AF-UNB" not in found.text


def test_exports(ui: Ui) -> None:
    client = ui.client("investigator")
    base = "/ui/exposure/affiliate/AF-LIN/export"
    graphml = client.get(f"{base}.graphml", params={"as_of": AS_OF})
    assert graphml.status_code == 200 and "attachment" in graphml.headers["content-disposition"]
    root = ET.fromstring(graphml.content)
    assert len(root.findall(".//{http://graphml.graphdrawing.org/xmlns}node")) > 5
    body = client.get(f"{base}.json", params={"as_of": AS_OF}).json()
    assert {"nodes", "edges", "answers", "as_of"} <= set(body) and body["as_of"] == AS_OF
    html = client.get(f"{base}.html", params={"as_of": AS_OF}).text
    assert "vis.Network" in html and "FA-TWP1" in html
    assert not EXTERNAL.search(html)
    assert "<script src" not in html and "<link" not in html


def test_static_assets_are_served_locally(ui: Ui) -> None:
    client = ui.client()
    assert client.get("/ui/static/vis-network.min.js").status_code == 200
    assert client.get("/ui/static/ui.css").status_code == 200
    assert client.get("/ui/static/../keys.sqlite").status_code == 404


def test_viz_writes_a_standalone_offline_file(tmp_path: Path) -> None:
    from supplygraph.api.cli import app as cli
    from typer.testing import CliRunner

    db = tmp_path / "db"
    runner = CliRunner()
    assert runner.invoke(cli, ["load", str(DEMO), "--db", str(db)]).exit_code == 0
    out = tmp_path / "view.html"
    done = runner.invoke(cli, ["viz", "factory", "FA-SH2", "-o", str(out), "--as-of", AS_OF, "--db", str(db)])
    assert done.exit_code == 0, done.output
    html = out.read_text()
    assert "vis.Network" in html and "AF-UNB" in html and not EXTERNAL.search(html)
    missing = runner.invoke(cli, ["viz", "agency", "AG-NOPE", "-o", str(out), "--db", str(db)])
    assert missing.exit_code == 3
