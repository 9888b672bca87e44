"""The bundles a Neo4j graph was built from, kept beside it: one record per bundle table (its Parquet bytes and
its row count), written by a full load and by an incremental one (in its transaction), read back in load order.

A load reads them lazily: the names and row counts at once, a table's rows when first used. An incremental load
looks only at the sources and findings of the bundles it touches, so adding a small bundle to a large graph does
not fetch the large bundle's supply links (a few seconds at a million factories)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, MutableMapping
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from supplygraph.graph.errors import LoadLocked
from supplygraph.graph.stores.protocol import LoadedBundle, ident

BUNDLE_LABEL = "SupplygraphBundle"
CREATE_RECORD = (
    f"CREATE (:{ident(BUNDLE_LABEL)} {{name: $name, position: $position, table: $table, data: $data, rows: $rows,"
    " saved: $saved})"
)
LIST_RECORDS = (
    f"MATCH (b:{ident(BUNDLE_LABEL)}) RETURN b.name AS name, b.position AS position, b.table AS table, b.rows AS rows"
    " ORDER BY position, table"
)
ALL_RECORDS = (
    f"MATCH (b:{ident(BUNDLE_LABEL)}) RETURN b.name AS name, b.position AS position, b.table AS table, b.data AS data"
    " ORDER BY position, table"
)
ONE_RECORD = (
    f"MATCH (b:{ident(BUNDLE_LABEL)} {{name: $name, position: $position, table: $table}}) RETURN b.data AS data"
)

Run = Callable[[str, dict[str, Any]], list[dict[str, Any]]]


def record(name: str, position: int, table_name: str, table: pa.Table) -> dict[str, Any]:
    """The parameters of CREATE_RECORD for one table of a bundle."""
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return {"name": name, "position": position, "table": table_name, "data": buffer.getvalue(),
            "rows": table.num_rows, "saved": date.today()}  # fmt: skip


def read_bundles(run: Run, *, lazy: bool) -> list[LoadedBundle]:
    """Every saved bundle in load order; with `lazy` its tables are fetched when first used."""
    out: dict[str, LoadedBundle] = {}
    if not lazy:
        for row in run(ALL_RECORDS, {}):
            bundle = out.setdefault(row["name"], LoadedBundle(row["name"], {}))
            bundle.tables[row["table"]] = _table(row["data"])
        return list(out.values())
    listed: dict[str, tuple[int, dict[str, int | None]]] = {}
    for row in run(LIST_RECORDS, {}):
        listed.setdefault(row["name"], (row["position"], {}))[1][row["table"]] = row["rows"]
    return [LoadedBundle(name, SavedTables(run, name, position, rows)) for name, (position, rows) in listed.items()]


def _table(data: Any) -> pa.Table:
    return pq.read_table(io.BytesIO(bytes(data)))


class SavedTables(MutableMapping[str, pa.Table]):
    """A saved bundle's tables by name, each fetched from its record when first used and kept."""

    def __init__(self, run: Run, name: str, position: int, rows: dict[str, int | None]) -> None:
        self.run, self.name, self.position = run, name, position
        self.rows = dict(rows)  # table -> rows (None: a record saved before the count was kept)
        self.fetched: dict[str, pa.Table] = {}

    def __getitem__(self, table: str) -> pa.Table:
        if table not in self.rows:
            raise KeyError(table)
        if table not in self.fetched:
            found = self.run(ONE_RECORD, {"name": self.name, "position": self.position, "table": table})
            if not found:
                raise LoadLocked(f"the saved records of bundle {self.name!r} changed while a load read them")
            self.fetched[table] = _table(found[0]["data"])
        return self.fetched[table]

    def __setitem__(self, table: str, rows: pa.Table) -> None:
        self.fetched[table] = rows
        self.rows[table] = rows.num_rows

    def __delitem__(self, table: str) -> None:
        del self.rows[table]
        self.fetched.pop(table, None)

    def __contains__(self, table: object) -> bool:
        return table in self.rows  # without fetching it

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def num_rows(self, table: str) -> int:
        """The table's rows, without fetching it when its record keeps the count."""
        count = self.rows[table]
        return self[table].num_rows if count is None else count
