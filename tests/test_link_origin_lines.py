"""A relationship made from a row of a link file stores the file in `origin` and the row's line in
`origin_line` (graph/origins.py), on both stores; answers show the two joined, `bundle/file:line (...)`.

Expected lines come from the input files themselves (tests/test_provenance.py reads them)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pyarrow as pa
import pytest
from supplygraph.graph import relationships
from supplygraph.graph.origins import full_origin, row_origins
from supplygraph.graph.schema import SCHEMA
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.exposure import exposure_for_affiliate

from tests import oracle
from tests.conftest import DEMO
from tests.graph_dump import dump_graph
from tests.test_provenance import TENDERS, load_days, rows_with_lines

DATED_LINKS = ("assembly", "supply", "placements", "agency_links")  # demo link files whose rows are all links


@pytest.fixture(autouse=True)
def _local_data(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SUPPLYGRAPH_DB", str(tmp_path / "data"))  # Neo4j's matches file


def test_link_rows_keep_their_file_and_line_apart_and_answers_join_them(store) -> None:
    (day,) = load_days(store, [DEMO])
    for name in DATED_LINKS:
        link = SCHEMA.links[name]
        rows = rows_with_lines(DEMO / link.file)
        expected = Counter(
            (row[link.source.column], row[link.target.column], f"bundle/{link.file} (bundle, loaded {day})", line)
            for line, row in rows
        )
        found = store.run(
            f"MATCH (a)-[r:{link.rel}]->(b) RETURN a.id AS a, b.id AS b, r.origin AS origin, r.origin_line AS line"
        )
        assert expected and Counter((r["a"], r["b"], r["origin"], r["line"]) for r in found) == expected, name
    supply = SCHEMA.links["supply"]
    rows = rows_with_lines(DEMO / supply.file)
    shown = 0
    on = date(2026, 6, 1)
    for _, affiliate in rows_with_lines(DEMO / "affiliates.csv"):
        answer = exposure_for_affiliate(store, affiliate["affiliate_id"], on, provenance=True).as_json()
        for link in answer.get("provenance", {}).get("links", []):
            if link["type"] != "SUPPLIES":
                continue
            lines = [
                line for line, row in rows
                if (row["buyer_factory_id"], row["supplier_factory_id"]) == (link["from"], link["to"])  # walked buyer first
                and oracle.active(row, on)
            ]  # fmt: skip
            assert link["origins"] == sorted(f"bundle/supply.csv:{n} (bundle, loaded {day})" for n in lines), link
            shown += 1
    assert shown >= 3


def test_joined_origins_of_a_converted_source_are_its_rows_origins(store) -> None:
    """OCDS rows: the record pointer stays in `origin`, and joining it with the line gives the row's origin."""
    load_days(store, [DEMO, TENDERS])
    for name, link in SCHEMA.links.items():
        expected = Counter(
            origin
            for bundle in store.bundles()
            if (table := bundle.tables.get(name)) is not None and table.num_rows
            for origin in row_origins(table, bundle.name, link.file).to_pylist()
        )
        found = store.run(f"MATCH ()-[r:{link.rel}]->() RETURN r.origin AS origin, r.origin_line AS line")
        linked = Counter(full_origin(r["origin"], r["line"]) for r in found if r["line"] is not None)
        assert linked.keys() <= expected.keys(), name  # contract items without a product are no link
        if name == "contract_items":
            assert any(" (ocds " in o for o in linked), linked
        assert sum(linked.values()) == len(found), name  # every link relationship has its line


def test_full_origin_puts_the_line_after_the_link_file_even_in_odd_bundle_names() -> None:
    assert full_origin("a/b (x)/supply.csv (bundle, loaded 2026-11-27)", 7) == (
        "a/b (x)/supply.csv:7 (bundle, loaded 2026-11-27)"
    )
    assert full_origin("t/contract_items.csv (ocds t.jsonl:3#/a/0, loaded 2026-11-27)", 3) == (
        "t/contract_items.csv:3 (ocds t.jsonl:3#/a/0, loaded 2026-11-27)"
    )
    joined = "b/factories.csv:3 (bundle, loaded 2026-11-27)|b/factories.csv:9 (bundle, loaded 2026-11-28)"
    assert full_origin(joined, None) == joined  # a reference column's relationship: its node's origins


def test_a_graph_loaded_before_origin_line_is_rebuilt_by_its_next_load(store, tmp_path, monkeypatch) -> None:
    """Links whose `origin` holds the line and no `origin_line` (as loaded before) cannot be found by origin and
    line: the next load rebuilds the graph instead of leaving the replaced bundle's links behind."""
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "supply.csv").write_text("buyer_factory_id,supplier_factory_id\nFA-SH2,FA-DVB\n")
    with monkeypatch.context() as before:
        before.setattr(relationships, "link_origins", lambda table, bundle, file: (
            row_origins(table, bundle, file), pa.nulls(table.num_rows, pa.int64())))  # fmt: skip
        load_bundles(store, [DEMO, extra], names=["bundle", "extra"])
    assert store.run("MATCH ()-[r:SUPPLIES]->() RETURN r.origin AS o")[0]["o"].startswith("bundle/supply.csv:")
    (extra / "supply.csv").write_text("buyer_factory_id,supplier_factory_id\nFA-SH2,FA-DVC\n")
    report = load_bundles(store, [extra], names=["extra"], incremental=True)
    assert "origin_line" in report.rebuilt_because
    rebuilt = dump_graph(store)
    assert load_bundles(store, [extra], names=["extra"], incremental=True).rebuilt_because == ""  # now by a delta
    load_bundles(store, [DEMO, extra], names=["bundle", "extra"], fresh=True, incremental=False)
    assert rebuilt == dump_graph(store)
