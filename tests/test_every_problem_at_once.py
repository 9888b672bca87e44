"""A bundle with a bad cell in one file and a dangling reference in another is refused with both problems at
once, each named by its file as read (both stores); the graph is unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from supplygraph.graph.errors import BundleError
from supplygraph.graph.stores.protocol import Store
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO
from tests.graph_dump import dump_graph
from tests.test_bundle_errors import set_cell


def broken(tmp_path: Path) -> Path:
    folder = tmp_path / "nc-broken2"
    shutil.copytree(DEMO, folder)
    set_cell("factories.csv", 3, "country", "Atlantis")(folder)
    set_cell("supply.csv", 3, "buyer_factory_id", "FA-X")(folder)
    return folder


def test_both_problems_are_reported_at_once(store: Store, tmp_path: Path) -> None:
    load_bundles(store, [DEMO], names=["demo"])
    before = dump_graph(store)
    with pytest.raises(BundleError) as caught:
        load_bundles(store, [broken(tmp_path)])
    said = [str(p) for p in caught.value.problems]
    assert len(said) == 2, said
    assert said[0].startswith("factories.csv:3: column 'country': 'Atlantis' is not a country")
    assert said[1] == "supply.csv:3: column 'buyer_factory_id': unknown factory id 'FA-X': not in factories.csv"
    assert dump_graph(store) == before


def test_a_reference_to_an_invalid_row_is_not_a_second_problem(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "one"
    shutil.copytree(DEMO, folder)
    set_cell("factories.csv", 2, "country", "Atlantis")(folder)  # FA-SH1, which assembly.csv and supply.csv name
    with pytest.raises(BundleError) as caught:
        load_bundles(store, [folder])
    assert [p.file for p in caught.value.problems] == ["factories.csv"]
