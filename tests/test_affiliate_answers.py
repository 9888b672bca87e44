"""Exposure answers people can act on, on both stores: the summary first, findings most severe first with
their monitor, summary, dates and sources, entity pages for every id an affiliate's own answer names,
pages of a large answer, and CSV / XLSX exports.

The oracle is the demo bundle's own files (findings.csv, sources.csv) and the answer's own lists: the
summary is counted again here, the order checked against the input rows, exports parsed back.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from supplygraph.api.answer_export import COLUMNS, to_csv, to_xlsx
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.exposure_summary import natural_key, ordered_findings

from tests.conftest import DEMO
from tests.test_api_access import AFFILIATE_KEYS, AS_OF, Api, answer_names, serve_demo

SEVERITY = ["critical", "high", "medium", "low"]


def read_rows(name: str) -> dict[str, dict[str, str]]:
    with (DEMO / name).open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    key = next(iter(rows[0]))
    return {r[key]: r for r in rows}


FINDINGS = read_rows("findings.csv")
SOURCES = read_rows("sources.csv")


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from serve_demo(request.param, tmp_path_factory)


def exposure(api: Api, who: str, affiliate: str, query: str = "") -> Any:
    response = api.call(who, "GET", f"/v1/affiliates/{affiliate}/exposure?as_of={AS_OF}{query}")
    assert response.status_code == 200, response.text
    return response


# ------------------------------------------------------------------ the answer itself


def test_findings_carry_what_the_monitor_reported_and_their_sources(api: Api) -> None:
    seen = 0
    for affiliate in AFFILIATE_KEYS:
        answer = exposure(api, "investigator", affiliate).json()
        for f in answer["findings"]:
            row = FINDINGS[f["id"]]
            assert (f["monitor"], f["summary"]) == (row["monitor"], row["summary"])
            assert (f["reported_on"], f["closed_on"]) == (row["reported_on"] or None, row["closed_on"] or None)
            own = [s for s in row["source_id"].split("|") if s]
            assert [e["id"] for e in f["evidence"]] == own
            for e in f["evidence"]:
                src = SOURCES[e["id"]]
                assert (e["title"], e["url"], e["published_on"]) == (src["title"], src["url"], src["published_on"])
            named = {s for k in ("findings", "factories", "agencies") for i in answer[k] for s in i["sources"]}
            assert set(answer["sources"]) == named and all(
                answer["sources"][s]["url"] == SOURCES[s]["url"] for s in named
            )
            seen += 1
    assert seen >= 5


def test_summary_first_and_findings_most_severe_first(api: Api) -> None:
    for affiliate in AFFILIATE_KEYS:
        answer = exposure(api, "investigator", affiliate).json()
        assert list(answer)[:4] == ["affiliate", "as_of", "summary", "findings"]
        summary, findings = answer["summary"], answer["findings"]
        assert summary["findings"] == len(findings) and summary["factories"] == len(answer["factories"])
        assert summary["agencies"] == len(answer["agencies"]) and summary["gaps"] == len(answer["gaps"])
        assert summary["findings_by_severity"] == {
            s: n for s in [*SEVERITY, "none"] if (n := sum((f["severity"] or "none") == s for f in findings))
        }
        assert summary["findings_by_category"] == dict(Counter(f["category"] for f in findings))
        assert summary["factories_by_tier"] == {
            str(t): n for t, n in sorted(Counter(f["tier"] for f in answer["factories"]).items())
        }
        # the order, from the input rows: severity, then the newest report, then the id
        keys = [
            (SEVERITY.index(FINDINGS[f["id"]]["severity"]), FINDINGS[f["id"]]["reported_on"], f["id"]) for f in findings
        ]
        for (s1, d1, i1), (s2, d2, i2) in zip(keys, keys[1:]):
            assert s1 < s2 or (s1 == s2 and (d1 > d2 or (d1 == d2 and natural_key(i1) < natural_key(i2))))
    lin = exposure(api, "investigator", "AF-LIN").json()
    assert lin["findings"][0]["id"] == "FI-205" and lin["findings"][0]["severity"] == "critical"


def test_natural_id_order_and_missing_values_last() -> None:
    findings = [
        {"id": "X10", "severity": "high", "reported_on": "2025-01-01"},
        {"id": "X2", "severity": "high", "reported_on": "2025-01-01"},
        {"id": "X1", "severity": None, "reported_on": "2026-01-01"},
        {"id": "X3", "severity": "high", "reported_on": None},
        {"id": "X100", "severity": "critical", "reported_on": "2020-01-01"},
        {"id": "X4", "severity": "high", "reported_on": "2025-06-01"},
    ]
    assert [f["id"] for f in ordered_findings(findings)] == ["X100", "X4", "X2", "X10", "X3", "X1"]
    assert sorted(["X10", "X1", "X2", "X100", "Y"], key=natural_key) == ["X1", "X2", "X10", "X100", "Y"]


def test_filters_recount_the_summary_and_are_documented(api: Api) -> None:
    severe = exposure(api, "investigator", "AF-LIN", "&min_severity=high").json()
    assert {f["severity"] for f in severe["findings"]} == {"critical", "high"}
    assert severe["summary"]["findings"] == len(severe["findings"]) == 3
    assert severe["summary"]["findings_by_severity"] == {"critical": 1, "high": 2}
    fees = exposure(api, "investigator", "AF-LIN", "&category=recruitment_fees").json()
    assert [f["id"] for f in fees["findings"]] == ["FI-203", "FI-204"]
    params = {p["name"]: p for p in api.client.get("/openapi.json").json()["paths"][
        "/v1/affiliates/{affiliate_id}/exposure"]["get"]["parameters"]}
    for name in ("category", "min_severity", "fields", "limit", "offset", "format"):
        assert params[name].get("description"), name
    assert "critical" in params["min_severity"]["description"]


# ------------------------------------------------------------------ pages and exports


def test_pages_add_up_to_the_whole_answer(api: Api) -> None:
    whole = exposure(api, "investigator", "AF-DBH").json()
    assert len(whole["factories"]) >= 3
    got: dict[str, list[Any]] = {"findings": [], "factories": []}
    offset: int | None = 0
    pages = 0
    while offset is not None:
        page = exposure(api, "investigator", "AF-DBH", f"&fields=findings,factories&limit=2&offset={offset}").json()
        assert page["summary"] == whole["summary"] and "agencies" not in page and "gaps" not in page
        assert page["page"]["counts"] == {"findings": len(whole["findings"]), "factories": len(whole["factories"])}
        for section in got:
            assert len(page[section]) <= 2
            got[section] += page[section]
        named = {s for k in got for i in page[k] for s in i["sources"]}
        assert set(page["sources"]) == named
        offset = page["page"]["next_offset"]
        pages += 1
    assert got == {"findings": whole["findings"], "factories": whole["factories"]}
    assert pages == (max(len(whole["findings"]), len(whole["factories"])) + 1) // 2
    bad = api.call("investigator", "GET", "/v1/affiliates/AF-DBH/exposure?fields=findings,widgets")
    assert bad.status_code == 422 and bad.json()["errors"][0]["parameter"] == "fields"
    assert api.call("investigator", "GET", "/v1/affiliates/AF-DBH/exposure?limit=0").status_code == 422


def test_cursor_pages_add_up_to_the_whole_answer_and_refuse_after_a_reload(api: Api) -> None:
    whole = exposure(api, "investigator", "AF-DBH", "&min_severity=low").json()
    got: dict[str, list[Any]] = {"findings": [], "factories": [], "agencies": []}
    query = "&min_severity=low&fields=findings,factories,agencies&limit=1"
    first = exposure(api, "investigator", "AF-DBH", query).json()
    page_ = first
    while True:
        for section in got:
            got[section] += page_[section]
        cursor = page_["page"]["next_cursor"]
        assert (cursor is None) == (page_["page"]["next_offset"] is None)
        if cursor is None:
            break
        # the cursor keeps the day: as_of may be left out on the following pages
        response = api.call("investigator", "GET", f"/v1/affiliates/AF-DBH/exposure?cursor={cursor}{query}")
        assert response.status_code == 200, response.text
        page_ = response.json()
    assert got == {section: whole[section] for section in got}
    second = first["page"]["next_cursor"]
    assert second is not None
    url = "/v1/affiliates/AF-DBH/exposure"
    for wrong, parameter in ((f"?cursor={second}&min_severity=high&fields=findings,factories,agencies&limit=1", "cursor"),
                             (f"?cursor={second}{query}&offset=3", "cursor"),
                             ("?cursor=not-a-cursor" + query, "cursor"),
                             ("?cursor=" + "W10" + query, "cursor")):
        answer = api.call("investigator", "GET", url + wrong)
        assert answer.status_code == 422, (wrong, answer.text)
        assert answer.json()["errors"][0]["parameter"] == parameter
    other = api.call("affiliate:AF-LIN", "GET", f"{url}?cursor={second}{query}")  # another tenant: 404 first
    assert other.status_code == 404
    load_bundles(api.store, [DEMO])  # the same graph again, as a new generation
    stale = api.call("investigator", "GET", f"{url}?cursor={second}{query}")
    assert stale.status_code == 410, stale.text
    again = exposure(api, "investigator", "AF-DBH", query).json()
    assert again["page"]["next_cursor"] != second and again["factories"] == first["factories"]


def test_csv_and_xlsx_exports_hold_every_item(api: Api) -> None:
    for affiliate in ("AF-LIN", "AF-DBH"):
        answer = exposure(api, "investigator", affiliate).json()
        items = [(k, i["id"]) for k in ("findings", "factories", "agencies", "gaps") for i in answer[k]]
        response = exposure(api, f"affiliate:{affiliate}", affiliate, "&format=csv")
        assert response.headers["content-type"].startswith("text/csv")
        assert f"exposure-{affiliate}-{AS_OF}.csv" in response.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        singular = {"findings": "finding", "factories": "factory", "agencies": "agency", "gaps": "gap"}
        assert [(r["section"], r["id"]) for r in rows] == [(singular[k], i) for k, i in items]
        for r, f in zip(rows, answer["findings"]):
            assert r["severity"] == f["severity"] and r["summary"] == f["summary"]
            assert r["path"] == " > ".join(f["path"]) and r["sources"] == "; ".join(f["sources"])
        xlsx = exposure(api, f"affiliate:{affiliate}", affiliate, "&format=xlsx&min_severity=high")
        book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
        sheet = [[c.value for c in row] for row in book["exposure"].iter_rows()]
        assert sheet[0] == list(COLUMNS)
        high = [f["id"] for f in answer["findings"] if f["severity"] in ("critical", "high")]
        assert [r[1] for r in sheet[1:] if r[0] == "finding"] == high
        assert len(sheet) - 1 == len(items) - len(answer["findings"]) + len(high)


def test_exports_never_write_a_formula() -> None:
    answer = {
        "affiliate": {"id": "=HYPERLINK(1)", "name": "+cmd"}, "as_of": "2026-06-01", "summary": {"findings": 0},
        "findings": [], "agencies": [], "gaps": [],
        "factories": [{"id": "FA-1", "name": "=1+1", "country": "@X", "tier": 1, "path": ["-2"], "sources": []}],
    }
    rows = list(csv.reader(io.StringIO(to_csv(answer).decode("utf-8-sig"))))
    assert rows[1][:5] == ["factory", "FA-1", "'=1+1", "1", "'@X"] and rows[1][COLUMNS.index("path")] == "'-2"
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(answer)))
    cell = book["exposure"]["C2"]
    assert cell.value == "=1+1" and cell.data_type == "s"
    assert book["summary"]["B1"].value == "=HYPERLINK(1)" and book["summary"]["B1"].data_type == "s"


# ------------------------------------------------------------------ what an affiliate key may open


def test_an_affiliate_opens_every_id_its_answer_names_and_nothing_else(api: Api) -> None:
    everything: dict[str, set[str]] = {}
    for label in ("factory", "agency", "finding", "source", "company", "contract", "product"):
        page = api.call("investigator", "GET", f"/v1/entities?type={label}&limit=500").json()
        everything[label] = {i["id"] for i in page["items"]}
    opened: Counter[str] = Counter()
    for affiliate in AFFILIATE_KEYS:
        who = f"affiliate:{affiliate}"
        answer = exposure(api, who, affiliate).json()
        named = answer_names(answer)
        contracts = api.call(who, "POST", "/v1/queries/contracts_of_affiliate", {"affiliate_id": affiliate}).json()
        own_contracts = {r["contract"] for r in contracts["rows"]}
        allowed = {i for _k, i in named} | own_contracts
        for label, ids in everything.items():
            for node_id in sorted(ids):
                response = api.call(who, "GET", f"/v1/entities/{label}/{node_id}?as_of={AS_OF}")
                mine = (label, node_id) in named or (label == "contract" and node_id in own_contracts)
                exists_as_item = label in ("factory", "agency", "finding", "source")
                if not mine and (exists_as_item or node_id not in allowed):
                    assert response.status_code == 404, (who, label, node_id, response.text[:200])
                    continue
                if not mine:
                    continue
                assert response.status_code == 200, (who, label, node_id, response.text[:200])
                opened[label] += 1
                body = response.json()
                shown = {n["node"]["id"] for n in body["neighbours"]["items"]} | {s["id"] for s in body["sources"]}
                assert shown <= allowed, (who, label, node_id, sorted(shown - allowed))
                assert body["neighbours"]["count"] == len(body["neighbours"]["items"]) + body["neighbours"]["rest"]
                text = json.dumps(body["properties"])
                foreign = {i for ids2 in everything.values() for i in ids2} - allowed - {node_id}
                assert not [i for i in foreign if f'"{i}"' in text], (who, label, node_id, text[:300])
    assert opened["factory"] and opened["agency"] and opened["finding"] and opened["source"] and opened["contract"]


def test_the_ui_answer_list_opens_with_the_summary_and_the_most_severe_finding(api: Api) -> None:
    from fastapi.testclient import TestClient

    for who in ("investigator", "affiliate:AF-LIN"):
        ui = TestClient(api.client.app, base_url="https://testserver", headers={"Origin": "https://testserver"})
        assert ui.post("/ui/login", data={"key": api.keys[who]}, follow_redirects=False).status_code == 303
        page = ui.get(f"/ui/exposure/affiliate/AF-LIN?as_of={AS_OF}").text
        summary = page[page.index('id="answer-summary"'):]
        assert "5 open findings, 2 factories, 3 agencies" in summary[:400]
        assert "1 critical, 2 high, 2 medium" in summary[:600]
        kinds = re.findall(r'class="answer answer-(\w+)"', page)
        assert kinds[:5] == ["finding"] * 5 and "factory" in kinds[5:]
        first = page[page.index('class="answer answer-finding"'):]
        assert first.index("FI-205") < first.index("FI-203") < first.index("FI-204")
        assert "Openfield Labour Monitor, reported 2025-02-20: Fees lent by the broker" in first


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.test_cli import cli

    db = tmp_path_factory.mktemp("cli-answers") / "db"
    assert cli("load", str(DEMO), db=db).returncode == 0
    return db


def test_cli_filters_and_exports(demo_db: Any, tmp_path: Any) -> None:
    from tests.test_cli import cli

    base = ("exposure", "AF-LIN", "--as-of", AS_OF)
    whole = json.loads(cli(*base, "--json", db=demo_db).stdout)
    severe = json.loads(cli(*base, "--json", "--min-severity", "high", db=demo_db).stdout)
    assert [f["id"] for f in severe["findings"]] == [f["id"] for f in whole["findings"] if f["severity"] in SEVERITY[:2]]
    assert severe["summary"]["findings"] == 3 and severe["factories"] == whole["factories"]
    fees = json.loads(cli(*base, "--format", "json", "--category", "recruitment_fees", db=demo_db).stdout)
    assert [f["id"] for f in fees["findings"]] == ["FI-203", "FI-204"]
    table = cli(*base, db=demo_db).stdout
    assert table.index("5 open findings, 2 factories, 3 agencies") < table.index("Open findings") < table.index(
        "Factories")
    assert "SRC-10: Compliance report: recruitment of Myanmar workers" in table
    out = tmp_path / "lin.csv"
    assert cli(*base, "-o", str(out), db=demo_db).returncode == 0  # the format from the suffix
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [r["id"] for r in rows] == [i["id"] for k in ("findings", "factories", "agencies", "gaps") for i in whole[k]]
    book = tmp_path / "lin.xlsx"
    assert cli(*base, "--format", "xlsx", "-o", str(book), "--min-severity", "critical", db=demo_db).returncode == 0
    sheet = [[c.value for c in r] for r in openpyxl.load_workbook(book)["exposure"].iter_rows()]
    assert [r[1] for r in sheet[1:] if r[0] == "finding"] == ["FI-205"]
    for bad, says in (
        (("--format", "xlsx"), "-o FILE"),
        (("--format", "pdf"), "--format"),
        (("--category", "rumours"), "--category"),
        (("--min-severity", "huge"), "min_severity"),
        (("-o", str(tmp_path / "nowhere" / "x.csv")), "no folder"),
    ):
        result = cli(*base, *bad, db=demo_db)
        assert result.returncode == 2 and says in result.stderr, (bad, result.stderr)
    assert not (tmp_path / "nowhere").exists()
    help_text = " ".join(cli("exposure", "--help").stdout.split())
    for option in ("--category", "--min-severity", "--format", "--output"):
        assert option in help_text
    assert "low, medium, high or critical" in help_text


# ------------------------------------------------------------------ search


def found(api: Api, who: str, **params: Any) -> list[tuple[str, str]]:
    response = api.call(who, "GET", "/v1/entities", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] >= len(body["items"])
    return [(i["type"], i["id"]) for i in body["items"]]


def test_search_folds_accents_case_and_word_order(api: Api) -> None:
    factories = read_rows("factories.csv")
    assert found(api, "investigator", q="Modra") == [("affiliate", "AF-MSK")]  # "City of Modrá Skála"
    assert found(api, "investigator", q="brana DOLNI") == [("affiliate", "AF-DBH")]  # "Dolní Brána ..."
    assert ("factory", "FA-SH2") in found(api, "investigator", q="Heron Plant 2")
    assert ("factory", "FA-SH1") not in found(api, "investigator", q="Heron Plant 2")  # "2" is not "12"
    for factory_id, row in factories.items():  # every OS ID, and a word of every address
        if row["os_id"]:
            assert found(api, "investigator", q=row["os_id"].lower())[0] == ("factory", factory_id)
        word = row["address"].split()[-1]
        assert ("factory", factory_id) in found(api, "investigator", q=word, type="factory")
    assert found(api, "investigator", q="TH-REC-DEMO-0471") == [("agency", "AG-TH1")]  # a licence number


def test_search_filters_and_order(api: Api) -> None:
    factories = read_rows("factories.csv")
    heron = found(api, "investigator", q="heron")
    kinds = [k for k, _i in heron]
    assert kinds.index("factory") < kinds.index("source") and kinds == sorted(kinds, key=["factory", "company",
                                                                                           "source"].index)
    thai = found(api, "investigator", type="factory", country="TH")
    assert {i for _k, i in thai} == {f for f, row in factories.items() if row["country"] == "TH"}
    czech = found(api, "investigator", q="plant", country="cz", type="factory")
    assert set(czech) == {
        ("factory", f) for f, row in factories.items()
        if row["country"] == "CZ" and "plant" in (row["name"] + " " + row["address"]).lower().split()
    }
    ids = [i for _k, i in found(api, "investigator", q="FI-20", type="finding")]
    assert ids == sorted(ids, key=natural_key) and ids[:3] == ["FI-201", "FI-202", "FI-203"]
    assert found(api, "investigator", q="ct-lin-01", type="contract") == [("contract", "CT-LIN-01")]


def test_an_affiliate_search_finds_its_own_paths_only(api: Api) -> None:
    from fastapi.testclient import TestClient

    for affiliate in AFFILIATE_KEYS:
        who = f"affiliate:{affiliate}"
        today = api.call(who, "GET", f"/v1/affiliates/{affiliate}/exposure").json()
        named = answer_names(today)
        held = api.call(who, "POST", "/v1/queries/contracts_of_affiliate", {"affiliate_id": affiliate}).json()
        named |= {("contract", r["contract"]) for r in held["rows"]}
        everything = found(api, who)
        assert everything and set(everything) <= named
        for factory in today["factories"]:
            assert ("factory", factory["id"]) in found(api, who, q=factory["name"])
        assert not found(api, who, q="Modra") or affiliate == "AF-MSK"
    ui = TestClient(api.client.app, base_url="https://testserver", headers={"Origin": "https://testserver"})
    ui.post("/ui/login", data={"key": api.keys["affiliate:AF-LIN"]}, follow_redirects=False)
    page = ui.get("/ui/search", params={"q": "teakwood precision"}).text
    assert "FA-TWP1" in page and "No match" not in page
    assert "FA-SH2" not in ui.get("/ui/search", params={"q": "heron"}).text
