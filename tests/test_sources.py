"""Loaders for OCDS, Open Supply Hub, FollowTheMoney and spreadsheets, loaded with a bundle; entity resolution.

Fixtures in tests/fixtures/sources are hand-written from each format's documentation; every name is invented.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from supplygraph.graph.errors import BundleError
from supplygraph.loaders import detect_format, read_source
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.loaders.resolve import score
from supplygraph.queries.exposure import exposure_for_affiliate

from tests.conftest import DEMO
from tests.graph_dump import dump_graph

SOURCES = Path(__file__).resolve().parent / "fixtures" / "sources"
TENDERS, FACILITIES, LISTED = SOURCES / "tenders.json", SOURCES / "facilities.csv", SOURCES / "listed.jsonl"
LISTING = "listing:fict_forced_labour_entity_list:fict-lst-7c1e0a"


@pytest.fixture(autouse=True)
def _local_data(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SUPPLYGRAPH_DB", str(tmp_path / "data"))  # Neo4j's matches file


def test_formats_are_detected() -> None:
    assert [detect_format(p) for p in (DEMO, TENDERS, FACILITIES, LISTED)] == ["bundle", "ocds", "oshub", "ftm"]


def test_ocds_merges_releases_and_links_call_offs() -> None:
    contracts = {r["id"]: r for r in read_source(TENDERS).tables["contracts"].to_pylist()}
    call_off = contracts["ocds-f1ct10-WHM-2024-017/WHM-2024-017-C"]
    assert call_off["end_date"] == date(2027, 2, 28)  # the amendment's later value wins
    assert call_off["start_date"] == date(2024, 3, 1)  # the earlier release's value stays
    assert call_off["framework_id"] == "ocds-f1ct10-NUPC-2022-001/NUPC-2022-001-L1-C"
    assert call_off["value"] == 285000 and call_off["currency"] == "GBP" and call_off["cpv"] == "30213100"
    framework = contracts["ocds-f1ct10-NUPC-2022-001/NUPC-2022-001-L1-C"]
    assert framework["framework_id"] is None and framework["item_categories"] == "notebook"


def test_oshub_rows_split_lists_merge_contributions_and_mark_closed() -> None:
    factories = {r["id"]: r for r in read_source(FACILITIES).tables["factories"].to_pylist()}
    assert set(factories) == {"CN2021088SHP2A7", "CN2019112DVB9K3", "TH2020045LMP001"}  # spaces/hyphens removed
    plant = factories["CN2021088SHP2A7"]
    assert plant["workers"] == 14500 and plant["contributor"].count("|") == 1  # the later contribution wins
    assert plant["processing_type"] == "Assembly|Surface Mount Technology"
    assert factories["TH2020045LMP001"]["is_closed"] == "true" and plant["is_closed"] == "false"
    assert factories["CN2019112DVB9K3"]["workers"] == 1001  # lower bound of 1001-5000


def test_xlsx_workbook_is_a_bundle(tmp_path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "factories"
    sheet.append(["factory_id", "name", "country", "workers", "audited_on"])
    sheet.append(["FA-XL1", "Marrowfield Cable Assembly", "Viet Nam", 820.0, date(2024, 5, 2)])
    book.create_sheet("agencies").append(["agency_id", "name"])  # country column missing
    book.save(tmp_path / "supplier.xlsx")
    with pytest.raises(BundleError, match=r"supplier.xlsx\[agencies\]:1: column 'country': required column"):
        read_source(tmp_path / "supplier.xlsx")
    del book["agencies"]
    book.save(tmp_path / "supplier.xlsx")
    row = read_source(tmp_path / "supplier.xlsx").tables["factories"].to_pylist()[0]
    assert (row["country"], row["workers"], row["audited_on"]) == ("VN", 820, "2024-05-02")


def test_sources_load_together_and_exposure_follows_merged_entities(store) -> None:
    load_bundles(store, [DEMO, TENDERS, FACILITIES, LISTED])
    # Westerholm is only in the OCDS file; its call-off names the model, the bundle says where it is assembled.
    answer = exposure_for_affiliate(store, "GB-FICT-WHM", date(2025, 6, 1))
    tiers = {f["id"]: f["tier"] for f in answer.factories}
    assert tiers["FA-SH2"] == 1 and tiers["FA-DVB"] == 2
    assert "CN2021088SHP2A7" not in tiers  # the Open Supply Hub record is FA-SH2
    findings = {f["id"]: f for f in answer.findings}
    assert {"FI-101", LISTING} <= set(findings)
    listing = findings[LISTING]
    assert listing["subject"] == {"type": "company", "id": "CO-SHM"}  # the listed entity is the operator
    assert listing["path"][-3:] == ["FA-SH2", "CO-SHM", LISTING]
    assert "ftm-source:fict-lst-7c1e0a" in listing["sources"]
    # Merged nodes keep every source id and name variant; the closed facility is marked.
    rows = store.run("MATCH (c:Company {id: $id}) RETURN c.merged_ids AS ids, c.listed AS listed", {"id": "CO-SHM"})
    assert "ftm:fict-lst-7c1e0a" in rows[0]["ids"] and rows[0]["ids"].count("oshub-company:") == 1
    assert rows[0]["listed"] == "fict_forced_labour_entity_list since 2024-06-12"
    rows = store.run("MATCH (f:Factory {id: $id}) RETURN f.os_id AS os, f.name_variants AS v", {"id": "FA-SH2"})
    assert rows[0]["os"] == "CN2021088SHP2A7" and "Silver Heron Assembly Plant 2" in rows[0]["v"]
    rows = store.run("MATCH (f:Factory {id: $id}) RETURN f.is_closed AS closed", {"id": "TH2020045LMP001"})
    assert rows[0]["closed"] == "true"
    # The university's own OCDS call-off and the bundle's AF-UNB are one affiliate.
    assert store.run("MATCH (a:Affiliate {id: $id}) RETURN count(*) AS n", {"id": "GB-FICT-UNB"})[0]["n"] == 0
    held = store.run("MATCH (a:Affiliate {id: $id})-[:HOLDS]->(c:Contract) RETURN c.id AS c", {"id": "AF-UNB"})
    assert "ocds-f1ct10-UNB-2025-004/UNB-2025-004-C" in {r["c"] for r in held}


def _broken(tmp_path: Path, kind: str) -> tuple[Path, str]:
    if kind == "broken_json":
        path = tmp_path / "tenders.json"
        path.write_text(TENDERS.read_text()[:2500])
        return path, r"tenders.json#/releases/1: broken JSON"
    if kind == "ocds_types":
        data = json.loads(TENDERS.read_text())
        data["releases"][1]["contracts"][0]["value"]["amount"] = "285k"
        path = tmp_path / "tenders.json"
        path.write_text(json.dumps(data))
        return path, r"tenders.json#/releases/1/contracts/0/value/amount: expected a number, found str '285k'"
    if kind == "ocds_lines":
        path = tmp_path / "releases.jsonl"
        releases = json.loads(TENDERS.read_text())["releases"]
        path.write_text("\n".join(json.dumps(r) for r in releases[:2]) + "\n{\"ocid\": \"x\", \n")
        return path, r"releases.jsonl:3: broken JSON"
    if kind == "os_id":
        path = tmp_path / "facilities.csv"
        path.write_text(FACILITIES.read_text().replace("TH2020045LMP001", "TH-20-45-LMP"))
        return path, r"facilities.csv:5: column 'os_id': 'TH-20-45-LMP' is not an OS ID"
    path = tmp_path / "listed.jsonl"
    path.write_text(LISTED.read_text().replace('"schema": "Organization"', '"schema": "Organisation"'))
    return path, r"listed.jsonl:5: unknown FollowTheMoney schema 'Organisation'"


@pytest.mark.parametrize("kind", ["broken_json", "ocds_types", "ocds_lines", "os_id", "ftm_schema"])
def test_bad_input_is_refused_naming_where_and_nothing_changes(store, tmp_path, kind) -> None:
    load_bundles(store, [DEMO, LISTED])
    before = dump_graph(store)
    path, message = _broken(tmp_path, kind)
    with pytest.raises(BundleError, match=message):
        load_bundles(store, [FACILITIES if kind != "os_id" else TENDERS, path])
    assert dump_graph(store) == before


def test_scores() -> None:
    a = {"name": "Silver Heron Manufacturing Co., Ltd.", "country": "CN"}
    assert score(a, {"name": "Silver Heron Manufacturing Company Limited", "country": "CN"}) >= 0.8
    assert score(a, {"name": "Silver Heron Manufacturing Co., Ltd.", "country": "VN"}) == 0.0
    assert score({"name": "Heron Plant 1", "country": "CN"}, {"name": "Heron Plant 2", "country": "CN"}) < 0.8
