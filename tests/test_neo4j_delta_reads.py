"""On a real Neo4j, an incremental load keeps the bulk reads of its own load (graph/stores/neo4j_delta_reads.py):
every read the previous load kept is kept for the new one, equal to a fresh read of the new live graph, and a
new reader builds its index and answers without reading the live graph, with the answers of one fresh load."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from supplygraph.graph.settings import Neo4jSettings
from supplygraph.graph.stores import neo4j_delta_reads as delta_reads
from supplygraph.graph.stores.neo4j_delta_reads import read_depends_on
from supplygraph.graph.stores.neo4j_snapshots import READ_LABEL, Snapshots, read_key
from supplygraph.graph.stores.neo4j_store import Neo4jStore
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries import cypher
from supplygraph.queries.exposure import exposure_for_affiliate

from tests.conftest import DEMO, require_neo4j

AFFILIATES = ("AF-UNB", "AF-LIN")
AS_OF = date(2026, 6, 1)


class CountingStore(Neo4jStore):
    """A real Neo4j store that counts its reads of the live graph in bulk."""

    live_reads = 0

    def run_arrow(self, cypher: str, params: Mapping[str, Any] | None = None, tx: Any = None) -> pa.Table:
        if tx is None:
            self.live_reads += 1
        return super().run_arrow(cypher, params, tx)


def store_at(uri: str, folder: Path, kind: type[Neo4jStore] = Neo4jStore) -> Neo4jStore:
    settings = Neo4jSettings()
    return kind(uri, settings.user, settings.password, settings.database, index_cache=folder)


def answers(store: Neo4jStore) -> dict[str, Any]:
    return {a: exposure_for_affiliate(store, a, AS_OF, provenance=True).as_json() for a in AFFILIATES}


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def monitor_bundle(folder: Path, kind: str) -> Path:
    """A fictional monitor's bundle about the demo's factories and agencies: findings only, or links too."""
    files = {
        "sources.csv": "source_id,title,url,published_on,kind\nSRC-M1,Monitor audit,https://example.org/m1,2026-01-10,audit\n",
        "findings.csv": "finding_id,subject_type,subject_id,category,severity,status,reported_on,closed_on,monitor,summary,"
        "source_id\nFI-M1,factory,FA-SH2,recruitment_fees,high,open,2026-01-15,,Monitor,Fees,SRC-M1\n"
        "FI-M2,agency,AG-CN1,wages,low,open,2026-01-15,,Monitor,Wages,SRC-M1\n",
    }
    if kind == "links":
        files["supply.csv"] = (
            "supplier_factory_id,buyer_factory_id,component,valid_from,valid_to,source_id\n"
            "FA-DVB,FA-SH2,notebook battery packs,2025-01-01,,SRC-M1\n"
        )
        files["placements.csv"] = (
            "agency_id,factory_id,worker_origin,workers,valid_from,valid_to,source_id\nAG-CN1,FA-SH1,CN,90,2025-01-01,,SRC-M1\n"
        )
    return write(folder / f"monitor-{kind}", files)


def kept_keys(store: Neo4jStore, load: str) -> set[str]:
    rows = store.run(f"MATCH (r:{READ_LABEL} {{load: $load}}) RETURN DISTINCT r.key AS key", {"load": load})
    return {r["key"] for r in rows}


def rows_of(table: pa.Table) -> list[str]:
    return sorted(repr(sorted(row.items())) for row in table.to_pylist())


@pytest.fixture
def uri(tmp_path: Path) -> str:
    found = require_neo4j()
    store = store_at(found, tmp_path / "wipe")
    store.wipe()
    store.close()
    return found


@pytest.mark.parametrize("kind", ["findings", "links"])
def test_an_incremental_load_keeps_every_read_of_the_load_before(uri: str, tmp_path: Path, kind: str) -> None:
    store = store_at(uri, tmp_path / "loader")
    load_bundles(store, [DEMO])
    first = store_at(uri, tmp_path / "first")
    answers(first)  # the first load's reads, kept by the first reader
    first.close()
    previous = store.generation
    assert previous is not None
    before = kept_keys(store, previous)
    assert before
    report = load_bundles(store, [monitor_bundle(tmp_path, kind)], incremental=True)
    assert report.rebuilt_because == ""
    load = store.generation
    assert load is not None and load != previous
    assert kept_keys(store, load) == before
    snapshots = Snapshots(store)
    for text, params in snapshots.queries(load):
        kept = snapshots.get(load, read_key(text, params))
        assert kept is not None, text
        assert rows_of(kept) == rows_of(store.run_arrow(text, params)), text
    reader = store_at(uri, tmp_path / "reader", CountingStore)
    after = answers(reader)
    assert isinstance(reader, CountingStore) and reader.live_reads == 0
    assert kept_keys(store, load) == before  # no read kept on demand
    reader.close()
    store.wipe()
    load_bundles(store, [DEMO, monitor_bundle(tmp_path / "again", kind)], fresh=True, incremental=False)
    once = store_at(uri, tmp_path / "once")
    assert after == answers(once)
    once.close()
    store.close()


def test_what_a_read_depends_on_is_read_from_its_text() -> None:
    assert read_depends_on(cypher.ALL_SUPPLY_LINKS) == ({"Factory"}, {"SUPPLIES"})
    found = read_depends_on(cypher.ALL_FACTORIES)
    assert found == ({"Factory"}, set())
    assert read_depends_on("MATCH (n) RETURN count(n) AS n") is None  # no label
    assert read_depends_on("MATCH (f:Factory)-[r]->(x) RETURN x.id AS id") is None  # an untyped relationship
    assert read_depends_on("MATCH (f:Factory) MATCH (x) WHERE x.id = f.id RETURN x.name AS n") is None
    labels, types = read_depends_on("MATCH (g:Agency)-[:PLACES_WORKERS_AT]->(f) RETURN f.name AS n") or (set(), set())
    assert "Factory" in labels and types == {"PLACES_WORKERS_AT"}


def test_reads_kept_by_reference_outlive_the_loads_dropped(uri: str, tmp_path: Path) -> None:
    store = store_at(uri, tmp_path / "loader")
    load_bundles(store, [DEMO])
    first = store_at(uri, tmp_path / "first")
    answers(first)
    first.close()
    loads = []
    for n in range(3):  # three findings-only loads: most reads refer to the first load's data
        assert (
            load_bundles(store, [monitor_bundle(tmp_path / f"m{n}", "findings")], incremental=True).rebuilt_because
            == ""
        )
        loads.append(store.generation)
    rows = store.run(f"MATCH (r:{READ_LABEL}) RETURN DISTINCT r.load AS load, r.data_of AS data_of")
    held = {r["load"] for r in rows}
    referred = {r["data_of"] for r in rows if r["data_of"]}
    assert referred and held == set(loads[-2:]) | referred  # older loads dropped, but for data still referred to
    snapshots = Snapshots(store)
    for text, params in snapshots.queries(loads[-1]):
        kept = snapshots.get(loads[-1], read_key(text, params))
        assert kept is not None and rows_of(kept) == rows_of(store.run_arrow(text, params)), text
    reader = store_at(uri, tmp_path / "reader", CountingStore)
    answers(reader)
    assert isinstance(reader, CountingStore) and reader.live_reads == 0
    reader.close()
    store.close()


def test_large_changed_reads_are_left_to_the_first_reader(
    uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A changed read above the size bound is not read again in the load's transaction: the first reader of the new
    load reads it from the live graph (the graph is exactly that load's) and keeps it; the answers are those of
    one fresh load."""
    monkeypatch.setattr(delta_reads, "READ_AGAIN_MAX_BYTES", -1)  # every changed read counts as large
    store = store_at(uri, tmp_path / "loader")
    load_bundles(store, [DEMO])
    first = store_at(uri, tmp_path / "first")
    answers(first)
    first.close()
    previous = store.generation
    assert previous is not None
    before = kept_keys(store, previous)
    report = load_bundles(store, [monitor_bundle(tmp_path, "links")], incremental=True)
    assert report.rebuilt_because == ""
    load = store.generation
    assert load is not None
    kept_now = kept_keys(store, load)
    changed = before - kept_now
    assert kept_now and changed  # the supply and placement reads among those left out
    assert any(
        "SUPPLIES" in text for text, params in Snapshots(store).queries(previous) if read_key(text, params) in changed
    )
    reader = store_at(uri, tmp_path / "reader", CountingStore)
    after = answers(reader)
    assert isinstance(reader, CountingStore) and reader.live_reads == len(changed)
    assert kept_keys(store, load) == before  # kept by the first reader for everyone after it
    reader.close()
    store.wipe()
    load_bundles(store, [DEMO, monitor_bundle(tmp_path / "again", "links")], fresh=True, incremental=False)
    once = store_at(uri, tmp_path / "once")
    assert after == answers(once)
    once.close()
    store.close()
