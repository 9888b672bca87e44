"""Writing a graph into Neo4j: nodes MERGEd and relationships CREATEd in batched UNWIND transactions,
written on a second thread while the next batch is prepared; the sweep of what a load did not write,
and the undo of a failed load (graph/stores/neo4j_store.py runs the steps)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import neo4j
import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.graph.relationships import RelPart
from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.stores.protocol import Progress, ident
from supplygraph.graph.tables import GraphTables


@dataclass
class _Batch:
    cypher: str
    params: dict[str, Any]
    step: str
    on_record: Callable[[Any], None] | None = None


class Counter:
    """Rows written so far, reported to the progress callback."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self.progress = total, 0, progress

    def add(self, step: str, rows: int) -> None:
        self.done += rows
        if self.progress:
            self.progress(step, self.done, self.total)


def _run_batch(tx: neo4j.ManagedTransaction, batch: _Batch) -> Any:
    return tx.run(batch.cypher, batch.params).single()


def _finish(future: Future[Any], batch: _Batch, counter: Counter) -> None:
    record = future.result()
    if batch.on_record is not None:
        batch.on_record(record)
    counter.add(batch.step, len(batch.params["rows"]))


def _collect(keys: list[Any], ids: list[Any]) -> Callable[[Any], None]:
    def add(record: Any) -> None:
        keys.extend(record["keys"])
        ids.extend(record["ids"])

    return add


def _rel_rows(part: RelPart, nodes: dict[str, pa.Table]) -> tuple[str, pa.Table]:
    """The CREATE statement of one relationship type between two labels, and its rows, ends found by
    internal node id.

    Rows travel as lists, sorted by start node (neighbouring rows then touch the same records);
    a row whose end is not among the loaded nodes is skipped, as a MATCH on its key would. Dates
    travel as ISO strings, parsed by the server: the driver turns each date object into a Bolt
    structure in Python, on the critical path of the writing thread (~5 s of client CPU for 1M links).
    """
    names = part.table.column_names[2:]
    dates = {n for n in names if pa.types.is_date(part.table.schema.field(n).type)}
    props = ", ".join(
        f"{ident(n)}: date(row[{i + 2}])" if n in dates else f"{ident(n)}: row[{i + 2}]" for i, n in enumerate(names)
    )
    cypher = (
        "UNWIND $rows AS row MATCH (a) WHERE id(a) = row[0] MATCH (b) WHERE id(b) = row[1]"
        f" CREATE (a)-[:{ident(part.type)} {{{props}{', ' if props else ''}_load: $load}}]->(b)"
    )
    table = part.table
    ends = [_node_ids(table.column(0), nodes[part.source]), _node_ids(table.column(1), nodes[part.target])]
    table = table.drop_columns(["from", "to"]).add_column(0, "a", ends[0]).add_column(1, "b", ends[1])
    table = table.filter(pc.and_(pc.is_valid(ends[0]), pc.is_valid(ends[1]))).sort_by("a")
    for n in dates:
        i = table.column_names.index(n)
        table = table.set_column(i, n, table.column(i).cast(pa.string()))
    return cypher, table


def _node_ids(column: pa.ChunkedArray, nodes: pa.Table) -> pa.Array:
    """The internal node id of each key in `column` (null where no such node was loaded)."""
    positions = pc.index_in(column, value_set=nodes.column("key").combine_chunks())
    return nodes.column("node").combine_chunks().take(positions)


class GraphWriter:
    """Batched writes of one load into one database."""

    def __init__(self, driver: neo4j.Driver, database: str, batch_size: int) -> None:
        self.driver, self.database, self.batch_size = driver, database, batch_size

    def write_nodes(self, tables: GraphTables, load: str, counter: Counter) -> dict[str, pa.Table]:
        """MERGE the nodes; returns per label a table of (id, internal node id) for the relationships."""
        found: dict[str, tuple[list[Any], list[Any]]] = {}

        def batches() -> Iterator[_Batch]:
            for label, table in tables.nodes.items():
                keys, ids = found.setdefault(label, ([], []))
                cypher = (
                    f"UNWIND $rows AS row MERGE (n:{ident(label)} {{id: row.id}}) SET n = row, n._load = $load"
                    " RETURN collect(n.id) AS keys, collect(id(n)) AS ids"
                )
                for batch in table.to_batches(max_chunksize=self.batch_size):
                    yield _Batch(cypher, {"rows": batch.to_pylist(), "load": load}, label, _collect(keys, ids))

        self._pipeline(batches(), counter)
        return {
            label: pa.table({"key": pa.array(keys, pa.string()), "node": pa.array(ids, pa.int64())})
            for label, (keys, ids) in found.items()
        }

    def write_rels(self, parts: list[RelPart], nodes: dict[str, pa.Table], load: str, counter: Counter) -> None:
        """CREATE the relationships, one type between two labels after the other, in one pipeline.

        Each type's rows are made ready (ends as internal ids, sorted) on a helper thread while the
        batches of the types before it are written (Arrow releases the lock): the server does not wait
        for a million links to be sorted between two types.
        """

        def batches() -> Iterator[_Batch]:
            pool = ThreadPoolExecutor(1, thread_name_prefix="neo4j-prepare")
            try:
                ready = [pool.submit(_rel_rows, part, nodes) for part in parts]  # in order, one at a time
                for part, future in zip(parts, ready, strict=True):
                    cypher, table = future.result()
                    skipped = part.table.num_rows - table.num_rows
                    if skipped:
                        counter.add(part.type, skipped)
                    for batch in table.to_batches(max_chunksize=self.batch_size):
                        rows = list(zip(*(column.to_pylist() for column in batch.columns), strict=True))
                        yield _Batch(cypher, {"rows": rows, "load": load}, part.type)
            finally:  # a failed load does not wait for the types not yet prepared
                pool.shutdown(wait=True, cancel_futures=True)

        self._pipeline(batches(), counter)

    def _pipeline(self, batches: Iterator[_Batch], counter: Counter) -> None:
        """Write each batch in its own transaction on a second thread while this one prepares the next.

        One session writes: a second one costs the server more CPU than it saves time (docs/neo4j.md).
        At most one batch waits behind the one being written; on an error the waiting one is
        dropped, the one under way finishes, then the error is raised.
        """
        with (
            self.driver.session(
                database=self.database,
                # id() is deprecated in Neo4j 5 but is the cheapest way to find a node again
                notifications_disabled_classifications=[neo4j.NotificationDisabledClassification.DEPRECATION],
            ) as session,
            ThreadPoolExecutor(1, thread_name_prefix="neo4j-load") as pool,
        ):
            pending: deque[tuple[Future[Any], _Batch]] = deque()
            try:
                for batch in batches:
                    pending.append((pool.submit(session.execute_write, _run_batch, batch), batch))
                    while len(pending) > 1:
                        _finish(*pending.popleft(), counter)
                while pending:
                    _finish(*pending.popleft(), counter)
            except BaseException:
                for future, _ in pending:
                    future.cancel()
                raise

    def _in_batches(self, cypher: str, params: Mapping[str, Any]) -> None:
        with self.driver.session(database=self.database) as session:
            session.run(cypher, dict(params)).consume()

    def sweep(self, load: str, rel_types: set[str], labels: set[str]) -> None:
        """Delete every node and relationship of the schema that this load did not write.

        Only `rel_types` and `labels` had any before the load (the others need no scan)."""
        for rel_type in [t for t in SCHEMA.rel_types if t in rel_types]:
            self._in_batches(
                f"MATCH ()-[r:{ident(rel_type)}]->() WHERE r._load IS NULL OR r._load <> $load"
                " CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS",
                {"load": load},
            )
        for label in [n for n in SCHEMA.nodes if n in labels]:
            self._in_batches(
                f"MATCH (n:{ident(label)}) WHERE n._load IS NULL OR n._load <> $load"
                " CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
                {"load": load},
            )

    def undo(self, load: str, tables: GraphTables, existing: dict[str, set[str]]) -> None:
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
