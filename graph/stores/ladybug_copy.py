"""A child process of a large embedded load: COPY staged Arrow files into a LadybugDB database, checkpoint, exit.

    python -m graph.stores.ladybug_copy < job.json
    job = {"database": "…/graph.lbug", "steps": [{"ddl": ["CREATE …"], "copy": "COPY `X` FROM rows", "file": "…"}]}

LadybugDB keeps much of what one COPY allocated after it ends (the heap of a process that loaded a 1 GB file grew
to 1.2 GB), so a large load (graph/stores/ladybug_store.py) runs its COPYs in slices, each slice in a fresh process that
gives all of it back when it exits. Only pyarrow and ladybug are imported here, so a child starts in half a second.
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


def run(job: dict) -> None:
    db = ladybug.Database(job["database"])
    conn = ladybug.Connection(db)
    try:
        for step in job["steps"]:
            for statement in step["ddl"]:
                conn.execute(statement)
            if step["file"]:
                rows = pa.ipc.open_file(pa.memory_map(step["file"])).read_all()  # COPY … FROM rows reads it by name
                conn.execute(step["copy"])
                del rows
        conn.execute("CHECKPOINT")
    finally:
        conn.close()
        db.close()


def main() -> None:
    _die_with_parent()
    try:
        run(json.load(sys.stdin))
    except RuntimeError as exc:
        sys.stderr.write(str(exc))
        sys.exit(FAILED)


if __name__ == "__main__":
    main()
