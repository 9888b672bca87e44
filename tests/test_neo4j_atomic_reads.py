"""On a real Neo4j, readers never see half a load: exposure answers (index, origins) computed again and
again by fresh readers (no index in memory, none on disk: a new server each time) while a load runs each
equal the answer before the load or the answer after it (graph/stores/neo4j_snapshots.py)."""

from __future__ import annotations

import shutil
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from supplygraph.graph.settings import Neo4jSettings
from supplygraph.graph.stores.neo4j_snapshots import READ_LABEL
from supplygraph.graph.stores.neo4j_store import Neo4jStore
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.exposure import exposure_for_affiliate

from tests.conftest import DEMO, require_neo4j
from tests.test_api_reload import extra_bundle

AFFILIATES = ("AF-UNB", "AF-LIN")
AS_OF = date(2026, 6, 1)


def fresh_store(uri: str, folder: Path, batch_size: int = 10_000) -> Neo4jStore:
    settings = Neo4jSettings()
    return Neo4jStore(uri, settings.user, settings.password, settings.database, batch_size=batch_size, index_cache=folder)


def answers(uri: str, folder: Path) -> dict[str, Any]:
    """Every affiliate's exposure with provenance, as a new server would compute it."""
    store = fresh_store(uri, folder)
    try:
        return {a: exposure_for_affiliate(store, a, AS_OF, provenance=True).as_json() for a in AFFILIATES}
    finally:
        store.close()


def changed_demo(folder: Path) -> Path:
    """The demo bundle under its own name, with FA-NFP's supply of FA-SH2 ended in 2025 and a source retitled:
    half-way through loading it with `extra_bundle`, the live graph holds the new supplier, the old link and
    the new title."""
    changed = folder / "changed" / DEMO.name
    shutil.copytree(DEMO, changed)
    supply = changed / "supply.csv"
    old = "FA-NFP,FA-SH2,motherboards,2021-01-01,,SRC-01"
    assert old in supply.read_text()
    supply.write_text(supply.read_text().replace(old, "FA-NFP,FA-SH2,motherboards,2021-01-01,2025-01-01,SRC-01"))
    sources = changed / "sources.csv"  # and a source's title: the nodes are written before the links
    title = "Supply chain disclosure: Korvane Aeris and Stratum product lines 2024"
    assert title in sources.read_text()
    sources.write_text(sources.read_text().replace(title, title + " (revised)"))
    return changed


@pytest.fixture
def uri(tmp_path: Path) -> str:
    found = require_neo4j()
    store = fresh_store(found, tmp_path / "wipe")
    store.wipe()
    store.close()
    return found


def test_every_answer_during_a_load_is_the_one_before_or_after(uri: str, tmp_path: Path) -> None:
    first = fresh_store(uri, tmp_path / "first")
    load_bundles(first, [DEMO])
    before = answers(uri, tmp_path / "before")  # the first load's reads, taken while quiet and kept
    changed = changed_demo(tmp_path)
    extra = extra_bundle(tmp_path)
    seen: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    loading = threading.Event()
    done = threading.Event()

    def read() -> None:
        n = 0
        while not done.is_set():
            n += 1
            try:
                answer = answers(uri, tmp_path / f"reader-{n}")
            except BaseException as exc:
                errors.append(exc)
                return
            if loading.is_set() and not done.is_set():
                seen.append(answer)

    reader = threading.Thread(target=read)
    reader.start()
    slow = fresh_store(uri, tmp_path / "load", batch_size=3)  # many small transactions: a long half-written time
    try:
        loading.set()
        started = time.monotonic()
        load_bundles(slow, [changed, extra])
        took = time.monotonic() - started
    finally:
        done.set()
        reader.join(timeout=120)
        slow.close()
        first.close()
    after = answers(uri, tmp_path / "after")
    assert not errors, errors
    assert before != after  # FA-NEW now supplies AF-UNB's assembler, FA-NFP no longer does
    assert len(seen) >= 3, (len(seen), took)
    for answer in seen:
        assert answer in (before, after)


def test_reads_are_kept_by_the_first_reader_then_by_each_load(uri: str, tmp_path: Path) -> None:
    store = fresh_store(uri, tmp_path / "one")
    try:
        load_bundles(store, [DEMO])
        assert store.run(f"MATCH (r:{READ_LABEL}) RETURN count(r) AS n")[0]["n"] == 0  # the first load kept none
        answers(uri, tmp_path / "reader")
        kept = store.run(f"MATCH (r:{READ_LABEL}) RETURN DISTINCT r.load AS load")
        assert [r["load"] for r in kept] == [store.generation]
        previous = store.generation
        load_bundles(store, [extra_bundle(tmp_path)])  # takes the same reads again for itself
        kept = store.run(f"MATCH (r:{READ_LABEL} {{part: 0}}) RETURN r.load AS load, count(*) AS n")
        counts = {r["load"]: r["n"] for r in kept}
        assert set(counts) == {previous, store.generation} and store.generation != previous
        assert counts[store.generation] == counts[previous] > 0
    finally:
        store.close()
