"""Exporters of the graph: CSV for `neo4j-admin database import`, and GraphML for Gephi and networkx.

Both are written from the canonical records the current graph was built from (the same tables a
load COPYs or UNWINDs), so they are fast at millions of rows and equal to the graph.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import networkx as nx
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from supplygraph.graph.stores.protocol import Store
from supplygraph.graph.tables import GraphTables, build_tables
from supplygraph.loaders.contract_items import prepare_items
from supplygraph.loaders.resolve import Decisions, matches_file

ARRAY_DELIMITER = "|"


def graph_tables(store: Store) -> GraphTables:
    # contract items become Item nodes and matched INCLUDES links as in a load (loaders/contract_items.py)
    bundles, _queue = prepare_items([(b.name, dict(b.tables)) for b in store.bundles()], Decisions.load(matches_file(store)))
    return build_tables(bundles)


def _neo4j_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_list(arrow_type):
        return ":string[]"
    if pa.types.is_date(arrow_type):
        return ":date"
    if pa.types.is_floating(arrow_type):
        return ":double"
    if pa.types.is_integer(arrow_type):
        return ":long"
    return ""


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_list(column.type):
        return pc.binary_join(column, ARRAY_DELIMITER)
    if pa.types.is_date(column.type):
        return pc.cast(column, pa.string())
    return column


def export_neo4j_import(tables: GraphTables, outdir: Path) -> list[Path]:
    """One CSV per label and per relationship part, headers in neo4j-admin's format, plus import.sh."""
    outdir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    args: list[str] = []
    for label, table in tables.nodes.items():
        names = []
        for name in table.column_names:
            names.append(f"id:ID({label})" if name == "id" else name + _neo4j_type(table.schema.field(name).type))
        columns = [_as_text(table.column(n)) for n in table.column_names]
        path = outdir / f"nodes-{label}.csv"
        pacsv.write_csv(pa.table([*columns, pa.array([label] * table.num_rows)], names=[*names, ":LABEL"]), path)
        written.append(path)
        args.append(f"--nodes={label}={path.name}")
    for part in tables.rels:
        table = part.table
        names = [f":START_ID({part.source})", f":END_ID({part.target})"]
        names += [n + _neo4j_type(table.schema.field(n).type) for n in table.column_names[2:]]
        columns = [_as_text(table.column(n)) for n in table.column_names]
        path = outdir / f"rels-{part.type}-{part.source}-{part.target}.csv"
        pacsv.write_csv(pa.table([*columns, pa.array([part.type] * table.num_rows)], names=[*names, ":TYPE"]), path)
        written.append(path)
        args.append(f"--relationships={part.type}={path.name}")
    script = outdir / "import.sh"
    command = [  # the database before the file lists: --nodes and --relationships take every later word
        "neo4j-admin", "database", "import", "full", "${1:-neo4j}", "--overwrite-destination",
        f"--array-delimiter={ARRAY_DELIMITER}", "--skip-bad-relationships=false", *args,
    ]
    script.write_text(
        "#!/bin/sh\n# Initial load of a stopped Neo4j from these files; run from this folder.\n"
        "# Then create the uniqueness constraints: supplygraph load does it, or see docs/neo4j.md.\n"
        + " ".join(a if a.startswith("$") else shlex.quote(a) for a in command)
        + "\n"
    )
    script.chmod(0o755)
    written.append(script)
    return written


def _plain(value: object) -> object:
    if isinstance(value, list):
        return ARRAY_DELIMITER.join(str(v) for v in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[no-any-return, union-attr]
    return value


def to_networkx(tables: GraphTables) -> nx.MultiDiGraph:
    """Nodes are 'Label:id' with a `label` attribute; edges carry `type` and their properties."""
    graph = nx.MultiDiGraph()
    for label, table in tables.nodes.items():
        for row in table.to_pylist():
            attrs = {k: _plain(v) for k, v in row.items() if v is not None}
            graph.add_node(f"{label}:{row['id']}", label=label, **attrs)
    for part in tables.rels:
        for row in part.table.to_pylist():
            attrs = {k: _plain(v) for k, v in row.items() if v is not None and k not in ("from", "to")}
            graph.add_edge(f"{part.source}:{row['from']}", f"{part.target}:{row['to']}", type=part.type, **attrs)
    return graph


def export_graphml(tables: GraphTables, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(to_networkx(tables), path)
    return path
