"""The Neo4j store (5.26 LTS) through the official driver: batched UNWIND writes, read-mode queries.

A load replaces the graph with the records it was given:
  1. uniqueness constraints per label (CREATE CONSTRAINT ... IF NOT EXISTS);
  2. a load record (:SupplygraphLoad {id, status: 'running'});
  3. nodes MERGEd on (label, id) in batches of `batch_size` rows, each batch its own transaction,
     properties replaced, tagged `_load`, their internal ids returned; relationships CREATEd
     between nodes found by those ids (no index lookup), rows as lists sorted by start node,
     tagged `_load`. One session writes while the next batch is prepared on this side;
  4. the sweep: everything not tagged with this load is deleted, in batches;
  5. the canonical records are saved as (:SupplygraphBundle) nodes, the previous load's kept bulk reads
     read again and kept for this one (graph/stores/neo4j_snapshots.py), the load record set 'complete'.
If a step fails before the sweep, what this load added (relationships tagged with it and nodes
that did not exist before) is deleted again and the record set 'failed': the previous graph is
back, except property values of nodes that both graphs have, which hold the newer values.
Transactions per batch keep the server's memory bounded on million-row loads.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import neo4j
import pyarrow as pa
from neo4j.exceptions import Neo4jError, ServiceUnavailable
from supplygraph.graph.delta import GraphDelta
from supplygraph.graph.errors import QueryFailed, QueryRefused, QueryTimeout, StoreUnavailable
from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.settings import Settings
from supplygraph.graph.stores.load_lock import WRITING, WRITTEN, LoadLock, reached
from supplygraph.graph.stores.neo4j_bundles import BUNDLE_LABEL, CREATE_RECORD, read_bundles, record
from supplygraph.graph.stores.neo4j_delta import apply_delta
from supplygraph.graph.stores.neo4j_delta_reads import keep_delta_reads
from supplygraph.graph.stores.neo4j_documents import Neo4jDocument
from supplygraph.graph.stores.neo4j_guard import check_plan
from supplygraph.graph.stores.neo4j_lock import LOCK_LABEL, take_neo4j_load_lock
from supplygraph.graph.stores.neo4j_pages import page_setting, pages
from supplygraph.graph.stores.neo4j_snapshots import READ_LABEL, LoadReads, Snapshots
from supplygraph.graph.stores.neo4j_writer import Counter, GraphWriter
from supplygraph.graph.stores.protocol import ArrowReader, LoadedBundle, Progress, Row, ident
from supplygraph.graph.stores.readable import neo4j_readable
from supplygraph.graph.stores.saved_reads import SavedReads
from supplygraph.graph.tables import GraphTables

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


def _arrow_column(values: list[Any], days: bool = False) -> pa.Array:
    """An Arrow array of driver values (driver dates and times made native first); empty: strings.

    `days`: the values are dates sent as days since 1970-01-01."""
    if days:
        return pa.array(values, pa.int32()).cast(pa.date32())
    if not values:
        return pa.array([], pa.string())
    first = next((v for v in values if v is not None), None)
    if first is not None and not isinstance(first, str | int | float | bool):
        values = [_native(v) for v in values]
    return pa.array(values)


Execute = Callable[[str, Mapping[str, Any] | None, str], tuple[list[str], list[Any]]]


def _in_transaction(tx: neo4j.ManagedTransaction) -> Execute:
    """Queries run on one open transaction (the access mode is the transaction's)."""

    def execute(cypher: str, params: Mapping[str, Any] | None, mode: str) -> tuple[list[str], list[Any]]:
        result = tx.run(cypher, dict(params or {}))
        return list(result.keys()), list(result)

    return execute


class Neo4jStore:
    dialect = "neo4j"

    def __init__(
        self,
        uri: str,
        user: str,
        password: str,
        database: str = "neo4j",
        *,
        batch_size: int = DEFAULT_BATCH,
        index_cache: Path | None = None,
        read_page: int | None = None,
    ) -> None:
        self.uri = uri
        self.database = database
        self.batch_size = batch_size
        self.read_page = read_page or page_setting()  # anchor nodes a page of a bulk read (graph/stores/neo4j_pages.py)
        self.index_cache = index_cache  # folder of saved index reads; default <SUPPLYGRAPH_DB>/neo4j-index
        self.driver = neo4j.GraphDatabase.driver(uri, auth=(user, password))
        self._auth = (user, password)
        self._load_lock = LoadLock(lambda: take_neo4j_load_lock(self.driver, self.database, self.uri, self.ensure_constraints))

    @property
    def generation(self) -> str | None:
        """The id of the latest complete `supplygraph load`.

        Answers and the exposure index are cached per load: a write to the database by other means
        than `supplygraph load` is not seen by them until the next load.
        """
        rows = self.run(LATEST_LOAD)
        return rows[0]["id"] if rows else None

    embedded = False

    def link_reads(self) -> ArrowReader:
        """The bulk reads of the link index, saved to disk per load id: another process, or this one after
        a restart, builds the index without reading the links over Bolt again."""
        name = self.generation
        if name is None:
            return self
        return SavedReads(LoadReads(Snapshots(self), name), self._index_cache() / name)

    def link_index_folder(self, generation: str) -> Path | None:
        """The link index files of a load, beside its saved reads (written by the first reader of the load)."""
        return self._index_cache() / generation / "link-index"

    def _index_cache(self) -> Path:
        if self.index_cache is None:
            self.index_cache = Settings().db / "neo4j-index"
        return self.index_cache

    @property
    def data_folder(self) -> Path | None:
        return None

    @property
    def decisions_file(self) -> Neo4jDocument:
        """Review decisions of a server store live in the database, where every server and the CLI see them."""
        return Neo4jDocument(self, "review-decisions")

    def for_load(self) -> Neo4jStore:
        return self  # the driver is thread-safe: a load opens its own sessions

    def pinned(self, generation: str | None) -> Neo4jStore:
        return self  # answers are cached per load id; queries always read the server's current graph

    def worker_config(self) -> dict[str, Any]:
        user, password = self._auth
        return {"dialect": "neo4j", "uri": self.uri, "user": user, "password": password,
                "database": self.database, "index_cache": str(self._index_cache())}  # fmt: skip

    def run_arrow(
        self, cypher: str, params: Mapping[str, Any] | None = None, tx: neo4j.ManagedTransaction | None = None
    ) -> pa.Table:
        """A read query's rows as columns, for bulk reads (a million links).

        Read in pages of `read_page` nodes where the query allows (graph/stores/neo4j_pages.py), so that no
        transaction holds more than a page. Each page's server collects its rows into one list in one record,
        dates as day numbers: the driver then decodes a few big lists of plain values instead of hydrating a
        record object per row and a date object per date (docs/neo4j.md has the figures). With `tx`, every
        page is read on that open transaction (it sees the transaction's own writes).
        """
        execute = self._execute if tx is None else _in_transaction(tx)

        def rows(text: str, values: Mapping[str, Any] | None) -> list[Row]:
            keys, records = execute(text, values, neo4j.READ_ACCESS)
            return [{k: _native(r[k]) for k in keys} for r in records]

        found = pages(cypher, params, self.read_page, rows)
        tables = [self._arrow_page(text, values, execute) for text, values in found]
        filled = [t for t in tables if t.num_rows] or tables[:1]
        return filled[0] if len(filled) == 1 else pa.concat_tables(filled, promote_options="permissive")

    def _arrow_page(self, cypher: str, params: Mapping[str, Any] | None, execute: Execute) -> pa.Table:
        keys, _ = execute(f"EXPLAIN {cypher}", params, neo4j.READ_ACCESS)
        names = ["`" + k.replace("`", "``") + "`" for k in keys]
        days = ", ".join(
            f"CASE WHEN {n} IS :: DATE NOT NULL THEN duration.inDays(date('1970-01-01'), {n}).days ELSE {n} END" for n in names
        )
        is_date = ", ".join(f"max(CASE WHEN {n} IS :: DATE NOT NULL THEN 1 ELSE 0 END)" for n in names)
        _, records = execute(
            f"CALL () {{ {cypher} }} RETURN collect([{days}]) AS rows, [{is_date}] AS dates", params, neo4j.READ_ACCESS
        )
        rows, dates = (records[0]["rows"], records[0]["dates"]) if records else ([], [0] * len(keys))
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in keys]
        return pa.table({k: _arrow_column(list(c), bool(d)) for k, c, d in zip(keys, columns, dates, strict=True)})

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
                plan = session.run(neo4j.Query("EXPLAIN " + cypher), dict(params or {})).consume()
                if plan.query_type != "r":
                    raise QueryRefused(f"writes are refused: Neo4j plans this query as {plan.query_type!r}, not read-only ('r')")
                check_plan(plan.plan)  # the servers' shared keys, sessions and decisions stay unread
                result = session.run(neo4j.Query(cypher, timeout=timeout_s), dict(params or {}))
                keys = list(result.keys())
                rows: list[list[Any]] = []
                for record in result:
                    if len(rows) > max_rows:
                        break
                    rows.append([neo4j_readable(record[k], _native) for k in keys])
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

    def bundles(self, *, lazy: bool = False) -> list[LoadedBundle]:
        return read_bundles(self.run, lazy=lazy)

    def wipe(self) -> None:
        """Delete everything (tests): in batches, so any size works."""
        with self.driver.session(database=self.database) as session:
            session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()

    # ------------------------------------------------------------ writing

    def load_lock(self) -> AbstractContextManager[None]:
        """Held from reading the loaded bundles to the end of the sweep (graph/stores/load_lock.py)."""
        return self._load_lock.held()

    def ensure_constraints(self) -> None:
        for label in (*SCHEMA.nodes, LOAD_LABEL, LOCK_LABEL):
            self.write(
                "CREATE CONSTRAINT {} IF NOT EXISTS FOR (n:{}) REQUIRE n.id IS UNIQUE".format(
                    ident(f"{label.lower()}_id"), ident(label)
                )
            )
        self.write(f"CREATE INDEX supplygraphread_load_key IF NOT EXISTS FOR (r:{ident(READ_LABEL)}) ON (r.load, r.key)")

    def replace(self, bundles: list[LoadedBundle], tables: GraphTables, progress: Progress | None = None) -> None:
        with self.load_lock():
            self._replace(bundles, tables, progress)

    def _replace(self, bundles: list[LoadedBundle], tables: GraphTables, progress: Progress | None) -> None:
        self.ensure_constraints()
        previous = self.generation
        snapshots = Snapshots(self)
        load = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        self.write(
            f"CREATE (l:{ident(LOAD_LABEL)} {{id: $id, status: 'running', started: datetime()}})", {"id": load}
        )
        existing = {
            label: set(self.run(f"MATCH (n:{ident(label)}) RETURN collect(n.id) AS ids")[0]["ids"])
            for label in SCHEMA.nodes
        }
        had_rels = {  # from the counts store: no scan
            t for t in SCHEMA.rel_types if self.run(f"MATCH ()-[r:{ident(t)}]->() RETURN count(r) AS n")[0]["n"]
        }
        counter = Counter(tables.node_count + tables.rel_count, progress)
        writer = GraphWriter(self.driver, self.database, self.batch_size)
        try:
            nodes = writer.write_nodes(tables, load, counter)
            reached(WRITING)
            writer.write_rels(tables.rels, nodes, load, counter)
        except BaseException:
            writer.undo(load, tables, existing)
            self.write(f"MATCH (l:{ident(LOAD_LABEL)} {{id: $id}}) SET l.status = 'failed'", {"id": load})
            raise
        reached(WRITTEN)
        writer.sweep(load, had_rels, {label for label, ids in existing.items() if ids})
        self.save_bundles(bundles)
        snapshots.take_for_load(load, previous)  # readers of the new load never read the live graph
        self.write(
            f"MATCH (l:{ident(LOAD_LABEL)} {{id: $id}}) SET l.status = 'complete', l.finished = datetime()",
            {"id": load},
        )
        snapshots.drop_old([load, *([previous] if previous else [])])

    def apply_delta(self, bundles: list[LoadedBundle], delta: GraphDelta, progress: Progress | None = None) -> None:
        """An incremental load in one transaction (graph/stores/neo4j_delta.py), which also keeps the bulk reads
        of the new load (graph/stores/neo4j_delta_reads.py): readers never read the live graph after it."""
        with self.load_lock():
            self.ensure_constraints()
            added = [b for b in bundles if b.name not in delta.kept]
            previous = self.generation

            def keep_reads(tx: neo4j.ManagedTransaction, load: str) -> None:  # in the delta's transaction
                keep_delta_reads(self, tx, delta, load, previous)

            load = apply_delta(self.driver, self.database, delta, added, LOAD_LABEL, progress, keep_reads)
            Snapshots(self).drop_old([load, *([previous] if previous else [])])

    def prepare_delta(self) -> None:
        """Nothing to start early: the delta is written in one transaction."""

    def save_bundles(self, bundles: list[LoadedBundle]) -> None:
        self.write(f"MATCH (b:{ident(BUNDLE_LABEL)}) DETACH DELETE b")
        for position, bundle in enumerate(bundles):
            for table_name, table in bundle.tables.items():
                self.write(CREATE_RECORD, record(bundle.name, position, table_name, table))
