"""The database copy an incremental load starts while it plans (graph/stores/ladybug_precopy.py): used by the delta
that follows, and left for the garbage collection when the load rebuilds instead (embedded store only: Neo4j has
nothing to start early)."""

from __future__ import annotations

from pathlib import Path

from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO
from tests.graph_dump import dump_graph


def test_a_copy_started_for_a_change_rebuilt_instead_is_not_kept(tmp_path: Path) -> None:
    store = LadybugStore(tmp_path / "db")
    load_bundles(store, [DEMO], fresh=True)
    before = dump_graph(store)
    first = store.generation
    with store.load_lock():
        store.prepare_delta()
        started = {g.name for g in (tmp_path / "db" / "generations").iterdir()} - {first}
        assert len(started) == 1  # the copy's generation, not current
        assert store.generation == first
        load_bundles(store, [DEMO], incremental=False)
    kept = {g.name for g in (tmp_path / "db" / "generations").iterdir()}
    assert kept == {first, store.generation} and not kept & started
    assert dump_graph(store) == before
    store.close()


def test_an_incremental_load_writes_into_the_copy_it_started(tmp_path: Path) -> None:
    store = LadybugStore(tmp_path / "db")
    load_bundles(store, [DEMO], fresh=True)
    first = store.generation
    bundle = tmp_path / "monitor"
    bundle.mkdir()
    (bundle / "sources.csv").write_text("source_id,title,kind\nMON-S1,Monitoring report,audit\n")
    with store.load_lock():
        store.prepare_delta()
        started = {g.name for g in (tmp_path / "db" / "generations").iterdir()} - {first}
        report = load_bundles(store, [bundle], incremental=True)
    assert report.rebuilt_because == ""
    assert {store.generation} == started
    assert store.run("MATCH (s:Source {id: 'MON-S1'}) RETURN s.title AS t") == [{"t": "Monitoring report"}]
    store.close()
