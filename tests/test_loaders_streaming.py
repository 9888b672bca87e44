"""Large inputs in bounded memory, provenance of every node and relationship, dry runs of every format, and
listed entities matched to factories and agencies. All names are invented (demo bundle and fixtures)."""

from __future__ import annotations

import json
import random
import re
import tempfile
from datetime import date
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest
import supplygraph.graph.arrow_files as records
import supplygraph.loaders.canonical as canonical
from supplygraph.graph.errors import BundleError
from supplygraph.graph.tables import build_tables
from supplygraph.loaders import read_source
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.loaders.resolve import Decisions, matches_file, resolve_entities
from supplygraph.queries.exposure import exposure_for_affiliate

from benchmarks.ocds_generate import release
from tests.conftest import DEMO
from tests.graph_dump import dump_graph

SOURCES = Path(__file__).resolve().parent / "fixtures" / "sources"
TENDERS, FACILITIES, LISTED = SOURCES / "tenders.json", SOURCES / "facilities.csv", SOURCES / "listed.jsonl"
LOADED = re.compile(r", loaded \d{4}-\d\d-\d\d\)$")


@pytest.fixture(autouse=True)
def _local_data(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SUPPLYGRAPH_DB", str(tmp_path / "data"))  # Neo4j's matches file


def _releases(path: Path, count: int) -> Path:
    """JSON Lines of generated releases: amendments (same ocid, later date) and call-offs of frameworks."""
    rng = random.Random(3)
    with path.open("w") as fh:
        for n in range(count):
            fh.write(json.dumps(release(rng, n)) + "\n")
            if n % 7 == 6:  # an amendment of an earlier release
                earlier = release(random.Random(n), n - 4)
                earlier["date"], earlier["id"] = "2026-01-15T00:00:00Z", f"{earlier['ocid']}-2"
                fh.write(json.dumps(earlier) + "\n")
    return path


def _rows(table: pa.Table) -> list[dict]:
    return sorted(table.to_pylist(), key=repr)


def test_partitioned_spilled_read_equals_the_in_memory_read(tmp_path, monkeypatch) -> None:
    path = _releases(tmp_path / "releases.jsonl", 400)
    whole = read_source(path)
    assert canonical.partitions_for(path.stat().st_size) == 1
    monkeypatch.setattr(canonical, "PARTITION_BYTES", 40_000)  # ~ 20 partitions
    monkeypatch.setattr(canonical, "CHUNK", 97)  # many spilled pieces per partition
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "spill"))
    (tmp_path / "spill").mkdir()
    parts = read_source(path)
    assert canonical.partitions_for(path.stat().st_size) > 8
    assert set(parts.tables) == set(whole.tables)
    for name, table in whole.tables.items():
        assert _rows(parts.tables[name]) == _rows(table), name
    contracts = {r["id"]: r for r in whole.tables["contracts"].to_pylist()}
    assert sum(1 for r in contracts.values() if r["framework_id"]) > 50  # call-offs linked across partitions
    assert list((tmp_path / "spill").iterdir()) == []  # spill files are gone once read


def test_bad_line_in_a_partitioned_read_is_refused_with_its_line(tmp_path, monkeypatch) -> None:
    path = _releases(tmp_path / "releases.jsonl", 120)
    lines = path.read_text().splitlines()
    bad = json.loads(lines[80])
    bad["contracts"][0]["period"]["startDate"] = "31/02/2024"
    lines[80] = json.dumps(bad)
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(canonical, "PARTITION_BYTES", 40_000)
    with pytest.raises(BundleError, match=r"releases.jsonl:81: column 'start_date': .*\(at #/contracts/0\)"):
        read_source(path)


def test_graph_tables_built_in_batches_and_spilled_equal_the_plain_build(monkeypatch) -> None:
    bundles = [(p.stem, read_source(p).tables) for p in (DEMO, TENDERS, FACILITIES, LISTED)]
    resolved, _ = resolve_entities(bundles, Decisions())
    plain = build_tables(resolved)
    monkeypatch.setattr(records, "SPILL_BYTES", 0)
    monkeypatch.setattr(records, "BATCH", 7)
    spilled = build_tables(resolved)
    for label, table in plain.nodes.items():
        assert spilled.nodes[label].schema == table.schema and _rows(spilled.nodes[label]) == _rows(table), label
    assert [(p.type, p.source, p.target) for p in spilled.rels] == [(p.type, p.source, p.target) for p in plain.rels]
    for a, b in zip(plain.rels, spilled.rels, strict=True):
        assert a.table.column_names == b.table.column_names and _rows(a.table) == _rows(b.table), a.type


def test_every_node_and_relationship_names_file_format_record_and_load_time(store) -> None:
    load_bundles(store, [DEMO, TENDERS])
    factory = store.run("MATCH (f:Factory {id: 'FA-SH2'}) RETURN f.origins AS o")[0]["o"]
    assert len(factory) == 1 and factory[0].startswith("bundle/factories.csv:3 (bundle, loaded ")
    assert LOADED.search(factory[0])
    contract = store.run(
        "MATCH (c:Contract {id: $id}) RETURN c.origins AS o", {"id": "ocds-f1ct10-WHM-2024-017/WHM-2024-017-C"}
    )[0]["o"]
    assert contract[0].startswith("tenders/contracts.csv:") and " (ocds tenders.json#/releases/" in contract[0]
    assert LOADED.search(contract[0])
    for rel in ("HOLDS", "AWARDED_TO", "SUPPLIES", "PLACES_WORKERS_AT", "INCLUDES", "CONCERNS"):
        rows = store.run(f"MATCH ()-[r:{rel}]->() RETURN r.origin AS o")
        assert rows and all(LOADED.search(r["o"]) for r in rows), rel
    supplies = store.run("MATCH ()-[r:SUPPLIES]->() RETURN r.origin AS o, r.origin_line AS line")
    assert all(r["o"].startswith("bundle/supply.csv (bundle, loaded ") and r["line"] >= 2 for r in supplies)
    # A later load keeps the time each bundle was first read.
    load_bundles(store, [FACILITIES])
    again = store.run("MATCH (f:Factory {id: 'FA-SH2'}) RETURN f.origins AS o")[0]["o"]
    assert again[0] == factory[0]
    osh = store.run("MATCH (f:Factory {id: 'TH2020045LMP001'}) RETURN f.origins AS o")[0]["o"]
    assert LOADED.search(osh[0]) and osh[0] != factory[0].replace("bundle/factories.csv:3", "")


def _workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "factories"
    sheet.append(["factory_id", "name", "country"])
    sheet.append(["FA-XL1", "Marrowfield Cable Assembly", "Viet Nam"])
    book.save(path)
    return path


@pytest.mark.parametrize("source", ["bundle", "ocds", "oshub", "ftm", "xlsx"])
def test_dry_run_validates_every_format_and_writes_nothing(store, tmp_path, source) -> None:
    path = {"bundle": DEMO, "ocds": TENDERS, "oshub": FACILITIES, "ftm": LISTED}.get(source)
    path = path or _workbook(tmp_path / "supplier.xlsx")
    load_bundles(store, [DEMO])
    before = dump_graph(store)
    report = load_bundles(store, [path], dry_run=True)
    assert not report.written and report.rows_read > 0 and report.nodes > 0
    assert dump_graph(store) == before
    with pytest.raises(BundleError):  # and a broken one is refused in a dry run as well
        broken = tmp_path / f"broken{path.suffix or '.json'}"
        broken.write_bytes(b"\x00\x01not this format" if source != "bundle" else b"")
        load_bundles(store, [broken], dry_run=True)
    assert dump_graph(store) == before


LISTING_LINES = [
    {  # the demo's recruitment agency AG-CN1: same licence number
        "id": "fict-lst-aa01",
        "schema": "Organization",
        "properties": {
            "name": ["Yunbridge Labour Dispatch Services Company Limited"],
            "country": ["cn"],
            "registrationNumber": ["CN-LD-DEMO-0193"],
        },
        "datasets": ["fict_forced_labour_entity_list"],
        "target": True,
        "first_seen": "2025-02-01T00:00:00",
    },
    {  # the demo's factory FA-DVB: the same name (legal form aside), country and address
        "id": "fict-lst-aa02",
        "schema": "Company",
        "properties": {
            "name": ["Dawnvolt Battery Pack Plant Co., Ltd."],
            "country": ["cn"],
            "address": ["No. 6 Jinxing Road, Songhu Technology Park, Dongguan, Guangdong"],
        },
        "datasets": ["fict_forced_labour_entity_list"],
        "target": True,
        "first_seen": "2025-03-01T00:00:00",
    },
    {  # like FA-SH1 and FA-SH2 but neither: a reviewer decides
        "id": "fict-lst-aa03",
        "schema": "Company",
        "properties": {"name": ["Silver Heron Assembly"], "country": ["cn"]},
        "datasets": ["fict_forced_labour_entity_list"],
        "target": True,
        "first_seen": "2025-03-01T00:00:00",
    },
]


def test_listed_entity_matching_a_factory_or_agency_is_a_risk_on_exposure(store, tmp_path) -> None:
    path = tmp_path / "listed-more.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in LISTING_LINES))
    load_bundles(store, [DEMO, path])
    agency_finding = "listing:fict_forced_labour_entity_list:fict-lst-aa01@AG-CN1"
    factory_finding = "listing:fict_forced_labour_entity_list:fict-lst-aa02@FA-DVB"
    rows = store.run("MATCH (f:Finding)-[:CONCERNS]->(s) WHERE f.id CONTAINS '@' RETURN f.id AS id, s.id AS subject")
    assert {(r["id"], r["subject"]) for r in rows} == {(agency_finding, "AG-CN1"), (factory_finding, "FA-DVB")}
    # Independent oracle: every affiliate whose answer reaches AG-CN1 (or FA-DVB) lists the finding, on that subject.
    affiliates = [r["id"] for r in store.run("MATCH (a:Affiliate) RETURN a.id AS id")]
    reached = {agency_finding: 0, factory_finding: 0}
    for affiliate in affiliates:
        answer = exposure_for_affiliate(store, affiliate, date(2025, 6, 1))
        findings = {f["id"]: f for f in answer.findings}
        agencies = {a["id"] for a in answer.agencies}
        factories = {f["id"] for f in answer.factories}
        for fid, subject, exposed in (
            (agency_finding, "AG-CN1", agencies),
            (factory_finding, "FA-DVB", factories),
        ):
            assert (fid in findings) == (subject in exposed), (affiliate, fid)
            if fid in findings:
                reached[fid] += 1
                assert findings[fid]["path"][-2:] == [subject, fid]
                assert "ftm-source:" + fid.split(":")[2].split("@")[0] in findings[fid]["sources"]
    assert all(reached.values()), reached
    # The near match waits for a reviewer; a rejected pair never raises it, an accepted one does.
    queue = [m for m in Decisions.load(matches_file(store)).queue if m["label"] == "Listing"]
    assert {m["a"] for m in queue} == {"ftm:fict-lst-aa03"}
    decisions = Decisions.load(matches_file(store))
    pick = max((m for m in queue), key=lambda m: m["b"])
    decisions.decide(pick["id"], "accept")
    decisions.save()
    load_bundles(store, [])
    accepted = f"listing:fict_forced_labour_entity_list:fict-lst-aa03@{pick['b']}"
    assert store.run("MATCH (f:Finding {id: $id}) RETURN count(*) AS n", {"id": accepted})[0]["n"] == 1
    decisions = Decisions.load(matches_file(store))
    decisions.decide(pick["id"], "reject")
    decisions.save()
    load_bundles(store, [])
    assert store.run("MATCH (f:Finding {id: $id}) RETURN count(*) AS n", {"id": accepted})[0]["n"] == 0


def test_embedded_store_copies_tables_with_empty_record_batches(tmp_path) -> None:
    """LadybugDB's COPY from Arrow stops at an empty batch; batch-built tables have them (filtered batches)."""
    from supplygraph.graph.stores.ladybug_store import LadybugStore

    bundles = [("demo", read_source(DEMO).tables)]
    tables = build_tables(bundles)
    factories = tables.nodes["Factory"]
    empty = factories.slice(0, 0).to_batches() or [pa.RecordBatch.from_pylist([], factories.schema)]
    head, tail = factories.slice(0, 3), factories.slice(3)
    tables.nodes["Factory"] = pa.Table.from_batches([*head.to_batches(), *empty, *tail.to_batches()], factories.schema)
    store = LadybugStore(tmp_path / "db")
    store.replace([], tables)
    assert store.run("MATCH (f:Factory) RETURN count(*) AS n")[0]["n"] == factories.num_rows
