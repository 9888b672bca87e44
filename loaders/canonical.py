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
from typing import Any

import polars as pl
import pyarrow as pa
from supplygraph.graph.errors import BundleError, Problem
from supplygraph.graph.schema import SCHEMA, NodeType
from supplygraph.graph.stores.protocol import Progress
from supplygraph.graph.temp_folders import make_temp_folder
from supplygraph.loaders.bundle import Bundle
from supplygraph.loaders.csvfile import CsvTable
from supplygraph.loaders.file_checks import FileChecker
from supplygraph.loaders.quarantine import drop_references, raw_records, reject
from supplygraph.loaders.rows import merge_rows, strings

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
    skip_invalid: bool = False  # set invalid records aside (`rejects`) instead of refusing the input
    path: Path | None = None  # the input, to quote raw records in rejects
    encoding: str | None = None
    partition_by: dict[str, str] = field(default_factory=dict)  # table -> column hashed to partition (default: key)
    unions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # table -> list columns merged as unions
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    _record: tuple[int, str, Any] | None = None  # the record being read: line, pointer, raw value
    _pending: list[tuple[str, dict[str, object], int, str, str]] = field(default_factory=list)
    _mark: int = 0
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

    def begin(self, line: int, where: str, raw: Any) -> None:
        """Rows added until `end()` come from one record: with skip_invalid, a problem sets all of them aside."""
        self._record, self._pending, self._mark = (line, where, raw), [], len(self.problems)

    def end(self) -> None:
        assert self._record is not None
        _line, where, raw = self._record
        pending, self._record, self._pending = self._pending, None, []
        found = self.problems[self._mark :]
        if found and self.skip_invalid:
            del self.problems[self._mark :]
            extra = {"pointer": where} if self.by_line and where else {}
            self.rejects.extend(reject(p, raw, **extra) for p in found)
            return
        if not found:
            for args in pending:
                self.add(*args)

    def add(self, table: str, row: dict[str, object], line: int, where: str = "", order: str = "") -> None:
        """One row of `table` (bundle column names); cells are stringified, trimmed, empty -> unknown."""
        if self._record is not None:
            self._pending.append((table, row, line, where, order))
            return
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
        chunk = merge_rows(
            pa.table({n: pa.array([r.get(n) for r in rows], pa.string()) for n in names}),
            key_columns(table),
            self.unions.get(table, ()),
        )
        del rows
        parts = self._chunks.setdefault(table, [[] for _ in range(self.partitions)])
        if self.partitions == 1:
            parts[0].append(chunk)
            if len(parts[0]) >= COMPACT:  # bounded memory: rows of one thing (a buyer in every release) become one
                parts[0][:] = [
                    merge_rows(
                        pa.concat_tables(parts[0], promote_options="default"),
                        key_columns(table),
                        self.unions.get(table, ()),
                    )
                ]
            return
        frame = pl.from_arrow(chunk)
        assert isinstance(frame, pl.DataFrame)
        bucket = pl.col(self.partition_by.get(table) or key_columns(table)[0]).hash(seed=17) % self.partitions
        for (p,), piece in frame.with_columns(bucket.alias("_p")).partition_by("_p", as_dict=True).items():
            parts[int(p)].append(self._write(strings(piece.drop("_p").to_arrow())))  # type: ignore[call-overload]

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
                        self.keep(
                            merge_rows(
                                pa.concat_tables(tables, promote_options="default"),
                                key_columns(table),
                                self.unions.get(table, ()),
                            )
                        )
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
        skipped: dict[str, set[str]] = {}
        try:
            for table in self.tables():
                checked = []
                for part in self.merged(table):
                    if (c := self._check(table, part, skipped)) is not None:
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
        if skipped:
            self.rejects.extend(drop_references(tables, skipped, lambda _t, row: self.origin(row)))
        if self.path is not None:
            raw_records(self.rejects, self.path, self.by_line, self.encoding)
        return Bundle(name, tables, self.warnings, self.rejects)

    def origin(self, row: dict[str, Any]) -> dict[str, Any]:
        """Where a checked row came from: file and line, or file and JSON pointer."""
        pointer = str(row.get("source_record") or "").partition("#")[2]
        place: dict[str, Any] = {"file": self.source}
        if self.by_line:
            place["line"] = int(row["_line"])
        if pointer:
            place["pointer"] = "#" + pointer
        return place

    def _check(self, table: str, merged: pa.Table, skipped: dict[str, set[str]]) -> pa.Table | None:
        merged = pa.table({n: merged.column(n).cast(pa.string()).combine_chunks() for n in merged.column_names})
        lines = merged.column("_line").to_pylist()
        wheres = merged.column("_where").to_pylist()
        data = merged.drop_columns(list(META))
        parsed = CsvTable(f"{table}.csv", data.column_names, data, list(range(data.num_rows)))
        spec = SCHEMA.node_for_file(f"{table}.csv") or SCHEMA.link_for_file(f"{table}.csv")
        found: list[Problem] = []
        checker = FileChecker(parsed, found, [], self.skip_invalid)
        out = checker.node(spec) if isinstance(spec, NodeType) else checker.link(spec)  # type: ignore[arg-type]
        for row, bad in sorted(checker.bad.items()):
            cells = {k: v for k, v in data.slice(row, 1).to_pylist()[0].items() if v is not None}
            for p in bad:
                where = wheres[row] or ""
                place = self.place("" if self.by_line else where, int(lines[row]), p.column, p.message)
                extra = {"pointer": where} if self.by_line and where else {}
                key = cells.get(spec.key) if isinstance(spec, NodeType) else None
                self.rejects.append(reject(place, cells, canonical=table, id=key, **extra))
            if isinstance(spec, NodeType) and cells.get(spec.key):
                skipped.setdefault(spec.label, set()).add(str(cells[spec.key]))
        for p in found:
            if p.line is None or (p.line == 1 and "header" in p.message):
                self.problems.append(Problem(self.source, None, p.column, f"{table}: {p.message}"))
                continue
            row = p.line
            self.problems.append(self.place(wheres[row] or "", int(lines[row]), p.column, p.message))
        if out is None:
            return None
        kept = [int(lines[i]) for i in out.column("_line").to_pylist()]
        return out.set_column(out.column_names.index("_line"), "_line", pa.array(kept, pa.int32()))
