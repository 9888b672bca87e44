"""Exposure walks in worker processes, so that one tenant's walks cannot starve the server's other requests.

An exposure walk is Python: in a thread of the server it holds the interpreter lock for most of its
time, in stretches of tens of milliseconds (C calls that do not give it up), so cached answers,
/healthz and entity pages sent by the event loop beside it wait that long for each step. In a worker
process it takes none of that from the server. Workers start on demand (spawned: no state is shared),
run at a lower CPU priority than the server (`os.nice`), and each keeps the store of the last generation
it was asked about open, with its exposure index (the embedded store builds it on first use; Neo4j's is
read back from the files the server saved, graph/stores/neo4j_store.py). A worker that dies breaks the pool:
api/fairness.py makes a new one and the request is answered 503.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from typing import Any

from supplygraph.graph.stores import open_from_config
from supplygraph.graph.stores.protocol import Store
from supplygraph.queries.registry import get_query

WORKER_NICENESS = 10  # well below the server, which answers the cheap requests
PARENT_POLL_S = 1.0
_open: dict[str, Store] = {}  # in a worker: the store of the last generation asked about


def walker_config(store: Store, buffer_pool_bytes: int) -> dict[str, Any]:
    """How a worker opens the same graph as `store` (api/sandbox/'s, plus Neo4j's index files)."""
    return {**store.worker_config(), "buffer_pool_bytes": buffer_pool_bytes}


def start_worker() -> None:
    try:
        os.nice(WORKER_NICENESS)
    except OSError:
        pass  # not allowed here: the worker runs at the server's priority
    server = os.getppid()
    threading.Thread(target=_end_with, args=(server,), daemon=True).start()


def _end_with(server: int) -> None:
    """A worker ends when the server has gone, however it went (a killed server cannot tell it to)."""
    while os.getppid() == server:
        time.sleep(PARENT_POLL_S)
    os._exit(0)


def pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=start_worker)


def _store(config: Mapping[str, Any], generation: str | None) -> Store:
    key = json.dumps({**config, "generation": generation}, sort_keys=True)
    store = _open.get(key)
    if store is not None:
        return store
    for old in _open.values():
        old.close()
    _open.clear()
    store = open_from_config(config, generation, buffer_pool_size=int(config["buffer_pool_bytes"]))
    _open[key] = store
    return store


def exposure_answer(
    config: Mapping[str, Any], generation: str | None, affiliate_id: str, day: date, depth: int, provenance: bool
) -> bytes:
    """In a worker: the exposure answer as gzip-compressed JSON (api/routers/affiliates.py caches it)."""
    store = _store(config, generation)
    params = {"affiliate_id": affiliate_id, "as_of": day, "depth": depth, "provenance": provenance}
    answer = get_query("exposure").run(store, params)
    encoded = json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()
    return gzip.compress(encoded, compresslevel=1)
