"""Rows read from any input format -> the canonical tables of a bundle, validated exactly like bundle CSV files.

A loader (OCDS, Open Supply Hub, FollowTheMoney, spreadsheets) calls `add(table, row, line, where)` with the
bundle's column names and string cells; rows are kept in columnar chunks so that millions of them cost Arrow
buffers, not Python objects. `build()` merges rows that describe the same thing (the same id, later rows win
field by field, as OCDS merges releases), then runs the bundle's own column checks. Problems name the input
file and the place in it: a line number, a JSON pointer, or both.
"""

from __future__ import annotations

import shutil
import time
import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa

from graph.errors import BundleError, Problem
from graph.schema import SCHEMA, NodeType
from graph.store import Progress
from graph.temp_folders import make_temp_folder
from loaders.bundle import Bundle, _FileChecker
from loaders.csvfile import CsvTable

CHUNK = 20_000
COMPACT = 8  # chunks of a table merged into one when this many are kept in memory
META = ("_line", "_where", "_order")
PARTITION_BYTES = 64 << 20  # input bytes per hash partition: what one merge and check holds at once


class Ticker:
    """Calls `progress(step, done, total)` at most every 0.2 s (step ending in " (bytes)": done and total count bytes)."""

    def __init__(self, progress: Progress | None, step: str, total: int) -> None:
        self.progress, self.step, self.total, self.last = progress, step, total, 0.0

    def __call__(self, done: int, final: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if final or now - self.last >= 0.2:
            self.last = now
            self.progress(self.step, done, self.total)


def partitions_for(size: int) -> int:
    """Hash partitions for an input of `size` bytes: one (all in memory) for small inputs."""
    return max(1, min(512, -(-size // PARTITION_BYTES)))


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
    """Collects canonical rows. With `partitions` > 1 (large inputs) rows are hash-partitioned by key and spilled
    to Arrow files in a temporary folder; every partition is merged and checked on its own and the results are
    memory-mapped, so the memory a load needs does not grow with the size of the input."""

    source: str  # the input file, as problems name it
    format: str
    by_line: bool = True  # `line` is a line of the file (CSV, JSON Lines); else a record index, and `where` locates
    partitions: int = 1
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    _rows: dict[str, list[dict[str, str | None]]] = field(default_factory=lambda: defaultdict(list))
    _chunks: dict[str, list[list[pa.Table | Path]]] = field(default_factory=dict)
    _merged: dict[str, list[pa.Table]] = field(default_factory=dict)
    _seq: int = 0
    _spill: Path | None = None
    _files: int = 0

    def __post_init__(self) -> None:
        if self.partitions > 1:
            self._spill = make_temp_folder("spill")
            weakref.finalize(self, shutil.rmtree, self._spill, True)

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
        if table in self._merged:
            raise RuntimeError(f"rows of {table} added after it was merged")
        names = list(dict.fromkeys(k for r in rows for k in r))
        chunk = _merge(
            pa.table({n: pa.array([r.get(n) for r in rows], pa.string()) for n in names}), key_columns(table)
        )
        del rows
        parts = self._chunks.setdefault(table, [[] for _ in range(self.partitions)])
        if self.partitions == 1:
            parts[0].append(chunk)
            if len(parts[0]) >= COMPACT:  # bounded memory: rows of one thing (a buyer in every release) become one
                parts[0][:] = [_merge(pa.concat_tables(parts[0], promote_options="default"), key_columns(table))]
            return
        frame = pl.from_arrow(chunk)
        assert isinstance(frame, pl.DataFrame)
        bucket = pl.col(key_columns(table)[0]).hash(seed=17) % self.partitions
        for (p,), piece in frame.with_columns(bucket.alias("_p")).partition_by("_p", as_dict=True).items():
            parts[int(p)].append(self._write(_strings(piece.drop("_p").to_arrow())))  # type: ignore[call-overload]

    def _write(self, table: pa.Table) -> Path:
        assert self._spill is not None
        self._files += 1
        path = self._spill / f"{self._files:08d}.arrow"
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        return path

    def keep(self, table: pa.Table) -> pa.Table:
        """The table itself, or when spilling, the same table memory-mapped from a file (no anonymous memory)."""
        if self._spill is None:
            return table
        path = self._write(table)
        mapped = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
        path.unlink()  # the mapping stays valid; the space is freed when the table is
        return mapped

    def merged(self, table: str) -> list[pa.Table]:
        """The rows of `table` merged by key, one table per partition (no key is in two)."""
        if table not in self._merged:
            self._flush(table)
            out = []
            for pieces in self._chunks.pop(table, []):
                if pieces:
                    tables = [
                        pa.ipc.open_file(pa.memory_map(str(p))).read_all() if isinstance(p, Path) else p for p in pieces
                    ]
                    out.append(
                        self.keep(_merge(pa.concat_tables(tables, promote_options="default"), key_columns(table)))
                    )
                    del tables
                    for p in pieces:
                        if isinstance(p, Path):
                            p.unlink()
            self._merged[table] = out
        return self._merged[table]

    def replace_merged(self, table: str, parts: list[pa.Table]) -> None:
        self._merged[table] = parts

    def tables(self) -> list[str]:
        return sorted(set(self._rows) | set(self._chunks) | set(self._merged))

    def build(self, name: str) -> Bundle:
        """Merge, validate and return the bundle; raise BundleError with every problem (nothing half-built)."""
        tables: dict[str, pa.Table] = {}
        try:
            for table in self.tables():
                checked = []
                for part in self.merged(table):
                    if (c := self._check(table, part)) is not None:
                        checked.append(self.keep(c))
                self._merged[table] = []
                if checked:
                    tables[table] = pa.concat_tables(checked, promote_options="default")
        finally:
            self._merged.clear()
            self._chunks.clear()
            if self._spill is not None:
                shutil.rmtree(self._spill, ignore_errors=True)
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
