"""Building one LadybugDB generation from graph tables: the DDL, then COPY from Arrow, in this process for a
small graph and in bounded child processes (graph/stores/ladybug_copy.py) for a large one."""

from __future__ import annotations

import gc
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ladybug
import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.graph.arrow_files import write_arrow_file
from supplygraph.graph.relationships import RelPart
from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.stores.ladybug_copy import FAILED
from supplygraph.graph.stores.protocol import Progress, ident
from supplygraph.graph.tables import GraphTables


def ladybug_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_list(arrow_type):
        return "STRING[]"
    if pa.types.is_date(arrow_type):
        return "DATE"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE"
    if pa.types.is_integer(arrow_type):
        return "INT64"
    return "STRING"


def _node_ddl(label: str, table: pa.Table) -> str:
    cols = ", ".join(f"{ident(c)} {ladybug_type(table.schema.field(c).type)}" for c in table.column_names)
    return f"CREATE NODE TABLE {ident(label)} ({cols}, PRIMARY KEY(`id`))"


def _rel_ddl(rel_type: str, parts: list[RelPart]) -> tuple[str, list[str]]:
    pairs = list(dict.fromkeys((p.source, p.target) for p in parts))
    columns: dict[str, str] = {}
    for part in parts:
        for name in part.table.column_names[2:]:
            columns.setdefault(name, ladybug_type(part.table.schema.field(name).type))
    ends = ", ".join(f"FROM {ident(s)} TO {ident(t)}" for s, t in pairs)
    props = "".join(f", {ident(c)} {t}" for c, t in columns.items())
    return f"CREATE REL TABLE {ident(rel_type)} ({ends}{props})", list(columns)


CHILD_BYTES = 64 << 20  # a graph whose node tables hold more than this is copied by child processes
SLICE_ROWS = 1_000_000  # node rows copied by one child process
REL_ROWS = 4_000_000  # relationship rows copied by one child (more when one relationship table has more)
# A child's buffer pool to start with (doubled for a statement that needs more); 0: LadybugDB's default (most of the
# machine's memory). A bound does not bound a relationship COPY, which allocates most of its memory outside the pool
# and spills the rest: at 1M factories it made the COPY slower and no smaller (docs/benchmarks.md, issue 17).
COPY_POOL_BYTES = 0


def _steps(tables: GraphTables) -> Iterator[tuple[str, list[str], str, pa.Table]]:
    """(progress name, DDL, COPY statement reading `rows`, rows) for each table, in order: nodes, then rels."""
    for label in SCHEMA.nodes:
        rows = tables.nodes[label]
        yield label, [_node_ddl(label, rows)], f"COPY {ident(label)} FROM rows", _batched(rows)
    by_type: dict[str, list[RelPart]] = {}
    for part in tables.rels:
        by_type.setdefault(part.type, []).append(part)
    for rel_type, parts in by_type.items():
        ddl, columns = _rel_ddl(rel_type, parts)
        for i, part in enumerate(parts):
            ends = "" if len(parts) == 1 else f" (from={part.source!r}, to={part.target!r})"
            yield (
                rel_type,
                [ddl] if i == 0 else [],
                f"COPY {ident(rel_type)} FROM rows{ends}",
                _align(part.table, columns),
            )


def build_graph(path: Path, tables: GraphTables, progress: Progress | None) -> None:
    total = tables.node_count + tables.rel_count
    if sum(t.nbytes for t in tables.nodes.values()) > CHILD_BYTES:
        _build_in_children(path, tables, progress)
        return
    db = ladybug.Database(str(path))
    conn = ladybug.Connection(db)
    done = 0
    try:
        for name, ddl, copy, rows in _steps(tables):
            for statement in ddl:
                conn.execute(statement)
            if rows.num_rows:
                conn.execute(copy)
            done += rows.num_rows
            if progress:
                progress(name, done, total)
        conn.execute("CHECKPOINT")
    finally:
        conn.close()
        db.close()


def _build_in_children(path: Path, tables: GraphTables, progress: Progress | None) -> None:
    """The same COPYs, run by fresh child processes (graph/stores/ladybug_copy.py) from Arrow files staged beside the
    database and removed once copied: tables together up to SLICE_ROWS node rows (a larger node table in slices) or
    REL_ROWS relationship rows per child, each child with a buffer pool of COPY_POOL_BYTES when that is set.
    Every file is staged first and `tables` released, so the loading process holds none of the graph while the
    children copy it, and what LadybugDB keeps after a COPY goes back with each child. A relationship table is
    copied whole by one child: appending to a non-empty one rewrites what it holds, so slicing it would cost more
    than it saves. The database is part of the new generation: a failed or killed load changes nothing (and a
    child dies with the load)."""
    total = tables.node_count + tables.rel_count
    staging = path.parent / "staging"
    staging.mkdir()
    jobs: list[list[dict[str, Any]]] = [[]]
    numbers = itertools.count()
    for name, ddl, copy, rows in _steps(tables):
        pieces, most = [rows], REL_ROWS
        if name in SCHEMA.nodes:
            pieces = [rows.slice(start, SLICE_ROWS) for start in range(0, rows.num_rows, SLICE_ROWS)] or [rows]
            most = SLICE_ROWS
        for piece in pieces:
            if jobs[-1] and sum(step["rows"] for step in jobs[-1]) + piece.num_rows > most:
                jobs.append([])
            file = None
            if piece.num_rows:
                file = str(staging / f"{next(numbers):05d}.arrow")
                write_arrow_file(file, piece)
            jobs[-1].append({"name": name, "ddl": ddl, "copy": copy, "file": file, "rows": piece.num_rows})
            ddl = []
        del rows, pieces
    tables.release()
    gc.collect()
    pa.default_memory_pool().release_unused()
    done = 0
    for job in jobs:
        _run_child(path, job)
        for step in job:
            if step["file"]:
                os.unlink(step["file"])
            done += step["rows"]
            if progress:
                progress(step["name"], done, total)
    staging.rmdir()


def _run_child(path: Path, steps: list[dict[str, Any]]) -> None:
    job = json.dumps({"database": str(path), "pool_bytes": COPY_POOL_BYTES, "steps": steps})
    done = subprocess.run(
        [sys.executable, "-m", "supplygraph.graph.stores.ladybug_copy"],
        input=job.encode(),
        cwd=path.parent,  # a folder of the load: nothing there shadows a module the child imports
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    message = done.stderr.decode(errors="replace").strip()
    if done.returncode == FAILED:
        raise RuntimeError(message)
    if done.returncode:
        raise RuntimeError(f"a LadybugDB COPY process ended with status {done.returncode}: {message[-2000:]}")


def _align(table: pa.Table, columns: list[str]) -> pa.Table:
    """from, to, then every column of the rel table in its order (nulls where this part has none)."""
    out = {"from": table.column("from"), "to": table.column("to")}
    for name in columns:
        out[name] = table.column(name) if name in table.column_names else pa.nulls(table.num_rows, pa.string())
    if pa.types.is_string(out["origin"].type):
        out["origin"] = _repeated(out["origin"])
    return _batched(pa.table(out))


def _repeated(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A string column whose values repeat (a link's `origin` names its file, the same for every row of it) as a
    dictionary: the file a COPY child maps holds each value once instead of once per row (at 1M factories 560 MB
    less of the supply links' file resident in the child, docs/benchmarks.md). The database stores the same strings."""
    return pc.dictionary_encode(column).unify_dictionaries()


def _batched(table: pa.Table) -> pa.Table:
    """The same rows without empty record batches (zero-copy): LadybugDB's COPY from Arrow stops at the first
    empty batch and silently drops every row after it."""
    return pa.Table.from_batches([b for b in table.to_batches() if b.num_rows], table.schema)
