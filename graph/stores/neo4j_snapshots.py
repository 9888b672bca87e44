"""The bulk reads of each complete Neo4j load, kept in the database, so that readers never see half a load.

A Neo4j load writes into the one live database (Community Edition has no second database to switch an
alias to), so a bulk read taken while a load runs would mix two graphs. The exposure index and the origins
are therefore read only from a snapshot of a complete load: Arrow files (zstd) kept as
`(:SupplygraphRead {load, key, part, cypher, params, data})` nodes, at most CHUNK_BYTES each. A read an
incremental load left unchanged is kept as one node without data whose `data_of` names the load that holds
its data (graph/stores/neo4j_delta_reads.py); that data stays as long as a kept load refers to it.

- A load, after its sweep and before it turns `complete` (it still holds the load lock, so the graph is
  exactly the new one), runs again every bulk read of the previous complete load's snapshot and keeps
  their answers under its own id; it then drops the snapshots of older loads (the two latest stay).
- A reader asks for the snapshot of the latest complete load. A read it does not hold (the first load
  ever, or a query no load has seen) is taken from the live graph only when the graph is exactly that
  load's: it is the load started last (none running, none killed or failed since, which may have left
  rows or newer property values behind) both before and after the read; it is then kept for all.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
from supplygraph.graph.errors import StoreUnavailable

READ_LABEL = "SupplygraphRead"
CHUNK_BYTES = 8 * 2**20
KEEP_LOADS = 2  # loads whose snapshots are kept (the latest, and the one readers may still be on)
QUIET_WAIT_S = 10.0  # how long a reader waits for a running load to end before it gives up
LOAD_STATE = (
    "MATCH (l:SupplygraphLoad) WITH l ORDER BY l.started DESC"
    " WITH count(l) AS loads, head(collect(l.id)) AS newest, [x IN collect(l) WHERE x.status = 'complete'] AS done"
    " UNWIND (CASE WHEN done = [] THEN [null] ELSE done END) AS d"
    " WITH loads, newest, d ORDER BY d.finished DESC LIMIT 1 RETURN loads, newest, d.id AS latest"
)


def read_key(cypher: str, params: Mapping[str, Any] | None) -> str:
    return hashlib.sha256(repr((cypher, sorted((params or {}).items()))).encode()).hexdigest()[:24]


def encode(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def decode(data: bytes) -> pa.Table:
    return pa.ipc.open_file(pa.BufferReader(data)).read_all()


class Snapshots:
    """The snapshots of one Neo4j store (`store` has run, write and the live run_arrow)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def state(self) -> tuple[int, str | None, str | None]:
        """(load records, the load started last, the latest complete load)."""
        rows = self.store.run(LOAD_STATE)
        return (int(rows[0]["loads"]), rows[0]["newest"], rows[0]["latest"]) if rows else (0, None, None)

    def get(self, load: str, key: str) -> pa.Table | None:
        rows = self.store.run(
            f"MATCH (k:{READ_LABEL} {{load: $load, key: $key}}) WITH coalesce(k.data_of, k.load) AS held LIMIT 1"
            f" MATCH (r:{READ_LABEL} {{load: held, key: $key}}) WHERE r.data IS NOT NULL"
            " RETURN r.part AS part, r.parts AS parts, r.data AS data ORDER BY part",
            {"load": load, "key": key},
        )
        if not rows or len(rows) != rows[0]["parts"]:
            return None  # none, or a snapshot still being written
        return decode(b"".join(bytes(r["data"]) for r in rows))

    def put(self, load: str, cypher: str, params: Mapping[str, Any] | None, table: pa.Table) -> None:
        key, data = read_key(cypher, params), encode(table)
        self.store.write(f"MATCH (r:{READ_LABEL} {{load: $load, key: $key}}) DELETE r", {"load": load, "key": key})
        parts = [data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)] or [b""]
        for part, chunk in enumerate(parts):
            self.store.write(
                f"CREATE (:{READ_LABEL} {{load: $load, key: $key, part: $part, parts: $parts, cypher: $cypher,"
                " params: $params, data: $data})",
                {
                    "load": load,
                    "key": key,
                    "part": part,
                    "parts": len(parts),
                    "cypher": cypher,
                    "params": json.dumps(dict(params or {}), sort_keys=True, default=str),
                    "data": chunk,
                },
            )

    def queries(self, load: str) -> list[tuple[str, dict[str, Any]]]:
        """The bulk reads kept for `load`: what a new load reads again."""
        rows = self.store.run(
            f"MATCH (r:{READ_LABEL} {{load: $load, part: 0}}) RETURN r.cypher AS cypher, r.params AS params ORDER BY r.key",
            {"load": load},
        )
        return [(r["cypher"], json.loads(r["params"])) for r in rows]

    def take_for_load(self, load: str, previous: str | None) -> int:
        """In a load, before it turns complete: the previous load's bulk reads, read again and kept for `load`."""
        reads = self.queries(previous) if previous else []
        for cypher, params in reads:
            self.put(load, cypher, params, self.store.run_arrow(cypher, params))
        return len(reads)

    def drop_old(self, keep: list[str]) -> None:
        """Drop the reads of loads not in `keep`, but for the data a kept load's read refers to (`data_of`)."""
        self.store.write(
            f"MATCH (r:{READ_LABEL}) WHERE NOT r.load IN $keep AND NOT EXISTS {{ MATCH (k:{READ_LABEL} {{key: r.key}})"
            " WHERE k.load IN $keep AND k.data_of = r.load } DELETE r",
            {"keep": keep},
        )

    def drop(self, load: str) -> None:
        self.store.write(f"MATCH (r:{READ_LABEL} {{load: $load}}) DELETE r", {"load": load})


class LoadReads:
    """`run_arrow` answered from the snapshot of one complete load (see the module's description)."""

    def __init__(self, snapshots: Snapshots, load: str) -> None:
        self.snapshots, self.load = snapshots, load

    def run_arrow(self, cypher: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        key = read_key(cypher, params)
        kept = self.snapshots.get(self.load, key)
        if kept is not None:
            return kept
        deadline = time.monotonic() + QUIET_WAIT_S
        while True:
            before = self.snapshots.state()
            if before[1] == before[2] == self.load:  # the graph is exactly this load's
                table = self.snapshots.store.run_arrow(cypher, params)
                if self.snapshots.state() == before:
                    self.snapshots.put(self.load, cypher, params, table)
                    return table
            elif before[2] != self.load:
                raise StoreUnavailable(f"load {self.load} is no longer the latest complete load: ask again")
            if time.monotonic() > deadline:
                raise StoreUnavailable(
                    "a load is writing to Neo4j (or one was killed: load again) and this graph's bulk reads are"
                    " not kept yet: ask again when it ends"
                )
            time.sleep(0.5)
