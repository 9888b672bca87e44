"""Bulk reads of Neo4j in pages (graph/stores/neo4j_pages.py): every row exactly once whatever the page size, and
the exposure index built from paged reads answers as the Cypher steps and the oracle do."""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from supplygraph.graph.settings import Neo4jSettings
from supplygraph.graph.stores.neo4j_pages import anchor, pages
from supplygraph.graph.stores.neo4j_store import Neo4jStore
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries import cypher
from supplygraph.queries.link_index import GROUPS

from tests import oracle
from tests.conftest import DEMO, require_neo4j
from tests.strategies import bundles, query_dates, write_bundle
from tests.test_exposure_oracle import affiliates_of, answer_sets
from tests.test_link_files import same_answers_as_cypher

# ids at and around page bounds, with quotes, spaces, backticks, non-ASCII and astral characters, an empty string
ODD_IDS = ["", " ", "'", '"', "`x`", "a", "a ", "aa", "b", "B", "é", "ß", "Z\u00a0", "中", "\U0001f600", "\uffff", "z" * 40]


def neo4j_store(tmp_path: Path, read_page: int) -> Neo4jStore:
    neo = Neo4jSettings()
    store = Neo4jStore(require_neo4j(), neo.user, neo.password, neo.database, index_cache=tmp_path / "index", read_page=read_page)
    store.wipe()
    return store


def rows(table) -> Counter:
    return Counter(tuple(tuple(v) if isinstance(v, list) else v for v in row.values()) for row in table.to_pylist())


def test_which_reads_are_paged() -> None:
    assert anchor(cypher.ALL_SUPPLY_LINKS) == ("s", "Factory")
    assert anchor(cypher.LINK_ORIGINS[("SUPPLIES", "Factory", "Factory")]) == ("a", "Factory")
    assert anchor(cypher.NODE_ORIGINS["Factory"]) == ("n", "Factory")
    assert all(anchor(query) for query, _key, _other in GROUPS.values())
    assert anchor(cypher.AFFILIATES_WITH_CONTRACTS) is None  # DISTINCT ... ORDER BY: read whole
    assert anchor(cypher.FACTORIES_BY_COUNTRY) is None  # count(*)
    assert anchor("MATCH (n:SupplygraphRead) RETURN n.id AS id") is None  # not a schema label


def test_pages_cover_every_link_exactly_once(tmp_path: Path) -> None:
    store = neo4j_store(tmp_path, 1)
    try:
        store.ensure_constraints()
        store.write("UNWIND $ids AS id CREATE (:Factory {id: id})", {"ids": ODD_IDS})
        store.write("CREATE (:Factory {name: 'no id'})")  # no id (no load writes one): read by the last page
        links = [(s, b) for i, s in enumerate(ODD_IDS) for b in ODD_IDS[i % 3 :: 4] if (i + len(b)) % 5]
        store.write(
            "UNWIND $links AS l MATCH (s:Factory {id: l[0]}), (b:Factory {id: l[1]})"
            " CREATE (s)-[:SUPPLIES {valid_from: CASE WHEN size(l[0]) > 1 THEN date('2024-01-01') END, source_ids: [l[1]]}]->(b)",
            {"links": links},
        )
        store.write("MATCH (s:Factory {name: 'no id'}), (b:Factory {id: 'a'}) CREATE (s)-[:SUPPLIES]->(b), (b)-[:SUPPLIES]->(s)")
        linked = {s for s, _ in links}
        assert set(ODD_IDS) - linked, "some factories have no supply links"
        whole = store.run(cypher.ALL_SUPPLY_LINKS)
        expected = Counter((r["buyer"], r["supplier"], r["valid_from"], r["valid_to"], tuple(r["sources"] or ()) or None) for r in whole)
        for size in (1, 2, 3, 7, len(ODD_IDS), 1000):
            store.read_page = size
            got = store.run_arrow(cypher.ALL_SUPPLY_LINKS)
            assert rows(got) == expected, size
            page_count = len(pages(cypher.ALL_SUPPLY_LINKS, None, size, store.run))
            assert page_count == -(-len(ODD_IDS) // size) + 1  # the pages of string ids, and the page of the others
        store.read_page = 3
        factories = store.run_arrow(cypher.ALL_FACTORIES)
        assert sorted(map(str, factories.column("id").to_pylist())) == sorted([*ODD_IDS, "None"])
    finally:
        store.close()


def test_paged_reads_equal_whole_reads_on_the_demo(tmp_path: Path) -> None:
    store = neo4j_store(tmp_path, 7)
    try:
        load_bundles(store, [DEMO], fresh=True)
        queries = {q for q, _k, _o in GROUPS.values()} | {cypher.ALL_SUPPLY_LINKS, cypher.ALL_FACTORIES}
        queries |= set(cypher.NODE_ORIGINS.values()) | set(cypher.LINK_ORIGINS.values())
        for query in sorted(queries):
            store.read_page = 7
            paged = store.run_arrow(query)
            store.read_page = 10**9
            assert rows(paged) == rows(store.run_arrow(query)), query
        store.read_page = 7
        same_answers_as_cypher(store)  # the index (built from paged reads, kept per load) against the Cypher steps
    finally:
        store.close()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows_=bundles(), data=st.data(), page=st.sampled_from([1, 2, 7]))
def test_paged_index_equals_oracle(tmp_path_factory: pytest.TempPathFactory, rows_, data, page: int) -> None:
    store = neo4j_store(tmp_path_factory.mktemp("paged"), page)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "generated"
            write_bundle(rows_, folder)
            load_bundles(store, [folder], fresh=True)
            back = oracle.read_bundle(folder)
        day: date = data.draw(query_dates(rows_))
        for affiliate in affiliates_of(back):
            got, _answer = answer_sets(store, affiliate, day, 4)
            assert got == oracle.exposure_oracle(back, affiliate, day, 4), (affiliate, day, page)
    finally:
        store.close()
