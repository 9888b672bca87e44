"""The worker side of the sandbox: `python -m supplygraph.api.sandbox.worker` runs one job read from stdin.

It opens the store itself, limits its own memory, CPU time and file writes, runs the query and writes
one JSON answer to stdout; nothing else it or a library prints reaches the server.
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
import threading
import time
from collections.abc import Mapping
from datetime import date, datetime
from datetime import time as dtime
from decimal import Decimal
from typing import Any

from supplygraph.graph.errors import EmptyGraph, QueryRefused, QueryTimeout, StoreUnavailable
from supplygraph.graph.stores import open_from_config

PARENT_POLL_S = 0.5


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date | dtime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    iso = getattr(value, "iso_format", None)  # neo4j temporal types
    return iso() if callable(iso) else str(value)


def _address_space() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _limit_self(memory_bytes: int, cpu_s: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(used.ru_utime + used.ru_stime) + cpu_s
    resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 2))
    limit = _address_space() + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _work(job: Mapping[str, Any]) -> dict[str, Any]:
    config = job["store"]
    pool = int(config["buffer_pool_bytes"])
    store = open_from_config(config, config.get("generation"), buffer_pool_size=pool, max_db_size=1 << 36, max_num_threads=2)
    try:
        store.run("RETURN 1")  # opens the generation (or the connection) before the limits apply
        _limit_self(int(job["memory_bytes"]), int(job["cpu_s"]))
        columns, rows, truncated = store.run_readonly(
            job["query"], job["params"], timeout_s=float(job["timeout_s"]), max_rows=int(job["max_rows"])
        )
        return {"ok": True, "columns": columns, "count": len(rows), "truncated": truncated, "rows": jsonable(rows)}
    finally:
        store.close()


def _end_with(parent: int) -> None:
    """The worker ends when the process that started it has gone, however it went (killed, or its group)."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


def worker_main() -> None:
    answer_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing a library prints can mix with the answer
    import supplygraph.graph.stores.neo4j_store  # noqa: F401  (imported before the job arrives: a spare starts warm)

    os.write(answer_fd, b"ready\n")
    raw = sys.stdin.buffer.read()
    if not raw:
        os._exit(0)  # a spare that was never used
    parent = os.getppid()  # the worker has a session of its own: a signal to its parent's group misses it
    threading.Thread(target=_end_with, args=(parent,), daemon=True).start()
    job = json.loads(raw)
    kinds = {QueryRefused: "refused", QueryTimeout: "timeout", EmptyGraph: "empty", StoreUnavailable: "unavailable"}
    try:
        answer = _work(job)
    except MemoryError:
        answer = {"ok": False, "error": "failed", "detail": "the query reached its memory limit"}
    except Exception as exc:
        kind = next((v for k, v in kinds.items() if isinstance(exc, k)), "failed")
        detail = str(exc) or type(exc).__name__
        if "bad_alloc" in detail or "Unable to allocate memory" in detail:
            detail = "the query reached its memory limit: " + detail
        answer = {"ok": False, "error": kind, "detail": detail[:2000]}
    encoded = json.dumps(answer, allow_nan=False).encode()
    if len(encoded) > int(job.get("max_bytes", 16 * 2**20)):
        encoded = json.dumps({"ok": False, "error": "too_large", "detail": "the answer is too large"}).encode()
    view = memoryview(encoded)
    while view:
        view = view[os.write(answer_fd, view) :]
    os._exit(0)


if __name__ == "__main__":
    worker_main()
