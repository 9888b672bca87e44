"""The overview investigators land on, an affiliate's own summary, and the finding-centred view, on both stores
over the demo graph: every figure checked against the independent oracle (tests/oracle.py) or the reverse
question (queries/reverse.py), never against numbers written here."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from supplygraph.queries.exposure import exposure_for_affiliate
from supplygraph.queries.reverse import exposed_affiliates

from tests import oracle
from tests.conftest import DEMO
from tests.test_api_access import AFFILIATES, Api, serve_demo

AS_OF = "2026-06-01"
DAY = date.fromisoformat(AS_OF)
ROWS = oracle.read_bundle(DEMO)
ALL = sorted(oracle.all_affiliates(ROWS))
ORACLE = {a: oracle.exposure_oracle_11(ROWS, a, DAY) for a in ALL}


def exposed_to(finding: str) -> set[str]:
    return {a for a in ALL if finding in ORACLE[a]["findings"]}


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from serve_demo(request.param, tmp_path_factory)


def ui(api: Api, who: str) -> TestClient:
    client = TestClient(api.client.app, base_url="https://testserver", headers={"Origin": "https://testserver"},
                        follow_redirects=False)
    assert client.post("/ui/login", data={"key": api.keys[who]}).status_code == 303
    return client


def rows_of(page: str, table: str) -> list[str]:
    body = page.split(f'id="{table}"')[1].split("</table>")[0]
    return re.findall(r"<tr data-finding=\"([^\"]+)\">(.*?)</tr>", body, re.S)  # type: ignore[return-value]


def test_investigators_land_on_the_overview_ranked_by_affiliates_exposed(api: Api) -> None:
    client = ui(api, "investigator")
    assert client.get("/ui/").headers["location"] == "/ui/overview"
    page = client.get("/ui/overview", params={"as_of": AS_OF})
    assert page.status_code == 200
    ranked = rows_of(page.text, "ranked-findings")
    open_ids = {r["finding_id"] for r in ROWS["findings"] if oracle.finding_open(r, DAY)}
    reaching = {f for f in open_ids if exposed_to(f)}
    assert {fid for fid, _ in ranked} == reaching and reaching  # every open finding that reaches anyone
    counts = []
    for fid, cells in ranked:
        number = int(re.search(r'class="num affiliates">(\d+)<', cells).group(1))  # type: ignore[union-attr]
        assert number == len(exposed_to(fid)), fid
        reverse = exposed_affiliates(api.store, "finding", fid, DAY).as_json()["leverage"]
        for currency, value in reverse["contract_value"].items():  # the reverse question's leverage, in words
            assert f"{value:,.0f} {currency}" in cells, (fid, cells)
        counts.append(number)
    assert counts == sorted(counts, reverse=True)
    text = html.unescape(page.text)
    assert f"{len(reaching)} reach an affiliate, {len(open_ids - reaching)} reach none" in text
    tiles = dict(re.findall(r'data-count="(\w+)"><div class="number">([\d,]+)<', page.text))
    answer = api.call("investigator", "POST", "/v1/queries/node_counts", {}).json()
    named = {row["label"]: row["nodes"] for row in answer["rows"]}
    for tile, label in (("factories", "Factory"), ("agencies", "Agency"), ("affiliates", "Affiliate"),
                        ("contracts", "Contract")):
        assert int(tiles[tile].replace(",", "")) == named[label], tile
    assert int(tiles["findings_open"].replace(",", "")) == len(open_ids)
    loads = page.text.split('id="loads"')[1].split("</table>")[0]
    for bundle in api.store.bundles():
        assert "<td title=" in loads and f">{bundle.name}</td>" in loads


def test_affiliates_land_on_their_own_summary_never_the_overview(api: Api) -> None:
    for own in ("AF-LIN", "AF-DBH"):
        client = ui(api, f"affiliate:{own}")
        assert client.get("/ui/").headers["location"] == f"/ui/summary/affiliate/{own}"
        assert client.get("/ui/overview").headers["location"] == f"/ui/summary/affiliate/{own}"
        page = client.get(f"/ui/summary/affiliate/{own}", params={"as_of": AS_OF})
        assert page.status_code == 200
        answer = exposure_for_affiliate(api.store, own, DAY).as_json()
        listed = re.findall(r'<li data-finding="([^"]+)"', page.text)
        assert listed == [f["id"] for f in answer["findings"]]  # most severe first, as the answer orders them
        assert set(listed) == set(ORACLE[own]["findings"])
        tiles = dict(re.findall(r'data-count="(\w+)"><div class="number">([\d,]+)<', page.text))
        assert {k: int(v.replace(",", "")) for k, v in tiles.items()} == {
            k: answer["summary"][k] for k in ("findings", "factories", "agencies", "gaps")}
        others = [(a, n) for a, n in AFFILIATES.items() if a != own]
        for other, _name in others:
            refused = client.get(f"/ui/summary/affiliate/{other}")
            assert refused.status_code == 404 and other not in refused.text
        assert not [n for _a, n in others if n in page.text or html.escape(n) in page.text]


def test_finding_view_lists_who_is_exposed_through_which_path(api: Api) -> None:
    client = ui(api, "investigator")
    for finding in sorted({r["finding_id"] for r in ROWS["findings"]}):
        page = client.get(f"/ui/exposure/finding/{finding}", params={"as_of": AS_OF})
        assert page.status_code == 200, finding
        listed = re.findall(r'<li data-affiliate="([^"]+)"', page.text)
        assert set(listed) == exposed_to(finding), finding
        reverse = exposed_affiliates(api.store, "finding", finding, DAY).as_json()
        for entry in reverse["affiliates"]:  # each path, every node linked to its page
            item = page.text.split(f'data-affiliate="{entry["id"]}"')[1].split("</li>")[0]
            for node in entry["path"]:
                assert re.search(rf'<a href="/ui/entity/\w+/{re.escape(node)}">{re.escape(node)}</a>', item), node
        row = next(r for r in ROWS["findings"] if r["finding_id"] == finding)
        card = html.unescape(page.text.split('id="finding-card"')[1].split('<div class="card">')[0])
        assert (row["summary"] or "") in card and (row["monitor"] or "not given") in card
        assert (row["status"] or "not given") in card and (row["reported_on"] or "not given") in card
        sources = {s["source_id"]: s for s in ROWS["sources"]}
        for sid in filter(None, (row.get("source_id") or "").split("|")):  # title and clickable URL of each
            assert html.escape(sources[sid]["title"]) in card or sources[sid]["title"] in card
            assert sources[sid]["url"].startswith("https://")
            assert f'<a href="{sources[sid]["url"]}" rel="noopener noreferrer">' in page.text
        drawn = page.text.split('id="graph-data">')[1]
        assert all(f"Affiliate:{a}" in drawn for a in listed)


def test_an_affiliate_opens_the_finding_view_only_for_its_own_findings_and_its_own_path(api: Api) -> None:
    for own in ("AF-LIN", "AF-DBH", "AF-TIPO"):
        client = ui(api, f"affiliate:{own}")
        others = [(a, n) for a, n in AFFILIATES.items() if a != own]
        for row in ROWS["findings"]:
            finding = row["finding_id"]
            page = client.get(f"/ui/exposure/finding/{finding}", params={"as_of": AS_OF})
            if finding not in ORACLE[own]["findings"]:
                assert page.status_code == 404, (own, finding)
                assert finding not in page.text  # nothing echoed, nothing leaked
                continue
            assert page.status_code == 200, (own, finding)
            assert re.findall(r'<li data-affiliate="([^"]+)"', page.text) == [own]
            leaked = [x for pair in others for x in pair if x in page.text or html.escape(x) in page.text]
            assert not leaked, (own, finding, leaked)
            for href in set(re.findall(r'<a href="(/ui/entity/[^"]+)"', page.text)):  # every page linked opens
                assert client.get(href).status_code == 200, (own, finding, href)


def test_viz_finding_writes_the_drawing(tmp_path: Path) -> None:
    from supplygraph.api.cli import app as cli
    from typer.testing import CliRunner

    db = tmp_path / "db"
    runner = CliRunner()
    assert runner.invoke(cli, ["load", str(DEMO), "--db", str(db)]).exit_code == 0
    out = tmp_path / "finding.html"
    done = runner.invoke(cli, ["viz", "finding", "FI-205", "-o", str(out), "--as-of", AS_OF, "--db", str(db)])
    assert done.exit_code == 0, done.output
    text = out.read_text()
    assert "vis.Network" in text and "<script src" not in text
    assert all(f"Affiliate:{a}" in text for a in exposed_to("FI-205")) and exposed_to("FI-205")
    assert runner.invoke(cli, ["viz", "finding", "FI-NOPE", "-o", str(out), "--db", str(db)]).exit_code == 3


def test_the_overview_counts_what_is_open_on_its_day(api: Api) -> None:
    """A finding closed before the day is not on the overview; the day is the form's value."""
    client = ui(api, "investigator")
    early = "2021-01-01"
    page = client.get("/ui/overview", params={"as_of": early})
    ranked = {fid for fid, _ in rows_of(page.text, "ranked-findings")}
    day = date.fromisoformat(early)
    then = {a: oracle.exposure_oracle_11(ROWS, a, day) for a in ALL}
    assert ranked == {f for a in ALL for f in then[a]["findings"]}
    assert f'value="{early}"' in page.text
