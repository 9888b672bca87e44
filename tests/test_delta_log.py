"""An incremental load on the embedded store keeps its change in the new generation's write-ahead log
(graph/stores/ladybug_delta.py): the generation before is not written, the next incremental load carries the log on,
and once the log passes WAL_LIMIT the load checkpoints it; either way the graph equals one fresh load of the same
bundles. The embedded store only: Neo4j has no generations of files."""

from __future__ import annotations

from pathlib import Path

import pytest
from supplygraph.graph.stores import ladybug_delta
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO
from tests.graph_dump import dump_graph
from tests.test_link_reuse import findings_bundle, supply_bundle


def database(store: LadybugStore) -> Path:
    assert store.generation is not None
    return store.root / "generations" / store.generation / "graph.lbug"


def fresh_dump(tmp_path: Path, bundles: list[Path]) -> list:
    store = LadybugStore(tmp_path / "fresh")
    try:
        load_bundles(store, bundles, fresh=True, incremental=False)
        return dump_graph(store)
    finally:
        store.close()


def test_the_change_stays_in_the_log_and_the_generation_before_is_not_written(tmp_path: Path) -> None:
    store = LadybugStore(tmp_path / "db")
    try:
        load_bundles(store, [DEMO], fresh=True)
        before = database(store)
        files_before = {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in before.parent.glob("graph.lbug*")}
        bundles = [supply_bundle(tmp_path / "disclosure"), findings_bundle(tmp_path / "monitor")]
        assert load_bundles(store, [bundles[0]], incremental=True).rebuilt_because == ""
        first = ladybug_delta.wal_size(database(store))
        assert first > 0
        assert {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in before.parent.glob("graph.lbug*")} == files_before
        assert load_bundles(store, [bundles[1]], incremental=True).rebuilt_because == ""
        assert ladybug_delta.wal_size(database(store)) > first  # the log carried on, with the second change
        assert dump_graph(store) == fresh_dump(tmp_path, [DEMO, *bundles])
    finally:
        store.close()


def test_a_log_past_the_limit_is_checkpointed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LadybugStore(tmp_path / "db")
    try:
        load_bundles(store, [DEMO], fresh=True)
        monkeypatch.setattr(ladybug_delta, "WAL_LIMIT", 0)
        bundle = supply_bundle(tmp_path / "disclosure")
        assert load_bundles(store, [bundle], incremental=True).rebuilt_because == ""
        assert ladybug_delta.wal_size(database(store)) == 0
        assert dump_graph(store) == fresh_dump(tmp_path, [DEMO, bundle])
    finally:
        store.close()
