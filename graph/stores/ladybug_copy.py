"""A child process of a large embedded load: COPY staged Arrow files into a LadybugDB database, checkpoint, exit.

    python -m graph.stores.ladybug_copy < job.json
    job = {"database": "…/graph.lbug", "pool_bytes": 0, "steps": [{"ddl": ["CREATE …"], "copy": "COPY `X` FROM rows",
           "file": "…"}]}

LadybugDB keeps much of what one COPY allocated after it ends (the heap of a process that loaded a 1 GB file grew
to 1.2 GB), so a large load (graph/stores/ladybug_store.py) runs its COPYs in slices, each slice in a fresh process that
gives all of it back when it exits. With `pool_bytes` the database's buffer pool is bounded (LadybugDB spills what a
relationship COPY sorts to a file beside the database when the pool is full); a statement that needs more than the
pool is rolled back and run again with twice the pool, so a bound too small costs time, never the load. Only
pyarrow and ladybug are imported here, so a child starts in half a second.
A child dies with its parent (a killed load leaves nothing writing). Exit status 3 with the database's message on
stderr when a statement fails.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys

import ladybug
import pyarrow as pa

FAILED = 3
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the parent's death is noticed at the next statement at worst
        pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        sys.exit(FAILED)


POOL_FULL = "buffer pool is full"


class Database:
    """A connection to the database being built, reopened with a larger buffer pool when a COPY needs it."""

    def __init__(self, path: str, pool_bytes: int) -> None:
        self.path = path
        self.open(pool_bytes)

    def open(self, pool_bytes: int) -> None:
        self.pool_bytes = pool_bytes
        self.db = ladybug.Database(self.path, buffer_pool_size=pool_bytes)
        self.conn = ladybug.Connection(self.db)

    def execute(self, statement: str, rows: pa.Table | None = None) -> None:
        """A statement (COPY … FROM rows reads `rows` by name); one that fails changes nothing, and is run again
        with twice the pool when the pool was too small for it."""
        while True:
            try:
                self.conn.execute(statement)
                return
            except RuntimeError as exc:
                if not self.pool_bytes or POOL_FULL not in str(exc):
                    raise
                self.close()
                self.open(self.pool_bytes * 2)

    def close(self) -> None:
        self.conn.close()
        self.db.close()


def run(job: dict) -> None:
    database = Database(job["database"], int(job.get("pool_bytes") or 0))
    try:
        for step in job["steps"]:
            for statement in step["ddl"]:
                database.execute(statement)
            if step["file"]:
                database.execute(step["copy"], pa.ipc.open_file(pa.memory_map(step["file"])).read_all())
        database.execute("CHECKPOINT")
    finally:
        database.close()


def main() -> None:
    _die_with_parent()
    try:
        run(json.load(sys.stdin))
    except RuntimeError as exc:
        sys.stderr.write(str(exc))
        sys.exit(FAILED)


if __name__ == "__main__":
    main()
