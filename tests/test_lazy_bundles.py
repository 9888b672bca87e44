"""The bundles a graph was built from, read lazily by a load (graph/stores/neo4j_bundles.py on Neo4j; the embedded
store's are memory-mapped): the same tables and row counts as an eager read, on both stores; and on Neo4j, planning
an incremental load of findings fetches no table of the loaded bundles but their sources and findings."""

from __future__ import annotations

import csv
from pathlib import Path

from supplygraph.graph.stores.neo4j_bundles import SavedTables
from supplygraph.graph.stores.protocol import LoadedBundle, Store
from supplygraph.loaders import read_source
from supplygraph.loaders.incremental import plan_incremental
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO


def _findings_bundle(folder: Path, factory: str) -> Path:
    folder.mkdir()
    with open(folder / "sources.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["source_id", "title", "kind"], ["LZ-S1", "Monitoring visit", "audit"]])
    with open(folder / "findings.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([
            ["finding_id", "subject_type", "subject_id", "category", "severity", "status", "reported_on", "source_id"],
            ["LZ-F1", "factory", factory, "recruitment_fees", "high", "open", "2026-01-15", "LZ-S1"],
        ])  # fmt: skip
    return folder


def _first_factory(store: Store) -> str:
    return store.run("MATCH (f:Factory) RETURN f.id AS id ORDER BY id LIMIT 1")[0]["id"]


def test_lazy_bundles_equal_eager_ones(store: Store, tmp_path: Path) -> None:
    load_bundles(store, [DEMO], fresh=True)
    load_bundles(store, [_findings_bundle(tmp_path / "monitor", _first_factory(store))])
    eager = store.bundles()
    lazy = store.bundles(lazy=True)
    assert [b.name for b in lazy] == [b.name for b in eager] == ["bundle", "monitor"]
    for one, other in zip(lazy, eager, strict=True):
        assert list(one.tables) == list(other.tables)
        assert one.rows() == other.rows() == sum(t.num_rows for t in other.tables.values())
        for name, table in other.tables.items():
            assert one.tables[name].equals(table), (one.name, name)


def test_planning_findings_fetches_only_sources_and_findings(store_factory, store_kind: str, tmp_path: Path) -> None:
    store = store_factory()
    load_bundles(store, [DEMO], fresh=True)
    new = read_source(_findings_bundle(tmp_path / "monitor", _first_factory(store)))
    loaded = store.bundles(lazy=True)
    delta = plan_incremental(store, loaded, [LoadedBundle(new.name, dict(new.tables))])
    assert not isinstance(delta, str), delta
    if store_kind == "neo4j":  # the embedded store maps its tables: nothing is fetched either way
        assert all(isinstance(bundle.tables, SavedTables) for bundle in loaded)
        fetched = {name for bundle in loaded for name in bundle.tables.fetched}  # type: ignore[attr-defined]
        assert fetched <= {"sources", "findings"}, fetched
        assert "supply" in loaded[0].tables  # listed all the same
