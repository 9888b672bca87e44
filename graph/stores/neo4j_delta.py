"""An incremental load on Neo4j: the GraphDelta, the records of the new bundles and a complete load record
written in ONE transaction, so a reader sees the graph before or after it, never between, and a load that
fails or is killed (the transaction is rolled back) leaves the graph as it was. Nodes and relationships are
found by key through the uniqueness constraints (graph/stores/neo4j_store.py makes them); rows travel in
UNWIND batches of BATCH rows inside the one transaction."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import neo4j
import pyarrow as pa
from supplygraph.graph.delta import GraphDelta, own_references
from supplygraph.graph.stores.load_lock import WRITING, WRITTEN, reached
from supplygraph.graph.stores.neo4j_bundles import BUNDLE_LABEL, CREATE_RECORD, record
from supplygraph.graph.stores.protocol import LoadedBundle, Progress, ident

BATCH = 2_000


def apply_delta(
    driver: neo4j.Driver,
    database: str,
    delta: GraphDelta,
    added: list[LoadedBundle],
    load_label: str,
    progress: Progress | None = None,
    keep_reads: Callable[[neo4j.ManagedTransaction, str], None] | None = None,
) -> str:
    """Write `delta`, replace the saved records of the bundles `delta.removed` by those of `added`, and record a
    complete load; returns its id. `load_label`: the label of load records. `keep_reads(tx,
    load)` runs in the same transaction after the writes (it keeps the new load's bulk reads)."""
    load = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    reached(WRITING)
    with driver.session(database=database) as session:
        session.execute_write(_write, delta, added, load_label, load, progress, keep_reads)
    return load


def _write(
    tx: neo4j.ManagedTransaction,
    delta: GraphDelta,
    added: list[LoadedBundle],
    load_label: str,
    load: str,
    progress: Progress | None,
    keep_reads: Callable[[neo4j.ManagedTransaction, str], None] | None,
) -> None:
    for label, ids in delta.touched.items():
        for rel, reverse in dict.fromkeys((ref.rel, ref.reverse) for ref in own_references(label)):
            arrow = f"<-[r:{ident(rel)}]-()" if reverse else f"-[r:{ident(rel)}]->()"
            _batched(tx, f"UNWIND $rows AS x MATCH (n:{ident(label)} {{id: x}}){arrow} DELETE r", ids)
    for part in delta.unlinked:
        _batched(
            tx,
            f"UNWIND $rows AS row MATCH (a:{ident(part.source)} {{id: row.from}})-[r:{ident(part.type)}]->()"
            " WHERE r.origin = row.origin AND r.origin_line = row.origin_line DELETE r",
            part.table.select(["from", "origin", "origin_line"]).to_pylist(),
        )
    for label, ids in delta.gone.items():
        _batched(tx, f"UNWIND $rows AS x MATCH (n:{ident(label)} {{id: x}}) DETACH DELETE n", ids)
    total, done = delta.rows, 0
    for label, table in delta.nodes.items():
        _batched(
            tx,
            f"UNWIND $rows AS row MERGE (n:{ident(label)} {{id: row.id}}) SET n = row, n._load = $load",
            _without_nulls(table),
            load=load,
        )
        done += table.num_rows
        if progress:
            progress(label, done, total)
    for part in delta.rels:
        rows = [{"a": r.pop("from"), "b": r.pop("to"), "props": r} for r in _without_nulls(part.table)]
        _batched(
            tx,
            f"UNWIND $rows AS row MATCH (a:{ident(part.source)} {{id: row.a}}) MATCH (b:{ident(part.target)} {{id: row.b}})"
            f" CREATE (a)-[r:{ident(part.type)}]->(b) SET r = row.props, r._load = $load",
            rows,
            load=load,
        )
        done += part.table.num_rows
        if progress:
            progress(part.type, done, total)
    _save_bundles(tx, delta.removed, added)
    if keep_reads:
        keep_reads(tx, load)
    tx.run(
        f"CREATE (:{ident(load_label)} {{id: $id, status: 'complete', started: datetime(), finished: datetime(),"
        " incremental: true})",
        {"id": load},
    ).consume()
    reached(WRITTEN)  # written, not yet committed: readers still see the graph before


def _batched(tx: neo4j.ManagedTransaction, cypher: str, rows: list[Any], **params: Any) -> None:
    for start in range(0, len(rows), BATCH):
        tx.run(cypher, {"rows": rows[start : start + BATCH], **params}).consume()


def _without_nulls(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as property maps; Neo4j stores no nulls (SET n = row drops a property that is null)."""
    return [{k: v for k, v in row.items() if v is not None} for row in table.to_pylist()]


def _save_bundles(tx: neo4j.ManagedTransaction, removed: list[str], added: list[LoadedBundle]) -> None:
    """The saved records (graph/stores/neo4j_bundles.py reads them back in position order): those of the replaced
    bundles deleted, the new bundles' saved after every other."""
    tx.run(f"MATCH (b:{ident(BUNDLE_LABEL)}) WHERE b.name IN $names DELETE b", {"names": removed}).consume()
    last = tx.run(f"MATCH (b:{ident(BUNDLE_LABEL)}) RETURN max(b.position) AS p").single()
    position = (last["p"] if last and last["p"] is not None else -1) + 1
    for offset, bundle in enumerate(added):
        for table_name, table in bundle.tables.items():
            tx.run(CREATE_RECORD, record(bundle.name, position + offset, table_name, table)).consume()
