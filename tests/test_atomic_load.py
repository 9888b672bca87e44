"""A load killed mid-way leaves the previous graph answering; loading the same bundle twice gives the same graph."""

from __future__ import annotations

from datetime import date

import pytest
from supplygraph.graph.errors import BundleError
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.exposure import exposure_for_affiliate

from benchmarks.synthetic import generate
from tests.conftest import DEMO
from tests.graph_dump import dump_graph
from tests.killed_load import kill_load_when


def test_same_bundle_twice_gives_an_identical_graph(store) -> None:
    load_bundles(store, [DEMO])
    first = dump_graph(store)
    load_bundles(store, [DEMO])
    assert dump_graph(store) == first
    assert sum(len(v) for v in first.values()) > 200


def test_loading_a_second_bundle_keeps_the_first(store, tmp_path) -> None:
    load_bundles(store, [DEMO])
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "factories.csv").write_text("factory_id,name,country\nFA-NEW,New Plant,VN\n")
    (extra / "supply.csv").write_text("supplier_factory_id,buyer_factory_id,source_id\nFA-NEW,FA-SH2,SRC-01\n")
    load_bundles(store, [extra])
    answer = exposure_for_affiliate(store, "AF-UNB", date(2026, 6, 1))
    assert {"FA-NEW": 2} == {f["id"]: f["tier"] for f in answer.factories if f["id"] == "FA-NEW"}
    with pytest.raises(BundleError, match="unknown factory id 'FA-SH2'"):
        load_bundles(store, [extra], fresh=True)  # --fresh forgets the demo, so FA-SH2 is unknown
    demo_affiliates = len((DEMO / "affiliates.csv").read_text().splitlines()) - 1
    assert store.run("MATCH (a:Affiliate) RETURN count(*) AS n")[0]["n"] == demo_affiliates


def test_sigkill_during_load_leaves_previous_graph(tmp_path) -> None:
    db = tmp_path / "db"
    store = LadybugStore(db)
    load_bundles(store, [DEMO])
    before = dump_graph(store)
    current = (db / "CURRENT").read_text()
    big = tmp_path / "big"
    generate(big, factories=30_000)
    kill_load_when(big, db, lambda folders: any(
        (g / "graph.lbug").exists() and (g / "graph.lbug").stat().st_size > 0 for g in folders
    ), poll_s=0.02)  # fmt: skip
    assert (db / "CURRENT").read_text() == current
    reopened = LadybugStore(db)
    assert dump_graph(reopened) == before
    assert exposure_for_affiliate(reopened, "AF-LIN", date(2026, 6, 1)).factories
    # The next load succeeds and clears the half-written generation away.
    load_bundles(reopened, [DEMO])
    assert len(list((db / "generations").iterdir())) <= 2
    assert dump_graph(reopened) == before
