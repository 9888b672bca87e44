"""The link index files of a generation (queries/link_files.py, queries/link_cache.py): written when the generation
is built (embedded) or by the first reader of a load (Neo4j), memory-mapped by later readers, never read for
another generation, rebuilt when missing or damaged; every answer from them equals the Cypher steps' answer."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from supplygraph.graph.settings import Neo4jSettings
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.graph.stores.neo4j_store import Neo4jStore
from supplygraph.graph.stores.protocol import Store
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.exposure import exposure_for_affiliate
from supplygraph.queries.link_cache import link_index_of
from supplygraph.queries.link_files import STAMP, read_parts
from supplygraph.queries.reverse import exposed_affiliates
from supplygraph.queries.steps import CypherSteps

from tests.conftest import DEMO, require_neo4j

DAYS = (date(2026, 6, 1), date(2024, 1, 15))


def affiliates(store: Store) -> list[str]:
    return [r["id"] for r in store.run("MATCH (a:Affiliate) RETURN a.id AS id ORDER BY id")]


def same_answers_as_cypher(store: Store) -> None:
    """Every affiliate's exposure (with provenance) from the index equals the Cypher steps' answer, and who is exposed
    to a factory (the reverse question, its candidates from the index) agrees with those answers."""
    for day in DAYS:
        exposed_to: dict[str, set[str]] = {}
        for affiliate in affiliates(store):
            indexed = exposure_for_affiliate(store, affiliate, day, provenance=True).as_json()
            plain = exposure_for_affiliate(store, affiliate, day, steps=CypherSteps(store), provenance=True).as_json()
            assert indexed == plain
            for factory in plain["factories"]:
                exposed_to.setdefault(factory["id"], set()).add(affiliate)
        for row in store.run("MATCH (f:Factory) RETURN f.id AS id ORDER BY id"):
            reverse = exposed_affiliates(store, "factory", row["id"], day)
            assert {a["id"] for a in reverse.affiliates} == exposed_to.get(row["id"], set())


@pytest.fixture(params=["ladybug", "neo4j"])
def loaded(request: pytest.FixtureRequest, tmp_path: Path):
    """A store with the demo loaded, and a function making a second store object on the same graph (as a new
    process would open it)."""
    if request.param == "ladybug":
        store: Store = LadybugStore(tmp_path / "db")
        again = lambda: LadybugStore(tmp_path / "db")
    else:
        uri, settings = require_neo4j(), Neo4jSettings()
        store = Neo4jStore(uri, settings.user, settings.password, settings.database, index_cache=tmp_path / "index")
        store.wipe()
        again = lambda: Neo4jStore(
            uri, settings.user, settings.password, settings.database, index_cache=tmp_path / "index"
        )
    load_bundles(store, [DEMO], fresh=True)
    yield store, again
    store.close()


def index_folder(store: Store) -> Path:
    generation = store.generation
    assert generation is not None
    folder = store.link_index_folder(generation)
    assert folder is not None
    return folder


class NoBulkReads:
    """A store whose bulk reads fail: what answers through it came from the index files."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __getattr__(self, name: str):
        return getattr(self.store, name)

    def link_reads(self):
        raise AssertionError("the index was built again instead of read from its files")

    def pinned(self, generation):
        raise AssertionError("the index was built again instead of read from its files")


def test_files_are_written_once_and_mapped_by_a_new_reader(loaded) -> None:
    store, again = loaded
    if store.embedded:  # written with the generation, before any reader
        assert (index_folder(store) / STAMP).exists()
    same_answers_as_cypher(store)
    folder = index_folder(store)
    stamp = json.loads((folder / STAMP).read_text())
    assert stamp["generation"] == store.generation
    other = again()
    try:
        index = link_index_of(NoBulkReads(other), other.generation)  # type: ignore[arg-type]
        assert isinstance(index.supply_walk.supplier.base, np.memmap)  # the pages of the file, not a copy
        same_answers_as_cypher(other)
    finally:
        other.close()


def damage_stamp(folder: Path) -> None:
    stamp = json.loads((folder / STAMP).read_text())
    stamp["generation"] = "another-generation"
    (folder / STAMP).write_text(json.dumps(stamp))


def damage_truncate(folder: Path) -> None:
    path = folder / "supply_supplier.npy"
    path.write_bytes(path.read_bytes()[:-4])


def damage_remove(folder: Path) -> None:
    (folder / "factory_details.arrow").unlink()


def damage_header(folder: Path) -> None:
    path = folder / "supply_offsets.npy"
    data = path.read_bytes()
    path.write_bytes(b"garbage!" + data[8:])


def damage_folder(folder: Path) -> None:
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()


@pytest.mark.parametrize("damage", [damage_stamp, damage_truncate, damage_remove, damage_header, damage_folder])
def test_files_of_another_generation_or_damaged_are_not_read_but_rebuilt(loaded, damage) -> None:
    store, again = loaded
    same_answers_as_cypher(store)  # the files are there now on both stores
    folder = index_folder(store)
    generation = store.generation
    assert read_parts(folder, generation) is not None
    damage(folder)
    assert read_parts(folder, generation) is None
    other = again()
    try:
        same_answers_as_cypher(other)  # a new reader builds the index again and answers the same
        assert read_parts(folder, generation) is not None  # and writes its files again
        stamp = json.loads((folder / STAMP).read_text())
        assert stamp["generation"] == generation
    finally:
        other.close()


def test_a_new_load_gets_its_own_files(loaded) -> None:
    store, _again = loaded
    same_answers_as_cypher(store)
    first = store.generation
    load_bundles(store, [DEMO], fresh=True)
    assert store.generation != first
    if store.embedded:  # written with the generation
        assert json.loads((index_folder(store) / STAMP).read_text())["generation"] == store.generation
    same_answers_as_cypher(store)
    assert json.loads((index_folder(store) / STAMP).read_text())["generation"] == store.generation
