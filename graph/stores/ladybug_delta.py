"""An incremental load on the embedded store: the current generation's database file copied into the new
generation, the GraphDelta written into the copy, then swapped in like any load (graph/stores/ladybug_store.py).

Readers keep reading the old generation until the swap; a load that fails or is killed leaves a half-written
folder that is never current (the next load removes it). In the copy, the change is one transaction kept in the
database's write-ahead log (graph.lbug.wal, copied with the file by the next load), not checkpointed into the
file: a checkpoint rewrites every node group of a relationship table that a few scattered rows touch (for the
supply links of a large graph, most of the table), while every reader replays the log when it opens the
generation. Once the log outgrows WAL_LIMIT the load checkpoints it. Relationships are deleted and nodes looked
up by key with `UNWIND $ids AS x MATCH (n:Label {id: x})` (the primary-key index); existing nodes are overwritten
with SET, new nodes and relationships made with CREATE from an Arrow table (COPY is not logged: it is kept only
by a checkpoint). docs/benchmarks.md has the figures.
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


WAL_LIMIT = 16 << 20  # bytes of write-ahead log past which a load checkpoints it (LadybugDB's own default)


def apply_delta(path: Path, delta: GraphDelta, progress: Progress | None = None) -> None:
    """Write `delta` into the LadybugDB database at `path` as one transaction in its write-ahead log."""
    db = ladybug.Database(str(path), auto_checkpoint=False)
    conn = ladybug.Connection(db)
    conn.execute("CALL force_checkpoint_on_close=false")
    total, done = delta.rows, 0
    try:
        nodes = {label: _aligned(conn, label, rows, []) for label, rows in delta.nodes.items()}
        rels = [(part, _aligned(conn, part.type, part.table, ["from", "to"])) for part in delta.rels]
        conn.execute("BEGIN TRANSACTION")  # after ALTER TABLE, which a transaction may not hold
        _delete(conn, delta)
        for label, table in nodes.items():
            _write_nodes(conn, label, table)
            done += table.num_rows
            if progress:
                progress(label, done, total)
        for part, rows in rels:
            properties = ", ".join(f"{ident(c)}: {ident(c)}" for c in rows.column_names if c not in ("from", "to"))
            conn.execute(
                f"LOAD FROM rows MATCH (a:{ident(part.source)} {{id: `from`}}) MATCH (b:{ident(part.target)} {{id: `to`}})"
                f" CREATE (a)-[:{ident(part.type)} {{{properties}}}]->(b)"
            )
            done += part.table.num_rows
            if progress:
                progress(part.type, done, total)
        conn.execute("COMMIT")
        if wal_size(path) > WAL_LIMIT:
            conn.execute("CHECKPOINT")
    finally:
        conn.close()
        db.close()


def wal_size(path: Path) -> int:
    """Bytes of the database's write-ahead log (0 when it has none)."""
    wal = path.with_name(path.name + ".wal")
    return wal.stat().st_size if wal.exists() else 0


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


def _write_nodes(conn: ladybug.Connection, label: str, table: pa.Table) -> None:
    """Nodes that exist get every property SET (null where the row has none); the others are CREATEd."""
    found = conn.execute(
        f"UNWIND $ids AS x MATCH (n:{ident(label)} {{id: x}}) RETURN n.id AS id", {"ids": table.column("id").to_pylist()}
    )
    assert not isinstance(found, list)
    existing = found.get_as_arrow().column("id").combine_chunks().cast(pa.string())
    old = pc.is_in(table.column("id"), value_set=existing)
    if pc.any(old).as_py():  # LOAD FROM an Arrow table: every column keeps its type, nulls too
        changed = table.filter(old)
        assignments = ", ".join(f"_node.{ident(c)} = {ident(c)}" for c in table.column_names if c != "id")
        conn.execute(f"LOAD FROM changed MATCH (_node:{ident(label)} {{id: `id`}}) SET {assignments}")
        del changed  # read by name by the statement above, as `fresh` and `rows` are by LOAD FROM
    fresh = table.filter(pc.invert(old))
    if fresh.num_rows:
        properties = ", ".join(f"{ident(c)}: {ident(c)}" for c in fresh.column_names)
        conn.execute(f"LOAD FROM fresh CREATE (:{ident(label)} {{{properties}}})")


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
