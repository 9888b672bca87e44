"""Rows read from any input format -> the canonical tables of a bundle, validated exactly like bundle CSV files.

A loader (OCDS, Open Supply Hub, FollowTheMoney, spreadsheets) calls `add(table, row, line, where)` with the
bundle's column names and string cells; rows are kept in columnar chunks so that millions of them cost Arrow
buffers, not Python objects. `build()` merges rows that describe the same thing (the same id, later rows win
field by field, as OCDS merges releases), then runs the bundle's own column checks. Problems name the input
file and the place in it: a line number, a JSON pointer, or both.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import polars as pl
import pyarrow as pa

from graph.errors import BundleError, Problem
from graph.schema import SCHEMA, NodeType
from loaders.bundle import Bundle, _FileChecker
from loaders.csvfile import CsvTable

CHUNK = 20_000
COMPACT = 8  # chunks of a table merged into one when this many are kept
META = ("_line", "_where", "_order")


def key_columns(table: str) -> tuple[str, ...]:
    """The columns that identify one row of a bundle table: the id, or both ends of a link."""
    spec = SCHEMA.node_for_file(f"{table}.csv") or SCHEMA.link_for_file(f"{table}.csv")
    if spec is None:
        raise KeyError(table)
    if isinstance(spec, NodeType):
        return (spec.key,)
    return (spec.source.column, spec.target.column)


@dataclass
class TableBuilder:
    source: str  # the input file, as problems name it
    format: str
    by_line: bool = True  # `line` is a line of the file (CSV, JSON Lines); else a record index, and `where` locates
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    _rows: dict[str, list[dict[str, str | None]]] = field(default_factory=lambda: defaultdict(list))
    _chunks: dict[str, list[pa.Table]] = field(default_factory=lambda: defaultdict(list))
    _seq: int = 0

    def place(self, where: str, line: int | None, column: str | None, message: str) -> Problem:
        """Problem at a line (with the JSON pointer inside it, if any) or at a JSON pointer of a whole document."""
        if self.by_line:
            return Problem(self.source, line, column, f"{message} (at {where})" if where else message)
        return Problem(self.source + where, None, column, message)

    def problem(self, where: str, line: int | None, message: str, column: str | None = None) -> None:
        self.problems.append(self.place(where, line, column, message))

    def warn(self, where: str, line: int | None, message: str) -> None:
        self.warnings.append(self.place(where, line, None, message))

    def add(self, table: str, row: dict[str, object], line: int, where: str = "", order: str = "") -> None:
        """One row of `table` (bundle column names); cells are stringified, trimmed, empty -> unknown."""
        clean: dict[str, str | None] = {}
        for key, value in row.items():
            if value is None:
                clean[key] = None
            elif isinstance(value, (list, tuple)):
                text = "|".join(str(v).strip() for v in value if v is not None and str(v).strip())
                clean[key] = text or None
            else:
                text = str(value).strip()
                clean[key] = text or None
        self._seq += 1
        clean["source_format"] = self.format
        clean["source_record"] = f"{self.source}{where}" if not self.by_line else f"{self.source}:{line}{where}"
        clean["_line"] = str(line)
        clean["_where"] = where
        clean["_order"] = f"{order}\x00{self._seq:012d}"
        rows = self._rows[table]
        rows.append(clean)
        if len(rows) >= CHUNK:
            self._flush(table)

    def _flush(self, table: str) -> None:
        rows = self._rows.pop(table, [])
        if not rows:
            return
        names = list(dict.fromkeys(k for r in rows for k in r))
        chunk = pa.table({n: pa.array([r.get(n) for r in rows], pa.string()) for n in names})
        chunks = self._chunks[table]
        chunks.append(_merge(chunk, key_columns(table)))
        if len(chunks) >= COMPACT:  # bounded memory: rows of one thing (a buyer in every release) become one
            self._chunks[table] = [_merge(pa.concat_tables(chunks, promote_options="default"), key_columns(table))]

    def build(self, name: str) -> Bundle:
        """Merge, validate and return the bundle; raise BundleError with every problem (nothing half-built)."""
        for table in list(self._rows):
            self._flush(table)
        tables: dict[str, pa.Table] = {}
        for table, chunks in self._chunks.items():
            merged = _merge(pa.concat_tables(chunks, promote_options="default"), key_columns(table))
            checked = self._check(table, merged)
            if checked is not None:
                tables[table] = checked
        self._chunks.clear()
        if self.problems:
            raise BundleError(self.problems)
        return Bundle(name, tables, self.warnings)

    def _check(self, table: str, merged: pa.Table) -> pa.Table | None:
        merged = pa.table({n: merged.column(n).cast(pa.string()).combine_chunks() for n in merged.column_names})
        lines = merged.column("_line").to_pylist()
        wheres = merged.column("_where").to_pylist()
        data = merged.drop_columns(list(META))
        parsed = CsvTable(f"{table}.csv", data.column_names, data, list(range(data.num_rows)))
        spec = SCHEMA.node_for_file(f"{table}.csv") or SCHEMA.link_for_file(f"{table}.csv")
        found: list[Problem] = []
        checker = _FileChecker(parsed, found, [])
        out = checker.node(spec) if isinstance(spec, NodeType) else checker.link(spec)  # type: ignore[arg-type]
        for p in found:
            if p.line is None or (p.line == 1 and "header" in p.message):
                self.problems.append(Problem(self.source, None, p.column, f"{table}: {p.message}"))
                continue
            row = p.line
            self.problems.append(self.place(wheres[row] or "", int(lines[row]), p.column, p.message))
        if out is None:
            return None
        return out.set_column(out.column_names.index("_line"), "_line", pa.array([int(v) for v in lines], pa.int32()))


def _merge(table: pa.Table, keys: tuple[str, ...]) -> pa.Table:
    """Rows with the same key become one: per column the last non-empty value in input order wins."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    if any(k not in frame.columns for k in keys):
        return table
    frame = frame.sort("_order")
    if not frame.select(pl.struct(list(keys)).is_duplicated().any()).item():
        return _strings(frame.to_arrow())
    values = [c for c in frame.columns if c not in keys]
    merged = frame.group_by(list(keys), maintain_order=True).agg([pl.col(c).drop_nulls().last() for c in values])
    return _strings(merged.select(frame.columns).to_arrow())


def _strings(table: pa.Table) -> pa.Table:
    return pa.table({n: table.column(n).cast(pa.string()).combine_chunks() for n in table.column_names})
