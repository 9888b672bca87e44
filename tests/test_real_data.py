"""Real public files load as their publishers publish them (tests/fixtures/real/SOURCES.md), and what is stored
equals the reference: ocdsmerge's compiled release of each ocid, every supplier, every OS Hub row, every listed
FollowTheMoney entity. Fictional edge cases (tests/fixtures/sources/ocds-cases.jsonl, invented names) cover what
the real excerpts lack: consortia, several contracts per award, unsuccessful awards, a dangling awardID, a process
without a buyer and invalid records."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from supplygraph.graph.errors import BundleError
from supplygraph.loaders import detect_format, read_source
from supplygraph.loaders.oshub import slug
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.loaders.quarantine import write_rejects

from benchmarks.real_data_check import compare
from tests.conftest import DEMO
from tests.graph_dump import dump_graph

REAL = Path(__file__).resolve().parent / "fixtures" / "real"
CASES = Path(__file__).resolve().parent / "fixtures" / "sources" / "ocds-cases.jsonl"
OCDS = [
    "mexico-city-1.0.json",  # OCDS 1.0, inline buyer and awards/suppliers, no parties
    "paraguay-1.0-award.json",  # OCDS 1.0 compiled release
    "paraguay-1.1-contract-only.json",  # a contract-only release: no buyer anywhere
    "paraguay-record-1.0.json",  # a record package of 1.0
    "moldova-records.json",  # 1.1 record package with parties and compiledRelease
    "two-packages.json",  # two release packages, one per line, in a .json file
    "fictional-1.1-releases.json",  # 1.1 release package: planning to implementation of one ocid
    "portugal-array-of-packages.json",  # a JSON array of release packages
]


@pytest.mark.parametrize("name", OCDS)
def test_ocds_file_stores_what_ocdsmerge_compiles(name: str) -> None:
    report = compare(REAL / name)
    assert report["disagreements"] == []
    assert report["stored"] == report["expected"]


def test_every_contract_of_an_award_and_every_supplier_reach_the_graph(store) -> None:
    load_bundles(store, [CASES], skip_invalid=True)
    rows = store.run(
        "MATCH (a:Affiliate)-[:HOLDS]->(c:Contract) OPTIONAL MATCH (c)-[:AWARDED_TO]->(s:Company) "
        "RETURN c.id AS id, c.value AS value, a.id AS buyer, c.award_status AS award_status, "
        "collect(s.name) AS suppliers",
        {},
    )
    got = {r["id"]: r for r in rows}
    consortium = ["Alderpine Devices Ltd", "Brackenford Systems Ltd"]
    for cid, value in (("c1", 1000.0), ("c2", None), ("c3", 500.0)):  # three contracts on award a1
        row = got[f"ocds-f1ct10-CASE-A/{cid}"]
        assert sorted(row["suppliers"]) == consortium and row["value"] == value  # c2's value is not the award's
        assert row["buyer"] == "XX-FICT-B1"  # from the earlier releases of the ocid
    assert not [r for r in rows if "Coldwater Trading Ltd" in r["suppliers"]]  # the unsuccessful bidder
    assert got["ocds-f1ct10-CASE-E/ec1"]["award_status"] == "cancelled"
    assert got["ocds-f1ct10-CASE-B/bc1"]["suppliers"] == []  # its awardID names no award
    assert "ocds-f1ct10-CASE-C/cc1" not in got  # no buyer in any release
    assert "ocds-f1ct10-CASE-D/dc1" not in got  # ends before it starts: set aside
    amended = got["ocds-f1ct10-CASE-F/f1"]  # a later release adds a supplier and sets the value to null
    assert sorted(amended["suppliers"]) == consortium and amended["value"] is None
    report = compare(CASES, skip_invalid=True)
    assert report["disagreements"] == [] and report["stored"]["contracts"] == len(got)


def test_strict_load_refuses_and_skip_invalid_reports_every_rejected_record(store, tmp_path: Path) -> None:
    load_bundles(store, [DEMO])
    before = dump_graph(store)
    data = tmp_path / "cases.jsonl"
    data.write_bytes(CASES.read_bytes())
    with pytest.raises(BundleError, match=r"cases.jsonl:7: expected a number, found str '12k'"):
        load_bundles(store, [data])
    assert dump_graph(store) == before
    report = load_bundles(store, [data], skip_invalid=True)
    assert report.skipped == 3  # the release on line 7, the contract on line 6, and its item, which refers to it
    (written,) = write_rejects(report.rejects, [data])
    assert written == tmp_path / "rejects.jsonl"
    rejects = [json.loads(line) for line in written.read_text().splitlines()]
    by_line = {(r["line"], r["column"]): r for r in rejects}
    typed = by_line[(7, None)]
    assert typed["file"] == "cases.jsonl" and "'12k'" in typed["problem"] and typed["record"]["id"] == "E-1"
    dates = by_line[(6, "end_date")]
    assert dates["pointer"] == "#/contracts/0" and "start_date after end_date" in dates["problem"]
    item = by_line[(6, "contract_id")]  # the contract's item refers to the skipped contract: reported, not dropped
    assert "ocds-f1ct10-CASE-D/dc1" in item["problem"] and item["pointer"] == "#/contracts/0/items/0"
    assert store.run("MATCH (c:Contract {id: $id}) RETURN count(*) AS n", {"id": "ocds-f1ct10-CASE-D/dc1"})[0]["n"] == 0


def test_bundle_with_a_bad_row_loads_the_rest_with_skip_invalid(store, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "factories.csv").write_text("factory_id,name,country\nF1,One,Atlantis\nF2,Two,CN\n")
    (bundle / "findings.csv").write_text(
        "finding_id,subject_type,subject_id,category\nX1,factory,F1,wages\nX2,factory,F2,wages\n"
    )
    with pytest.raises(BundleError):
        load_bundles(store, [bundle])
    report = load_bundles(store, [bundle], skip_invalid=True)
    assert [(r["file"], r["line"], r["column"]) for r in report.rejects] == [
        ("factories.csv", 2, "country"),
        ("findings.csv", 2, "subject_id"),
    ]
    assert report.skipped == 2
    ids = {r["id"] for label in ("Factory", "Finding") for r in store.run(f"MATCH (n:{label}) RETURN n.id AS id", {})}
    assert ids == {"F2", "X2"}


def test_non_utf8_file_is_named_with_its_likely_encoding_and_reads_with_encoding(store) -> None:
    path = REAL / "iso-8859-1.json"
    with pytest.raises(BundleError) as caught:
        load_bundles(store, [path])
    (problem,) = caught.value.problems
    assert str(problem) == (
        "iso-8859-1.json:1: this file is not UTF-8 (looks like iso-8859-1): byte 0xd3 at character 593 is not "
        "valid UTF-8; read it with --encoding iso-8859-1"
    )
    load_bundles(store, [path], encoding="iso-8859-1")
    names = {r["n"] for r in store.run("MATCH (a:Affiliate) RETURN a.name AS n", {})}
    raw = json.loads(path.read_bytes().decode("iso-8859-1"))["releases"][0]["buyer"]["name"]
    assert raw in names and "Ó" in path.read_bytes().decode("iso-8859-1")
    assert compare(path, encoding="iso-8859-1")["disagreements"] == []


def test_two_concatenated_json_documents_get_a_clear_message(tmp_path: Path) -> None:
    data = json.loads((REAL / "fictional-1.1-releases.json").read_text())
    path = tmp_path / "twice.json"
    path.write_text(json.dumps(data, indent=2) + "\n" + json.dumps(data, indent=2))
    with pytest.raises(
        BundleError, match=r"twice.json: a second JSON document starts near byte [\d,]+: the file holds"
    ):
        read_source(path)


def _listed_companies(path: Path) -> dict[str, dict]:
    entities = {}
    for line in path.read_text().splitlines():
        entity = json.loads(line)
        entity = entity.get("entity", entity) if "op" in entity else entity
        entities[entity["id"]] = entity
    return {k: e for k, e in entities.items() if e.get("schema") in ("Company", "Organization") and e.get("target")}


@pytest.mark.parametrize("form", ["lines", "array", "ijson"])
def test_every_listed_ftm_entity_is_a_finding(store, tmp_path: Path, form: str) -> None:
    source = REAL / "yente-zala.ftm.json"  # JSON Lines in a .json file, as yente writes it
    path = source
    if form == "array":
        path = tmp_path / "zala.json"
        path.write_text(json.dumps([json.loads(line) for line in source.read_text().splitlines()], indent=2))
    elif form == "ijson":
        path = tmp_path / "zala.ijson"
        path.write_bytes(source.read_bytes())
    assert detect_format(path) == "ftm"
    load_bundles(store, [path])
    found = store.run("MATCH (f:Finding)-[:CONCERNS]->(c:Company) RETURN DISTINCT c.ftm_id AS id", {})
    assert {r["id"] for r in found} == set(_listed_companies(source))
    companies = store.run("MATCH (c:Company) WHERE c.ftm_id IS NOT NULL RETURN count(*) AS n", {})[0]["n"]
    assert companies == sum('"Company"' in line.split('"schema"')[1][:12] for line in source.read_text().splitlines())


def test_yente_delta_file_is_applied(store) -> None:
    path = REAL / "yente-t2.delta.json"
    ops = [json.loads(line) for line in path.read_text().splitlines()]
    assert [o["op"] for o in ops] == ["ADD", "ADD", "ADD", "MOD", "DEL", "ADD"]
    report = load_bundles(store, [path])
    rows = store.run("MATCH (c:Company) RETURN c.ftm_id AS id, c.datasets AS datasets", {})
    assert [r["id"] for r in rows] == ["NK-2T3S8Hu29ktYnKSTgQp2wL"]  # the DEL removed the other organisation
    datasets = rows[0]["datasets"]
    assert (datasets if isinstance(datasets, str) else "|".join(datasets)) == "eu_fsf"  # the MOD's version
    assert any("Person (2)" in str(w) for w in report.warnings)


def test_yente_delta_deleting_what_it_does_not_add_warns(tmp_path: Path) -> None:
    path = tmp_path / "entities.delta.json"
    path.write_text(json.dumps({"op": "DEL", "entity": {"id": "NK-gone"}}) + "\n")
    bundle = read_source(path)
    assert any("DEL of entity 'NK-gone', which this file does not add" in str(w) for w in bundle.warnings)
    path.write_text(json.dumps({"op": "UPSERT", "entity": {"id": "NK-x"}}) + "\n")
    with pytest.raises(BundleError, match=r"entities.delta.json#/op: unknown delta operation 'UPSERT'"):
        read_source(path)


@pytest.mark.parametrize("name", ["oshub-list-12.csv", "oshub-list-15.csv"])
def test_every_open_supply_hub_contributor_list_row_is_a_factory(store, name: str) -> None:
    path = REAL / name
    with path.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert detect_format(path) == "oshub"
    load_bundles(store, [path])
    factories = {r["id"]: r for r in store.run("MATCH (f:Factory) RETURN f.id AS id, f.address AS address", {})}
    expected = {f"oshub:{slug(r['country'])}:{slug(r['name'])}" for r in rows}
    assert set(factories) == expected
    assert {r["address"].strip() for r in rows} <= {f["address"] for f in factories.values()}


def test_contributor_list_without_address_names_the_required_columns(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("country,name,sector\nPE,Telares Ficticios SAC,Apparel\n")
    with pytest.raises(BundleError, match="neither an Open Supply Hub"):
        read_source(path)
