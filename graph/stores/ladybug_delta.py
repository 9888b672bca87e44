"""An incremental load on the embedded store: the current generation's database file copied into the new
generation, the GraphDelta written into the copy, then swapped in like any load (graph/stores/ladybug_store.py).

Readers keep reading the old generation until the swap; a load that fails or is killed leaves a half-written
folder that is never current (the next load removes it). In the copy: relationships are deleted and nodes
looked up by key with `UNWIND $ids AS x MATCH (n:Label {id: x})` (the primary-key index), existing nodes
overwritten with SET, new nodes and every new relationship appended with COPY FROM Arrow (a relationship
created by MATCH … CREATE costs tens of milliseconds; docs/benchmarks.md has the figures).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import ladybug
import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.graph.delta import GraphDelta, own_references
from supplygraph.graph.stores.ladybug_build import ladybug_type
from supplygraph.graph.stores.protocol import Progress, ident

ARROW_TYPES = {"STRING": pa.string(), "DATE": pa.date32(), "DOUBLE": pa.float64(), "INT64": pa.int64(),
               "STRING[]": pa.list_(pa.string())}  # fmt: skip


def copy_database(source: Path, target: Path) -> None:
    """The database file (and its write-ahead log, if one is left) copied, under the target's name."""
    for file in sorted(source.parent.glob(source.name + "*")):
        shutil.copyfile(file, target.parent / (target.name + file.name.removeprefix(source.name)))


def apply_delta(path: Path, delta: GraphDelta, progress: Progress | None = None) -> None:
    """Write `delta` into the LadybugDB database at `path` and checkpoint it."""
    db = ladybug.Database(str(path))
    conn = ladybug.Connection(db)
    total, done = delta.rows, 0
    try:
        _delete(conn, delta)
        for label, rows in delta.nodes.items():
            _write_nodes(conn, label, rows)
            done += rows.num_rows
            if progress:
                progress(label, done, total)
        for part in delta.rels:
            rows = _aligned(conn, part.type, part.table, ["from", "to"])
            ends = f"(from={part.source!r}, to={part.target!r})"
            conn.execute(f"COPY {ident(part.type)} FROM rows {ends}")
            done += part.table.num_rows
            if progress:
                progress(part.type, done, total)
            del rows
        conn.execute("CHECKPOINT")
    finally:
        conn.close()
        db.close()


def _delete(conn: ladybug.Connection, delta: GraphDelta) -> None:
    """The touched nodes' reference relationships, the removed bundles' links, and the nodes gone."""
    for label, ids in delta.touched.items():
        for rel, reverse in dict.fromkeys((ref.rel, ref.reverse) for ref in own_references(label)):
            arrow = f"<-[r:{ident(rel)}]-()" if reverse else f"-[r:{ident(rel)}]->()"
            conn.execute(f"UNWIND $ids AS x MATCH (n:{ident(label)} {{id: x}}){arrow} DELETE r", {"ids": ids})
    for part in delta.unlinked:
        conn.execute(
            f"UNWIND $rows AS row MATCH (a:{ident(part.source)} {{id: row.from}})-[r:{ident(part.type)}]->()"
            " WHERE r.origin = row.origin AND r.origin_line = row.origin_line DELETE r",
            {"rows": part.table.select(["from", "origin", "origin_line"]).to_pylist()},
        )
    for label, ids in delta.gone.items():
        conn.execute(f"UNWIND $ids AS x MATCH (n:{ident(label)} {{id: x}}) DETACH DELETE n", {"ids": ids})


def _write_nodes(conn: ladybug.Connection, label: str, rows: pa.Table) -> None:
    """Nodes that exist get every property SET (null where the row has none); the others are COPYed."""
    table = _aligned(conn, label, rows, [])
    found = conn.execute(
        f"UNWIND $ids AS x MATCH (n:{ident(label)} {{id: x}}) RETURN n.id AS id", {"ids": rows.column("id").to_pylist()}
    )
    assert not isinstance(found, list)
    existing = found.get_as_arrow().column("id").combine_chunks().cast(pa.string())
    old = pc.is_in(table.column("id"), value_set=existing)
    if pc.any(old).as_py():  # LOAD FROM an Arrow table: every column keeps its type, nulls too
        changed = table.filter(old)
        assignments = ", ".join(f"_node.{ident(c)} = {ident(c)}" for c in table.column_names if c != "id")
        conn.execute(f"LOAD FROM changed MATCH (_node:{ident(label)} {{id: `id`}}) SET {assignments}")
        del changed  # read by name by the statement above, as `fresh` and `rows` are by COPY
    fresh = table.filter(pc.invert(old))
    if fresh.num_rows:
        conn.execute(f"COPY {ident(label)} FROM fresh")


def _aligned(conn: ladybug.Connection, name: str, rows: pa.Table, ends: list[str]) -> pa.Table:
    """`rows` with the columns of table `name` in its order and types (nulls for those it lacks); a column
    the table lacks is added to it first (a new extra column of a bundle)."""
    columns = _columns(conn, name)
    for column in rows.column_names:
        if column not in columns and column not in ends:
            kind = ladybug_type(rows.schema.field(column).type)
            conn.execute(f"ALTER TABLE {ident(name)} ADD {ident(column)} {kind}")
            columns[column] = kind
    out = {end: rows.column(end) for end in ends}
    for column, kind in columns.items():
        wanted = ARROW_TYPES.get(kind, pa.string())
        out[column] = rows.column(column).cast(wanted) if column in rows.column_names else pa.nulls(rows.num_rows, wanted)
    return pa.table(out).combine_chunks()  # one batch: LadybugDB's scan of Arrow stops at an empty one


def _columns(conn: ladybug.Connection, name: str) -> dict[str, str]:
    """The properties of a node or relationship table, in order, with their LadybugDB types."""
    result = conn.execute(f"CALL TABLE_INFO({name!r}) RETURN *")
    assert not isinstance(result, list)
    frame = result.get_as_arrow()
    return dict(zip(frame.column("name").to_pylist(), frame.column("type").to_pylist(), strict=True))
