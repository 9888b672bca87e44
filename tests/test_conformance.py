"""The same named queries give the same answers on LadybugDB and on Neo4j (demo and generated data)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import supplygraph.graph.stores.neo4j_writer as neo4j_store_module
from hypothesis import HealthCheck, given, settings
from supplygraph.graph.errors import QueryRefused, QueryTimeout
from supplygraph.graph.settings import Neo4jSettings
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.graph.stores.neo4j_store import Neo4jStore
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.exposure import exposure_for_affiliate
from supplygraph.queries.registry import QUERIES

from tests.conftest import DEMO, require_neo4j
from tests.graph_dump import dump_graph
from tests.strategies import bundles, write_bundle


@pytest.fixture(scope="module")
def neo4j_store() -> Iterator[Neo4jStore]:
    uri = require_neo4j()
    settings = Neo4jSettings()
    store = Neo4jStore(uri, settings.user, settings.password, settings.database)
    store.wipe()
    yield store
    store.close()


def canonical(answer: dict[str, Any]) -> Any:
    """An answer with every list of rows as a sorted list (order is not part of a query's meaning)."""
    if "rows" in answer:
        return sorted(repr(sorted(r.items())) for r in answer["rows"])
    return answer


PARAMS = {
    "affiliate_id": "AF-DBH",
    "factory_id": "FA-TWP1",
    "country": "CN",
    "kind": "agency",
    "item_id": "AG-MM2",
    "provenance": "true",
}


@pytest.mark.parametrize("day", ["2023-06-01", "2026-06-01"])
def test_every_named_query_same_on_both_stores(neo4j_store, tmp_path, day) -> None:
    embedded = LadybugStore(tmp_path / "db")
    load_bundles(embedded, [DEMO])
    load_bundles(neo4j_store, [DEMO], fresh=True)
    assert dump_graph(embedded) == dump_graph(neo4j_store)
    for name, query in QUERIES.items():
        params = {p.name: PARAMS[p.name] for p in query.params if p.name in PARAMS}
        if any(p.name == "as_of" for p in query.params):
            params["as_of"] = day
        left, right = query.run(embedded, params), query.run(neo4j_store, params)
        assert canonical(left) == canonical(right), name


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=bundles())
def test_generated_bundles_same_graph_and_exposure(neo4j_store, rows) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "generated"
        write_bundle(rows, folder)
        embedded = LadybugStore(Path(tmp) / "db")
        load_bundles(embedded, [folder])
        load_bundles(neo4j_store, [folder], fresh=True)
        assert dump_graph(embedded) == dump_graph(neo4j_store)
        for affiliate in sorted({r["affiliate_id"] for r in rows["affiliates"]}):
            for day in (date(2021, 1, 1), date(2024, 7, 1)):
                left = exposure_for_affiliate(embedded, affiliate, day, provenance=True).as_json()
                right = exposure_for_affiliate(neo4j_store, affiliate, day, provenance=True).as_json()
                assert left == right  # the same factories, tiers, paths, sources and origins of nodes and links
        embedded.close()


def test_neo4j_cypher_is_read_only_and_timed(neo4j_store) -> None:
    load_bundles(neo4j_store, [DEMO], fresh=True)
    with pytest.raises(QueryRefused, match="writes are refused"):
        neo4j_store.run_readonly("CREATE (:Factory {id: 'X'})", {}, timeout_s=5, max_rows=10)
    with pytest.raises(QueryTimeout):
        neo4j_store.run_readonly(
            "UNWIND range(1, 100000000) AS x WITH x WHERE x % 7 = 3 RETURN count(*)", {}, timeout_s=1, max_rows=10
        )
    columns, rows, truncated = neo4j_store.run_readonly("MATCH (f:Factory) RETURN f.id AS id", {}, timeout_s=5, max_rows=3)
    assert columns == ["id"] and len(rows) == 3 and truncated


def test_neo4j_failed_load_leaves_previous_graph(neo4j_store, tmp_path, monkeypatch) -> None:
    load_bundles(neo4j_store, [DEMO], fresh=True)
    before = dump_graph(neo4j_store)
    other = tmp_path / "other"
    other.mkdir()
    (other / "factories.csv").write_text("factory_id,name,country\nFA-NEW,New,VN\n")
    original = neo4j_store_module._run_batch
    calls = {"rels": 0}

    def failing(tx, batch):  # a crash half-way: after the nodes and four relationship batches
        if " CREATE (a)-" in batch.cypher:
            calls["rels"] += 1
            if calls["rels"] == 5:
                raise ConnectionError("network gone")
        return original(tx, batch)

    monkeypatch.setattr(neo4j_store_module, "_run_batch", failing)
    with pytest.raises(ConnectionError):
        load_bundles(neo4j_store, [other])
    monkeypatch.setattr(neo4j_store_module, "_run_batch", original)
    assert calls["rels"] >= 5  # the batch queued behind the failing one may have been written too: undone as well
    assert dump_graph(neo4j_store) == before
    status = neo4j_store.run("MATCH (l:SupplygraphLoad) RETURN l.status AS s ORDER BY l.started DESC LIMIT 1")
    assert status == [{"s": "failed"}]


BULK_READS = ["ALL_SUPPLY_LINKS", "ALL_PLACEMENTS", "ALL_AGENCY_LINKS", "ALL_FACTORIES", "ALL_AGENCIES", "ALL_FINDINGS"]


def _rows(table: Any) -> list[str]:
    return sorted(repr(row) for row in table.to_pylist())


def test_neo4j_bulk_reads_and_their_saved_copies(neo4j_store, tmp_path) -> None:
    """run_arrow (one collected record, dates as day numbers) reads what the embedded store reads;
    a saved copy answers after the server's data are gone, and folders of older loads are dropped."""
    from supplygraph.graph.stores.saved_reads import SavedReads
    from supplygraph.queries import cypher

    embedded = LadybugStore(tmp_path / "db")
    load_bundles(embedded, [DEMO], fresh=True)
    load_bundles(neo4j_store, [DEMO], fresh=True)
    for name in BULK_READS:
        left, right = embedded.run_arrow(getattr(cypher, name)), neo4j_store.run_arrow(getattr(cypher, name))
        assert left.num_rows > 0 and _rows(left) == _rows(right), name
    dated = neo4j_store.run_arrow("MATCH (fi:Finding) WHERE fi.reported_on IS NOT NULL RETURN fi.reported_on AS day")
    assert str(dated.schema.field("day").type) == "date32[day]" and dated.num_rows > 0
    for old in range(5):
        (tmp_path / "saved" / f"old-{old}").mkdir(parents=True)
    saved = SavedReads(neo4j_store, tmp_path / "saved" / "this-load")
    first = {name: saved.run_arrow(getattr(cypher, name)) for name in BULK_READS}
    assert len(list((tmp_path / "saved").iterdir())) == 4  # this load and the three newest others
    neo4j_store.wipe()
    for name in BULK_READS:
        assert saved.run_arrow(getattr(cypher, name)).equals(first[name]), name


def test_provenance_reads_same_on_both_stores(neo4j_store, tmp_path) -> None:
    """The bulk reads of node and link origins (queries/provenance.py) give the same rows on both stores."""
    from supplygraph.queries import cypher

    embedded = LadybugStore(tmp_path / "db")
    load_bundles(embedded, [DEMO], fresh=True)
    load_bundles(neo4j_store, [DEMO], fresh=True)
    for name, text in [*cypher.NODE_ORIGINS.items(), *cypher.LINK_ORIGINS.items()]:
        left, right = embedded.run_arrow(text), neo4j_store.run_arrow(text)
        assert left.num_rows > 0 and _rows(left) == _rows(right), name
    embedded.close()
