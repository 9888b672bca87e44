"""The kept bulk reads of an incremental Neo4j load, written in the load's own transaction.

A full load reads again every bulk read the previous complete load kept (graph/stores/neo4j_snapshots.py).
An incremental load does the same inside its one transaction, after its writes and beside its complete load
record, so the record and its kept reads commit together and a reader of the new load never reads the live
graph. Most of a small delta's reads keep their answer: a read whose Cypher names only labels and
relationship types the delta does not write is kept as a node that refers to the data of the load holding it
(`data_of`: no data is copied, through Python or on the server); the others are run again on the
transaction, which sees its own writes, and kept, unless they are large (READ_AGAIN_MAX_BYTES): those are left
to the first reader of the new load.

What a read depends on is taken from its text: the `:Label` / `:TYPE` names it writes, with the end labels of
each type it names (an unlabeled variable at the end of a typed relationship is one of them). A read that
names no schema label, or has a relationship without a type, or a node on its own (no relationship) whose
variable has no label anywhere, is counted as changed: it is run again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import neo4j
import pyarrow as pa
from supplygraph.graph.delta import GraphDelta
from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.stores.neo4j_snapshots import READ_LABEL, Snapshots
from supplygraph.graph.stores.protocol import ident

NAMES = re.compile(r"[:|]\s*`?(\w+)`?")  # `:Label`, `:TYPE`, `|TYPE`: tokens that are not schema names are ignored
UNTYPED_REL = re.compile(r"-\s*\[\s*\w*\s*(\*[\d.\s]*)?\]|<--|--\s*>?\s*\(")
BARE_NODE = re.compile(r"(?<![\w.`>-])\(\s*(\w+)\s*(\{[^}]*\})?\s*\)(?!\s*[-<])")  # `(v)` on its own; not `count(v)`
PREVIOUS_READS = (  # each read kept for a load, with the bytes of its data (held by it or by the load it refers to)
    f"MATCH (r:{ident(READ_LABEL)} {{load: $load, part: 0}})"
    f" OPTIONAL MATCH (d:{ident(READ_LABEL)} {{load: coalesce(r.data_of, r.load), key: r.key}})"
    " RETURN r.key AS key, r.cypher AS cypher, r.params AS params, sum(size(d.data)) AS bytes ORDER BY key"
)
# A changed read whose kept data (zstd Arrow) is larger than this is not read again in the load's transaction: the
# supply links of a large graph would make a small delta take minutes and hold their answer in the transaction's
# memory. The first reader of the new load reads it from the live graph instead, which LoadReads allows only while
# the graph is exactly that load's, and keeps it for the others.
READ_AGAIN_MAX_BYTES = 2 * 2**20
KEEP_SAME = (  # one node a read, referring to the load that holds its data: no data is copied
    f"MATCH (r:{ident(READ_LABEL)} {{load: $previous, part: 0}}) WHERE r.key IN $keys"
    f" CREATE (:{ident(READ_LABEL)} {{load: $load, key: r.key, part: 0, parts: r.parts, cypher: r.cypher,"
    " params: r.params, data_of: coalesce(r.data_of, r.load)})"
)


def delta_writes(delta: GraphDelta) -> tuple[set[str], set[str]]:
    """(labels whose nodes the delta creates, changes or deletes; relationship types it creates or deletes)."""
    return set(delta.tables) & set(SCHEMA.nodes), set(delta.tables) & set(SCHEMA.rel_types)


def read_depends_on(cypher: str) -> tuple[set[str], set[str]] | None:
    """(labels, relationship types) whose data `cypher` may read, or None when it cannot be told from the text."""
    names = set(NAMES.findall(cypher))
    labels, types = names & set(SCHEMA.nodes), names & set(SCHEMA.rel_types)
    if not labels or UNTYPED_REL.search(cypher):
        return None
    for var, _ in BARE_NODE.findall(cypher):
        if not re.search(rf"\b{re.escape(var)}\s*:\s*`?\w", cypher):
            return None  # a node that may have any label
    for name in types:
        labels |= {label for pair in SCHEMA.rel_types[name].pairs for label in pair}
    return labels, types


def changed_by(cypher: str, writes: tuple[set[str], set[str]]) -> bool:
    """Whether the delta that makes `writes` may change the answer of `cypher`."""
    depends = read_depends_on(cypher)
    return depends is None or bool(depends[0] & writes[0]) or bool(depends[1] & writes[1])


class InTransaction:
    """A store's run, write and run_arrow on one open transaction: they see its own writes."""

    def __init__(self, store: Any, tx: neo4j.ManagedTransaction) -> None:
        self.store, self.tx = store, tx

    def run(self, cypher: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return [record.data() for record in self.tx.run(cypher, dict(params or {}))]

    write = run

    def run_arrow(self, cypher: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        return self.store.run_arrow(cypher, params, tx=self.tx)


def keep_delta_reads(
    store: Any, tx: neo4j.ManagedTransaction, delta: GraphDelta, load: str, previous: str | None
) -> tuple[int, int]:
    """In the delta's transaction: the reads kept for `previous`, kept by reference (unchanged by `delta`) or read
    again (changed and small), kept for `load`. Returns (kept by reference, read again)."""
    if previous is None:
        return 0, 0
    inside = InTransaction(store, tx)
    writes = delta_writes(delta)
    reads = inside.run(PREVIOUS_READS, {"load": previous})
    same = [r["key"] for r in reads if not changed_by(r["cypher"], writes)]
    tx.run(KEEP_SAME, {"previous": previous, "load": load, "keys": same}).consume()
    snapshots = Snapshots(inside)
    kept = set(same)
    again = [r for r in reads if r["key"] not in kept and r["bytes"] <= READ_AGAIN_MAX_BYTES]
    for read in again:
        params = json.loads(read["params"])
        snapshots.put(load, read["cypher"], params, inside.run_arrow(read["cypher"], params))
    return len(same), len(again)
