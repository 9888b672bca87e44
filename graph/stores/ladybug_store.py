"""The embedded default store: LadybugDB in a folder, rebuilt with COPY and swapped in atomically.

Layout of the data folder:

    CURRENT                      name of the generation that answers queries
    load.lock                    held while a load runs
    generations/<name>/graph.lbug    the LadybugDB database
    generations/<name>/bundles/NN-<bundle>/<table>.arrow   the canonical records it was built from (Arrow IPC)

A load writes a whole new generation beside the current one and only then replaces CURRENT
(an atomic rename). A load that fails or is killed leaves CURRENT, and so the graph, as it was.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import ladybug
import pyarrow as pa
import pyarrow.parquet as pq
from supplygraph.graph.errors import EmptyGraph, LoadLocked, QueryFailed, QueryTimeout
from supplygraph.graph.private_files import make_private_folder
from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.stores.ladybug_copy import FAILED
from supplygraph.graph.stores.load_lock import WRITING, WRITTEN, LoadLock, reached
from supplygraph.graph.stores.protocol import ArrowReader, LoadedBundle, Progress, Row, ident
from supplygraph.graph.tables import BATCH, GraphTables, RelPart


def kuzu_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_list(arrow_type):
        return "STRING[]"
    if pa.types.is_date(arrow_type):
        return "DATE"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE"
    if pa.types.is_integer(arrow_type):
        return "INT64"
    return "STRING"


class LadybugStore:
    dialect = "ladybug"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._open_name: str | None = None
        self._db: ladybug.Database | None = None
        self._conn: ladybug.Connection | None = None
        self._current: tuple[tuple[int, int, int], str | None] | None = None
        self._load_lock = LoadLock(self._take_load_lock)

    # ------------------------------------------------------------ reading

    def _current_name(self) -> str | None:
        """The generation CURRENT names, re-read only when the file was replaced (one stat() a call)."""
        try:
            info = os.stat(self.root / "CURRENT")
            stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
            seen = self._current
            if seen is None or seen[0] != stamp:
                seen = self._current = (stamp, (self.root / "CURRENT").read_text().strip() or None)
            return seen[1]
        except FileNotFoundError:
            return None

    @property
    def generation(self) -> str | None:
        return self._current_name()

    def _connection(self) -> ladybug.Connection:
        name = self._current_name()
        if name is None:
            raise EmptyGraph(f"no graph in {self.root}: load a bundle first (supplygraph load BUNDLE)")
        if name != self._open_name or self._conn is None:
            self.close()
            self._db = ladybug.Database(str(self.root / "generations" / name / "graph.lbug"), read_only=True)
            self._conn = ladybug.Connection(self._db)
            self._open_name = name
        return self._conn

    embedded = True

    def link_reads(self) -> ArrowReader:
        self._connection()
        return self

    @property
    def data_folder(self) -> Path | None:
        return self.root

    @property
    def decisions_file(self) -> Path:
        return self.root / "matches.json"

    def pinned(self, generation: str | None) -> LadybugStore:
        if generation is None:
            raise EmptyGraph(f"no graph in {self.root}: load a bundle first (supplygraph load BUNDLE)")
        return PinnedLadybugStore(self.root, generation)

    def worker_config(self) -> dict[str, Any]:
        return {"dialect": "ladybug", "root": str(Path(self.root).resolve())}

    def run(self, cypher: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        conn = self._connection()
        result = conn.execute(cypher, dict(params or {}))
        assert not isinstance(result, list)
        names = result.get_column_names()
        return [dict(zip(names, row, strict=True)) for row in result.get_all()]

    def run_arrow(self, cypher: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        result = self._connection().execute(cypher, dict(params or {}))
        assert not isinstance(result, list)
        return result.get_as_arrow()

    def run_readonly(
        self, cypher: str, params: Mapping[str, Any] | None, *, timeout_s: float, max_rows: int
    ) -> tuple[list[str], list[list[Any]], bool]:
        conn = self._connection()
        conn.set_query_timeout(int(timeout_s * 1000))
        try:
            result = conn.execute(cypher, dict(params or {}))
        except RuntimeError as exc:
            text = str(exc)
            if "Interrupted" in text:
                raise QueryTimeout(f"query stopped after {timeout_s:g} s") from exc
            raise QueryFailed(text) from exc
        finally:
            conn.set_query_timeout(0)
        assert not isinstance(result, list)
        rows: list[list[Any]] = []
        while result.has_next() and len(rows) <= max_rows:
            row = result.get_next()
            rows.append(list(row.values()) if isinstance(row, dict) else list(row))
        truncated = len(rows) > max_rows
        return result.get_column_names(), rows[:max_rows], truncated

    def bundles(self) -> list[LoadedBundle]:
        name = self._current_name()
        if name is None:
            return []
        folder = self.root / "generations" / name
        manifest = json.loads((folder / "manifest.json").read_text())
        out = []
        for entry in manifest["bundles"]:
            sub = folder / "bundles" / entry["folder"]
            tables = {p.stem: pq.read_table(p) for p in sorted(sub.glob("*.parquet"))}  # loads before 2026-11-27
            tables.update({p.stem: _mapped(p) for p in sorted(sub.glob("*.arrow"))})
            out.append(LoadedBundle(entry["name"], tables))
        return out

    def manifest(self) -> dict[str, Any] | None:
        name = self._current_name()
        if name is None:
            return None
        return json.loads((self.root / "generations" / name / "manifest.json").read_text())

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._db is not None:
            self._db.close()
        self._conn = self._db = None
        self._open_name = None

    # ------------------------------------------------------------ writing

    def load_lock(self) -> AbstractContextManager[None]:
        """Held from reading the loaded bundles to swapping in the new generation (graph/stores/load_lock.py)."""
        return self._load_lock.held()

    def _take_load_lock(self) -> Callable[[], None]:
        make_private_folder(self.root)
        fh = open(self.root / "load.lock", "w")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            fh.close()
            raise LoadLocked(f"another load is writing to {self.root}; try again when it ends") from exc
        return fh.close  # closing the file gives the lock back (and so does the process ending)

    def replace(self, bundles: list[LoadedBundle], tables: GraphTables, progress: Progress | None = None) -> None:
        with self.load_lock():
            name = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
            folder = self.root / "generations" / name
            folder.mkdir(parents=True)
            _write_bundles(folder, bundles)
            reached(WRITING)
            _build_graph(folder / "graph.lbug", tables, progress)
            _fsync_tree(folder)
            pointer = self.root / "CURRENT.tmp"
            pointer.write_text(name + "\n")
            with open(pointer) as fh:
                os.fsync(fh.fileno())
            previous = self._current_name()
            reached(WRITTEN)
            os.replace(pointer, self.root / "CURRENT")
            _fsync_dir(self.root)
            self._collect_garbage(keep={name, previous})

    def _collect_garbage(self, keep: set[str | None]) -> None:
        """Remove generations that are neither current nor the one before (left by failed or killed loads)."""
        for folder in (self.root / "generations").iterdir():
            if folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)


def _write_bundles(folder: Path, bundles: list[LoadedBundle]) -> None:
    entries = []
    for i, bundle in enumerate(bundles):
        sub = f"{i:02d}-{bundle.name}"
        (folder / "bundles" / sub).mkdir(parents=True)
        for table_name, table in bundle.tables.items():
            _write_arrow(str(folder / "bundles" / sub / f"{table_name}.arrow"), table)
        entries.append({"name": bundle.name, "folder": sub, "rows": {k: t.num_rows for k, t in bundle.tables.items()}})
    (folder / "manifest.json").write_text(json.dumps({"bundles": entries}, indent=2))


def _mapped(path: Path) -> pa.Table:
    """A stored table memory-mapped (Arrow IPC, uncompressed): later loads read it without copying it to the heap."""
    return pa.ipc.open_file(pa.memory_map(str(path))).read_all()


def _node_ddl(label: str, table: pa.Table) -> str:
    cols = ", ".join(f"{ident(c)} {kuzu_type(table.schema.field(c).type)}" for c in table.column_names)
    return f"CREATE NODE TABLE {ident(label)} ({cols}, PRIMARY KEY(`id`))"


def _rel_ddl(rel_type: str, parts: list[RelPart]) -> tuple[str, list[str]]:
    pairs = list(dict.fromkeys((p.source, p.target) for p in parts))
    columns: dict[str, str] = {}
    for part in parts:
        for name in part.table.column_names[2:]:
            columns.setdefault(name, kuzu_type(part.table.schema.field(name).type))
    ends = ", ".join(f"FROM {ident(s)} TO {ident(t)}" for s, t in pairs)
    props = "".join(f", {ident(c)} {t}" for c, t in columns.items())
    return f"CREATE REL TABLE {ident(rel_type)} ({ends}{props})", list(columns)


CHILD_BYTES = 64 << 20  # a graph whose node tables hold more than this is copied by child processes
SLICE_ROWS = 100_000  # node rows copied by one child process
REL_ROWS = 400_000  # relationship rows copied by one child (more when one relationship table has more)


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


def _build_graph(path: Path, tables: GraphTables, progress: Progress | None) -> None:
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
    database and removed once copied: node tables in slices of SLICE_ROWS rows, small tables and slices together
    up to SLICE_ROWS rows per child (relationships: REL_ROWS). What LadybugDB keeps after a COPY goes back with
    each child, so a load's peak does not grow with the number of nodes. A relationship table is copied whole by
    one child: appending to a non-empty one rewrites what it holds, so slicing it would cost more than it saves
    (measurements in the README, "Loading real-world data"). The database is part of the new generation: a
    failed or killed load changes nothing (and a child dies with the load)."""
    total = tables.node_count + tables.rel_count
    staging = path.parent / "staging"
    staging.mkdir()
    job: list[dict[str, Any]] = []
    done = 0
    numbers = itertools.count()

    def flush() -> None:
        nonlocal done
        _run_child(path, job)
        for step in job:
            if step["file"]:
                os.unlink(step["file"])
            done += step["rows"]
            if progress:
                progress(step["name"], done, total)
        job.clear()

    for name, ddl, copy, rows in _steps(tables):
        pieces, most = [rows], REL_ROWS
        if name in SCHEMA.nodes:
            pieces = [rows.slice(start, SLICE_ROWS) for start in range(0, rows.num_rows, SLICE_ROWS)] or [rows]
            most = SLICE_ROWS
        for piece in pieces:
            if job and sum(step["rows"] for step in job) + piece.num_rows > most:
                flush()
            file = None
            if piece.num_rows:
                file = str(staging / f"{next(numbers):05d}.arrow")
                _write_arrow(file, piece)
            job.append({"name": name, "ddl": ddl, "copy": copy, "file": file, "rows": piece.num_rows})
            ddl = []
    if job:
        flush()
    staging.rmdir()


def _run_child(path: Path, steps: list[dict[str, Any]]) -> None:
    job = json.dumps({"database": str(path), "steps": steps})
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


def _write_arrow(file: str, table: pa.Table) -> None:
    with pa.OSFile(file, "wb") as fh:
        with pa.ipc.new_file(fh, table.schema) as writer:
            for batch in table.to_batches(max_chunksize=BATCH):
                if batch.num_rows:  # see _batched
                    writer.write_batch(batch)


def _align(table: pa.Table, columns: list[str]) -> pa.Table:
    """from, to, then every column of the rel table in its order (nulls where this part has none)."""
    out = {"from": table.column("from"), "to": table.column("to")}
    for name in columns:
        out[name] = table.column(name) if name in table.column_names else pa.nulls(table.num_rows, pa.string())
    return _batched(pa.table(out))


def _batched(table: pa.Table) -> pa.Table:
    """The same rows without empty record batches (zero-copy): LadybugDB's COPY from Arrow stops at the first
    empty batch and silently drops every row after it."""
    return pa.Table.from_batches([b for b in table.to_batches() if b.num_rows], table.schema)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    for dirpath, _dirs, files in os.walk(folder):
        for f in files:
            with open(os.path.join(dirpath, f), "rb") as fh:
                os.fsync(fh.fileno())
        _fsync_dir(Path(dirpath))


class PinnedLadybugStore(LadybugStore):
    """A LadybugStore that reads one generation, whatever CURRENT says later, optionally with DB limits.

    The API shares one per generation between requests (api/deps.py); a worker process (sandbox,
    exposure walks) opens one with a bounded buffer pool.
    """

    def __init__(self, root: Path, generation: str, **database_options: Any) -> None:
        super().__init__(root)
        self.pinned_generation = generation
        self.database_options = database_options

    def _current_name(self) -> str | None:
        return self.pinned_generation

    def _connection(self) -> ladybug.Connection:
        if self._conn is None:
            path = self.root / "generations" / self.pinned_generation / "graph.lbug"
            if not path.exists():
                raise EmptyGraph(f"generation {self.pinned_generation} of {self.root} is gone; load a bundle again")
            self._db = ladybug.Database(str(path), read_only=True, **self.database_options)
            self._conn = ladybug.Connection(self._db)
            self._open_name = self.pinned_generation
        return self._conn
