"""The Neo4j store (5.26 LTS) through the official driver: batched UNWIND writes, read-mode queries.

A load replaces the graph with the records it was given:
  1. uniqueness constraints per label (CREATE CONSTRAINT ... IF NOT EXISTS);
  2. a load record (:SupplygraphLoad {id, status: 'running'});
  3. nodes MERGEd on (label, id) in batches of `batch_size` rows, each batch its own transaction,
     properties replaced, tagged `_load`; relationships CREATEd, tagged `_load`;
  4. the sweep: everything not tagged with this load is deleted, in batches;
  5. the canonical records are saved as (:SupplygraphBundle) nodes, the load record set 'complete'.
If a step fails before the sweep, what this load added (relationships tagged with it and nodes
that did not exist before) is deleted again and the record set 'failed': the previous graph is
back, except property values of nodes that both graphs have, which hold the newer values.
Transactions per batch keep the server's memory bounded on million-row loads.
"""

from __future__ import annotations

import io
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

import neo4j
import pyarrow as pa
import pyarrow.parquet as pq
from neo4j.exceptions import Neo4jError, ServiceUnavailable

from graph.errors import QueryFailed, QueryRefused, QueryTimeout, StoreUnavailable
from graph.records import GraphTables, RelPart
from graph.schema import SCHEMA
from graph.store import LoadedBundle, Progress, Row, ident

BUNDLE_LABEL = "SupplygraphBundle"
LOAD_LABEL = "SupplygraphLoad"
DEFAULT_BATCH = 10_000
LATEST_LOAD = "MATCH (l:SupplygraphLoad {status: 'complete'}) RETURN l.id AS id ORDER BY l.finished DESC LIMIT 1"


def _native(value: Any) -> Any:
    if isinstance(value, neo4j.graph.Node | neo4j.graph.Relationship):
        return {k: _native(v) for k, v in value.items()}
    if isinstance(value, neo4j.time.Date):
        return value.to_native()
    if isinstance(value, neo4j.time.DateTime):
        return value.to_native()
    if isinstance(value, list):
        return [_native(v) for v in value]
    if isinstance(value, dict):
        return {k: _native(v) for k, v in value.items()}
    return value


def _batches(table: pa.Table, size: int) -> Iterator[list[dict[str, Any]]]:
    for batch in table.to_batches(max_chunksize=size):
        yield batch.to_pylist()


class Neo4jStore:
    dialect = "neo4j"

    def __init__(
        self, uri: str, user: str, password: str, database: str = "neo4j", *, batch_size: int = DEFAULT_BATCH
    ) -> None:
        self.uri = uri
        self.database = database
        self.batch_size = batch_size
        self.driver = neo4j.GraphDatabase.driver(uri, auth=(user, password))
        self._index: tuple[str, Any] | None = None
        self._index_lock = threading.Lock()

    @property
    def generation(self) -> str | None:
        """The id of the latest complete `supplygraph load`.

        Answers and the exposure index are cached per load: a write to the database by other means
        than `supplygraph load` is not seen by them until the next load.
        """
        rows = self.run(LATEST_LOAD)
        return rows[0]["id"] if rows else None

    def exposure_steps(self) -> Any:
        """Exposure steps from an in-memory index of the latest load (Cypher steps before any load)."""
        from queries.steps import CypherSteps, IndexedSteps, build_link_index

        with self._index_lock:
            name = self.generation
            if name is None:
                return CypherSteps(self)
            if self._index is None or self._index[0] != name:
                self._index = (name, build_link_index(self))
            return IndexedSteps(self, self._index[1])

    def run_arrow(self, cypher: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        keys, records = self._execute(cypher, params, neo4j.READ_ACCESS)
        columns = {k: [_native(r[k]) for r in records] for k in keys}
        return pa.table({k: pa.array(v) if v else pa.array([], pa.string()) for k, v in columns.items()})

    def close(self) -> None:
        self.driver.close()

    # ------------------------------------------------------------ reading

    def _execute(
        self, cypher: str, params: Mapping[str, Any] | None, mode: str
    ) -> tuple[list[str], list[Any]]:
        try:
            with self.driver.session(database=self.database, default_access_mode=mode) as session:
                result = session.run(neo4j.Query(cypher), dict(params or {}))
                keys = list(result.keys())
                records = list(result)
        except ServiceUnavailable as exc:
            raise StoreUnavailable(f"Neo4j at {self.uri} does not answer: {exc}") from exc
        except Neo4jError as exc:
            raise QueryFailed(exc.message or str(exc)) from exc
        return keys, records

    def run(self, cypher: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        keys, records = self._execute(cypher, params, neo4j.READ_ACCESS)
        return [{k: _native(r[k]) for k in keys} for r in records]

    def write(self, cypher: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        keys, records = self._execute(cypher, params, neo4j.WRITE_ACCESS)
        return [{k: _native(r[k]) for k in keys} for r in records]

    def run_readonly(
        self, cypher: str, params: Mapping[str, Any] | None, *, timeout_s: float, max_rows: int
    ) -> tuple[list[str], list[list[Any]], bool]:
        try:
            with self.driver.session(database=self.database, default_access_mode=neo4j.READ_ACCESS) as session:
                result = session.run(neo4j.Query(cypher, timeout=timeout_s), dict(params or {}))
                keys = list(result.keys())
                rows: list[list[Any]] = []
                for record in result:
                    if len(rows) > max_rows:
                        break
                    rows.append([_native(record[k]) for k in keys])
                result.consume()
        except ServiceUnavailable as exc:
            raise StoreUnavailable(f"Neo4j at {self.uri} does not answer: {exc}") from exc
        except Neo4jError as exc:
            code = exc.code or ""
            if "TransactionTimedOut" in code or "Terminated" in code:
                raise QueryTimeout(f"query stopped after {timeout_s:g} s") from exc
            if "ForbiddenDueToTransactionType" in code or "AccessMode" in code or "WriteOnReadOnly" in code:
                raise QueryRefused(f"writes are refused: the query runs read-only ({exc.message})") from exc
            raise QueryFailed(exc.message or str(exc)) from exc
        return keys, rows[:max_rows], len(rows) > max_rows

    def bundles(self) -> list[LoadedBundle]:
        rows = self.run(
            f"MATCH (b:{ident(BUNDLE_LABEL)}) RETURN b.name AS name, b.position AS position, b.table AS table, b.data AS data"
            " ORDER BY position, table"
        )
        out: dict[str, LoadedBundle] = {}
        for row in rows:
            bundle = out.setdefault(row["name"], LoadedBundle(row["name"], {}))
            bundle.tables[row["table"]] = pq.read_table(io.BytesIO(bytes(row["data"])))
        return list(out.values())

    def wipe(self) -> None:
        """Delete everything (tests): in batches, so any size works."""
        with self.driver.session(database=self.database) as session:
            session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()

    # ------------------------------------------------------------ writing

    def ensure_constraints(self) -> None:
        for label in (*SCHEMA.nodes, LOAD_LABEL):
            self.write(
                "CREATE CONSTRAINT {} IF NOT EXISTS FOR (n:{}) REQUIRE n.id IS UNIQUE".format(
                    ident(f"{label.lower()}_id"), ident(label)
                )
            )

    def replace(self, bundles: list[LoadedBundle], tables: GraphTables, progress: Progress | None = None) -> None:
        self.ensure_constraints()
        load = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        self.write(
            f"CREATE (l:{ident(LOAD_LABEL)} {{id: $id, status: 'running', started: datetime()}})", {"id": load}
        )
        existing = {
            label: {r["id"] for r in self.run(f"MATCH (n:{ident(label)}) RETURN n.id AS id")}
            for label in SCHEMA.nodes
        }
        total = tables.node_count + tables.rel_count
        done = 0
        try:
            for label, table in tables.nodes.items():
                cypher = f"UNWIND $rows AS row MERGE (n:{ident(label)} {{id: row.id}}) SET n = row, n._load = $load"
                for rows in _batches(table, self.batch_size):
                    self.write(cypher, {"rows": rows, "load": load})
                    done += len(rows)
                    if progress:
                        progress(label, done, total)
            for part in tables.rels:
                done = self._write_rels(part, load, done, total, progress)
        except BaseException:
            self._undo(load, tables, existing)
            raise
        self._sweep(load)
        self._save_bundles(bundles)
        self.write(
            f"MATCH (l:{ident(LOAD_LABEL)} {{id: $id}}) SET l.status = 'complete', l.finished = datetime()",
            {"id": load},
        )

    def _write_rels(self, part: RelPart, load: str, done: int, total: int, progress: Progress | None) -> int:
        cypher = (
            f"UNWIND $rows AS row MATCH (a:{ident(part.source)} {{id: row.from}}) MATCH (b:{ident(part.target)} {{id: row.to}})"
            f" CREATE (a)-[r:{ident(part.type)}]->(b) SET r = row.props, r._load = $load"
        )
        names = part.table.column_names[2:]
        for batch in part.table.to_batches(max_chunksize=self.batch_size):
            columns = batch.to_pydict()
            rows = [
                {"from": f, "to": t, "props": {n: columns[n][i] for n in names if columns[n][i] is not None}}
                for i, (f, t) in enumerate(zip(columns["from"], columns["to"], strict=True))
            ]
            self.write(cypher, {"rows": rows, "load": load})
            done += len(rows)
            if progress:
                progress(part.type, done, total)
        return done

    def _in_batches(self, cypher: str, params: Mapping[str, Any]) -> None:
        with self.driver.session(database=self.database) as session:
            session.run(cypher, dict(params)).consume()

    def _sweep(self, load: str) -> None:
        """Delete every node and relationship of the schema that this load did not write."""
        for rel_type in SCHEMA.rel_types:
            self._in_batches(
                f"MATCH ()-[r:{ident(rel_type)}]->() WHERE r._load IS NULL OR r._load <> $load"
                " CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS",
                {"load": load},
            )
        for label in SCHEMA.nodes:
            self._in_batches(
                f"MATCH (n:{ident(label)}) WHERE n._load IS NULL OR n._load <> $load"
                " CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
                {"load": load},
            )

    def _undo(self, load: str, tables: GraphTables, existing: dict[str, set[str]]) -> None:
        for rel_type in SCHEMA.rel_types:
            self._in_batches(
                f"MATCH ()-[r:{ident(rel_type)}]->() WHERE r._load = $load CALL (r) {{ DELETE r }} IN TRANSACTIONS OF 10000 ROWS",
                {"load": load},
            )
        for label in SCHEMA.nodes:
            self._in_batches(
                f"MATCH (n:{ident(label)}) WHERE n._load = $load AND NOT n.id IN $keep"
                " CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
                {"load": load, "keep": sorted(existing[label])},
            )
        self.write(f"MATCH (l:{ident(LOAD_LABEL)} {{id: $id}}) SET l.status = 'failed'", {"id": load})

    def _save_bundles(self, bundles: list[LoadedBundle]) -> None:
        self.write(f"MATCH (b:{ident(BUNDLE_LABEL)}) DETACH DELETE b")
        for position, bundle in enumerate(bundles):
            for table_name, table in bundle.tables.items():
                buffer = io.BytesIO()
                pq.write_table(table, buffer)
                self.write(
                    f"CREATE (:{ident(BUNDLE_LABEL)} {{name: $name, position: $position, table: $table, data: $data, saved: $saved}})",
                    {
                        "name": bundle.name,
                        "position": position,
                        "table": table_name,
                        "data": buffer.getvalue(),
                        "saved": date.today(),
                    },
                )
