"""The first load into an empty local Neo4j through `neo4j-admin database import full`, UNWIND otherwise.

`supplygraph load --neo4j-home DIR` opens this store. When the database has no node at all when the load
starts, its `replace` does, instead of UNWIND batches:
  1. writes the graph's tables as neo4j-admin CSV files (loaders/exporters.py), every node and
     relationship tagged `_load` as an UNWIND load tags them, into a folder under DIR;
  2. stops the server (Community Edition cannot stop one database: `STOP DATABASE` is Enterprise), with
     the control command (`NEO4J_CONTROL`, default DIR/bin/neo4j; `scripts/neo4j-server` for ours);
  3. runs `neo4j-admin database import full --overwrite-destination ... DATABASE` (`NEO4J_ADMIN`, default
     DIR/bin/neo4j-admin; `scripts/neo4j-admin` for ours), which refuses a database in use;
  4. starts the server again, waits for it, creates the uniqueness constraints, saves the canonical records
     and turns the load record `complete`, as an UNWIND load does.
If the import fails, the server is started again on the empty database and the error raised. A database
with any node (a graph, keys, a load record) is loaded with UNWIND batches as always. While the server is
down, nothing else can read or write: the lock of this load is a file in DIR, not a server transaction.
"""

from __future__ import annotations

import fcntl
import os
import shlex
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace as with_table
from pathlib import Path
from urllib.parse import urlparse

import pyarrow as pa
from supplygraph.graph.errors import LoadLocked, StoreUnavailable, SupplygraphError
from supplygraph.graph.stores.load_lock import WRITING, WRITTEN, LoadLock, reached
from supplygraph.graph.stores.neo4j_lock import take_neo4j_load_lock
from supplygraph.graph.stores.neo4j_store import LOAD_LABEL, Neo4jStore
from supplygraph.graph.stores.protocol import LoadedBundle, Progress, ident
from supplygraph.graph.tables import GraphTables
from supplygraph.loaders.exporters import ARRAY_DELIMITER, export_neo4j_import

START_WAIT_S = 600.0  # how long to wait for the server to answer again after the import
STOP_WAIT_S = 120.0  # how long to wait for it to stop; still answering then: a wrong home, nothing imported


class ImportFailed(SupplygraphError):
    exit_code = 1
    title = "Import failed"


def tagged(tables: GraphTables, load: str) -> GraphTables:
    """The tables with a `_load` column on every node and relationship, as an UNWIND load writes them."""

    def tag(table: pa.Table) -> pa.Table:
        return table.append_column("_load", pa.array([load] * table.num_rows, pa.string()))

    return with_table(
        tables,
        nodes={label: tag(t) for label, t in tables.nodes.items()},
        rels=[with_table(part, table=tag(part.table)) for part in tables.rels],
    )


def import_arguments(written: list[Path]) -> list[str]:
    """neo4j-admin's --nodes and --relationships arguments for the files export_neo4j_import wrote."""
    args = []
    for path in [p for p in written if p.suffix == ".csv"]:
        kind, name = path.stem.split("-", 2)[:2]
        args.append(f"--nodes={name}={path}" if kind == "nodes" else f"--relationships={name}={path}")
    return args


class Neo4jBulkStore(Neo4jStore):
    """A Neo4j store whose load into an empty database is a neo4j-admin import (see the module)."""

    def __init__(self, uri: str, user: str, password: str, database: str, *, home: Path,
                 admin: str | None = None, control: str | None = None) -> None:  # fmt: skip
        super().__init__(uri, user, password, database)
        self.home = Path(home)
        self.admin = shlex.split(admin) if admin else [str(self.home / "bin" / "neo4j-admin")]
        self.control = shlex.split(control) if control else [str(self.home / "bin" / "neo4j")]
        self.bulk = False
        self._lock = LoadLock(self._take_lock)
        self.seconds: dict[str, float] = {}  # how long each step of the last import took

    def is_empty(self) -> bool:
        return not self.run("MATCH (n) RETURN count(n) AS n")[0]["n"]  # from the counts store

    def load_lock(self) -> AbstractContextManager[None]:
        return self._lock.held()

    def _take_lock(self) -> Callable[[], None]:
        self.bulk = self.is_empty()
        if not self.bulk:
            return take_neo4j_load_lock(self.driver, self.database, self.uri, self.ensure_constraints)
        self.home.mkdir(parents=True, exist_ok=True)
        handle = open(self.home / "supplygraph-import.lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            raise LoadLocked(f"another import into {self.home} is running") from exc

        def release() -> None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

        return release

    def replace(self, bundles: list[LoadedBundle], tables: GraphTables, progress: Progress | None = None) -> None:
        with self.load_lock():
            if not self.bulk:
                super().replace(bundles, tables, progress)
                return
            self._import(bundles, tables, progress)

    def _step(self, name: str, started: float) -> float:
        now = time.perf_counter()
        self.seconds[name] = round(now - started, 1)
        return now

    def _import(self, bundles: list[LoadedBundle], tables: GraphTables, progress: Progress | None) -> None:
        load = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        folder = self.home / "supplygraph-import" / load
        started = time.perf_counter()
        try:
            if progress:
                progress("writing neo4j-admin files", 0, tables.node_count + tables.rel_count)
            written = export_neo4j_import(tagged(tables, load), folder)
            started = self._step("csv", started)
            reached(WRITING)
            self._control("stop")
            self._wait(answering=False)
            started = self._step("stop", started)
            try:
                self._run_import(written, folder)
                started = self._step("import", started)
            finally:
                self._control("start")
                self._wait(answering=True)
                started = self._step("start", started)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        reached(WRITTEN)
        self._check_imported(tables.node_count)
        self.ensure_constraints()
        started = self._step("constraints", started)
        self.write(
            f"CREATE (:{ident(LOAD_LABEL)} {{id: $id, status: 'running', started: datetime(), imported: true}})",
            {"id": load},
        )
        self.save_bundles(bundles)
        self.write(
            f"MATCH (l:{ident(LOAD_LABEL)} {{id: $id}}) SET l.status = 'complete', l.finished = datetime()",
            {"id": load},
        )
        self._step("finish", started)

    def _check_imported(self, nodes: int) -> None:
        """The restarted server holds what was imported: a home that is not the server's own makes neo4j-admin
        write a database the server never reads."""
        held = int(self.run("MATCH (n) RETURN count(n) AS n")[0]["n"])
        if held < nodes:
            raise ImportFailed(
                f"neo4j-admin imported {nodes:,} nodes into {self.home}, but the server at {self.uri} holds {held:,}:"
                " is --neo4j-home (NEO4J_HOME) that server's home? (docs/neo4j.md)"
            )

    def _run_import(self, written: list[Path], folder: Path) -> None:
        # the database first: --nodes and --relationships take every later word as one more file
        command = [*self.admin, "database", "import", "full", self.database, "--overwrite-destination",
                   f"--array-delimiter={ARRAY_DELIMITER}", "--skip-bad-relationships=false",
                   f"--report-file={folder / 'import.report'}", *import_arguments(written)]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr.strip() or done.stdout.strip())[-2000:]
            raise ImportFailed(f"neo4j-admin database import refused or failed (exit {done.returncode}): {tail}")

    def _control(self, action: str) -> None:
        done = subprocess.run([*self.control, action], capture_output=True, text=True, check=False, env=os.environ)
        if done.returncode != 0:
            raise StoreUnavailable(
                f"`{shlex.join([*self.control, action])}` failed: {(done.stderr or done.stdout)[-1000:]}"
            )

    def _wait(self, *, answering: bool) -> None:
        """Until Bolt answers (and the database runs a query), or no longer answers."""
        parsed = urlparse(self.uri)
        limit = START_WAIT_S if answering else STOP_WAIT_S
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 7687), timeout=1):
                    up = True
            except OSError:
                up = False
            if up and answering:
                try:
                    self.run("RETURN 1")
                    return
                except Exception:
                    pass
            elif not up and not answering:
                return
            time.sleep(0.5)
        raise StoreUnavailable(
            f"Neo4j at {self.uri} did not {'start' if answering else 'stop'} within {START_WAIT_S:g} s"
        )
