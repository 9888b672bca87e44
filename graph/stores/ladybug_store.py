"""The embedded default store: LadybugDB in a folder, rebuilt with COPY and swapped in atomically.

Layout of the data folder:

    CURRENT                      name of the generation that answers queries
    load.lock                    held while a load runs
    trash/                       generations no longer kept, being removed in the background
    generations/<name>/graph.lbug    the LadybugDB database
    generations/<name>/bundles/NN-<bundle>/<table>.arrow   the canonical records it was built from (Arrow IPC)
    generations/<name>/link-index/   the exposure walk's link index, written with the generation and
                                     memory-mapped by readers (queries/link_files.py)

A load writes a whole new generation beside the current one and only then replaces CURRENT
(an atomic rename). A load that fails or is killed leaves CURRENT, and so the graph, as it was.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import ladybug
import pyarrow as pa
import pyarrow.parquet as pq
from supplygraph.graph.arrow_files import read_arrow_file
from supplygraph.graph.delta import GraphDelta
from supplygraph.graph.errors import EmptyGraph, LoadLocked, QueryFailed, QueryTimeout
from supplygraph.graph.private_files import make_private_folder
from supplygraph.graph.stores.generation_files import fsync_dir, fsync_tree, write_bundles
from supplygraph.graph.stores.generation_hooks import GenerationChange, generation_built, tables_built
from supplygraph.graph.stores.ladybug_build import build_graph
from supplygraph.graph.stores.ladybug_delta import apply_delta, copy_database
from supplygraph.graph.stores.ladybug_precopy import EarlyCopy
from supplygraph.graph.stores.load_lock import WRITING, WRITTEN, LoadLock, reached
from supplygraph.graph.stores.protocol import ArrowReader, LoadedBundle, Progress, Row
from supplygraph.graph.stores.readable import ladybug_readable
from supplygraph.graph.stores.trash import discard
from supplygraph.graph.tables import GraphTables


class LadybugStore:
    dialect = "ladybug"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._open_name: str | None = None
        self._db: ladybug.Database | None = None
        self._conn: ladybug.Connection | None = None
        self._current: tuple[tuple[int, int, int], str | None] | None = None
        self._load_lock = LoadLock(self._take_load_lock)
        self._early: EarlyCopy | None = None  # the copy prepare_delta started

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

    def link_index_folder(self, generation: str) -> Path | None:
        return self.root / "generations" / generation / "link-index"

    @property
    def data_folder(self) -> Path | None:
        return self.root

    @property
    def decisions_file(self) -> Path:
        return self.root / "matches.json"

    def for_load(self) -> LadybugStore:
        return LadybugStore(self.root)

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
            rows.append(ladybug_readable(list(row.values()) if isinstance(row, dict) else list(row)))
        truncated = len(rows) > max_rows
        return result.get_column_names(), rows[:max_rows], truncated

    def bundles(self, *, lazy: bool = False) -> list[LoadedBundle]:
        name = self._current_name()
        if name is None:
            return []
        folder = self.root / "generations" / name
        manifest = json.loads((folder / "manifest.json").read_text())
        out = []
        for entry in manifest["bundles"]:
            sub = folder / "bundles" / entry["folder"]
            tables = {
                p.stem: pq.read_table(p) for p in sorted(sub.glob("*.parquet"))
            }  # generations stored their records as Parquet
            tables.update({p.stem: read_arrow_file(p) for p in sorted(sub.glob("*.arrow"))})
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
            early, self._early = self._early, None
            if early is not None:  # started for a change that is rebuilt instead: its folder is not kept
                early.wait()
            name, folder = self._new_generation()
            write_bundles(folder, bundles)
            reached(WRITING)
            tables_built(self, name, tables)  # the link index files, made from the tables (queries/link_cache.py)
            build_graph(folder / "graph.lbug", tables, progress)
            self._make_current(name)

    def apply_delta(self, bundles: list[LoadedBundle], delta: GraphDelta, progress: Progress | None = None) -> None:
        """An incremental load (graph/stores/ladybug_delta.py): the current database copied into a new generation,
        `delta` written into the copy, the bundles kept linked (not copied) from the current generation."""
        with self.load_lock():
            previous = self._current_name()
            if previous is None:
                raise EmptyGraph(f"no graph in {self.root} to add to")
            old = self.root / "generations" / previous
            early, self._early = self._early, None
            if early is not None and early.previous != previous:
                early.wait()  # a copy of another generation: left for the garbage collection
                early = None
            name, folder = (early.name, early.folder) if early is not None else self._new_generation()
            write_bundles(folder, bundles, linked_from=old, unchanged=set(delta.kept))
            reached(WRITING)
            if early is None:
                copy_database(old / "graph.lbug", folder / "graph.lbug")
            else:
                early.wait()
            apply_delta(folder / "graph.lbug", delta, progress)
            self._make_current(name, GenerationChange(previous, delta))

    def prepare_delta(self) -> None:
        """Start copying the current database into a new generation for the apply_delta that follows, under the
        same load lock (graph/stores/ladybug_precopy.py)."""
        previous = self._current_name()
        if previous is None or self._early is not None:
            return
        name, folder = self._new_generation()
        self._early = EarlyCopy(previous, name, folder, self.root / "generations" / previous / "graph.lbug")

    def _new_generation(self) -> tuple[str, Path]:
        name = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
        folder = self.root / "generations" / name
        folder.mkdir(parents=True)
        return name, folder

    def _make_current(self, name: str, change: GenerationChange | None = None) -> None:
        """Make the written generation `name` current (an atomic rename), keeping the one before; its link
        index files are written first."""
        _built_hooks(self.root, name, change)
        fsync_tree(self.root / "generations" / name)
        pointer = self.root / "CURRENT.tmp"
        pointer.write_text(name + "\n")
        with open(pointer) as fh:
            os.fsync(fh.fileno())
        previous = self._current_name()
        reached(WRITTEN)
        os.replace(pointer, self.root / "CURRENT")
        fsync_dir(self.root)
        self._collect_garbage(keep={name, previous})

    def _collect_garbage(self, keep: set[str | None]) -> None:
        """Remove generations that are neither current nor the one before (left by failed or killed loads): out of
        `generations/` at once, removed in the background (graph/stores/trash.py)."""
        discard([f for f in (self.root / "generations").iterdir() if f.name not in keep], self.root / "trash")


def _built_hooks(root: Path, name: str, change: GenerationChange | None) -> None:
    """What the layers above do for a new generation (its link index files), reading it before it is current."""
    reader = PinnedLadybugStore(root, name)
    try:
        generation_built(reader, name, change)
    finally:
        reader.close()


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
