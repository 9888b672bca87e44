"""Exports: neo4j-admin import CSVs and GraphML hold the whole graph (both stores)."""

from __future__ import annotations

import csv

import networkx as nx
from supplygraph.loaders.exporters import export_graphml, export_neo4j_import, graph_tables
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO
from tests.graph_dump import dump_graph


def test_graphml_holds_every_node_and_relationship(store, tmp_path) -> None:
    load_bundles(store, [DEMO])
    dump = dump_graph(store)
    path = export_graphml(graph_tables(store), tmp_path / "graph.graphml")
    graph = nx.read_graphml(path)
    labels = {"Source", "Affiliate", "Company", "Contract", "Product", "Factory", "Agency", "Finding", "Item"}
    assert graph.number_of_nodes() == sum(len(v) for k, v in dump.items() if k in labels)
    assert graph.number_of_edges() == sum(len(v) for k, v in dump.items() if k not in labels)
    edge = next(d for a, b, d in graph.edges(data=True) if a == "Factory:FA-DVB" and b == "Factory:FA-SH2")
    assert edge["type"] == "SUPPLIES" and edge["source_ids"]


def test_neo4j_import_files_have_admin_headers(store, tmp_path) -> None:
    load_bundles(store, [DEMO])
    written = export_neo4j_import(graph_tables(store), tmp_path / "import")
    names = {p.name for p in written}
    assert {"nodes-Factory.csv", "rels-SUPPLIES-Factory-Factory.csv", "import.sh"} <= names
    with open(tmp_path / "import" / "nodes-Factory.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0] == "id:ID(Factory)" and rows[0][-1] == ":LABEL" and "lat:double" in rows[0]
    assert len(rows) - 1 == len(dump_graph(store)["Factory"])
    with open(tmp_path / "import" / "rels-SUPPLIES-Factory-Factory.csv", newline="") as fh:
        header = next(csv.reader(fh))
    assert header[:4] == [":START_ID(Factory)", ":END_ID(Factory)", "valid_from:date", "valid_to:date"]
    script = (tmp_path / "import" / "import.sh").read_text()
    assert "neo4j-admin database import full" in script and "--relationships=SUPPLIES=" in script
