"""The disclosure bundle (../shared/spec/bundle-format.md): a folder or .zip of CSV files.

`read_bundle` yields nothing until every file is valid: it returns one `Bundle` of canonical
record tables, or raises `BundleError` with every problem found (file, line, column, expectation).
References between files are checked later, across every bundle in the graph (graph.tables).
"""

from __future__ import annotations

import functools
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.graph.errors import BundleError, Problem
from supplygraph.graph.schema import LINK_COLUMNS, SCHEMA, LinkType, NodeType, Property, arrow_type
from supplygraph.loaders.columns import convert, hidden_characters, is_id_column, out_of_range
from supplygraph.loaders.csvfile import CsvTable, property_name, read_csv
from supplygraph.loaders.quarantine import drop_references, reject
from supplygraph.loaders.zip_limits import MemberReader, ZipLimits, check_declared

PER_COLUMN_LIMIT = 20
LINK_PROPS = (
    Property("valid_from", "date", "valid_from"),
    Property("valid_to", "date", "valid_to"),
    Property("source_ids", "list", "source_id"),
)
DATE_ORDER = {"Contract": ("start_date", "end_date"), "Finding": ("reported_on", "closed_on")}


@dataclass
class Bundle:
    """Validated canonical records of one bundle: table name (file stem) -> Arrow table."""

    name: str
    tables: dict[str, pa.Table]
    warnings: list[Problem] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)  # records set aside by --skip-invalid (loaders.quarantine)

    @property
    def rows(self) -> int:
        return sum(t.num_rows for t in self.tables.values())


def bundle_name(path: Path) -> str:
    return path.stem if path.suffix.lower() == ".zip" else path.resolve().name


def _folder_files(path: Path) -> tuple[dict[str, Callable[[], bytes]], list[str], list[Problem]]:
    """A folder's bundle files. A symbolic link is followed only to a file inside the bundle folder: one
    leaving it (to /etc/passwd, to another user's data) is refused, as is anything but a regular file."""
    known = set(SCHEMA.files)
    found: dict[str, Callable[[], bytes]] = {}
    unknown: list[str] = []
    problems: list[Problem] = []
    root = path.resolve()
    for item in sorted(path.iterdir()):
        if item.name not in known:
            if item.suffix.lower() == ".csv":
                unknown.append(item.name)
            continue
        target = item.resolve()
        if item.is_symlink() and not target.is_relative_to(root):
            problems.append(
                Problem(
                    item.name,
                    None,
                    None,
                    f"is a symbolic link to {str(target)!r}, outside the bundle folder; "
                    "copy the file into the bundle instead",
                )
            )
        elif not target.is_file():
            problems.append(Problem(item.name, None, None, "is not a regular file; expected a CSV file"))
        else:
            found[item.name] = target.read_bytes
    return found, unknown, problems


def _zip_files(
    path: Path, limits: ZipLimits
) -> tuple[dict[str, Callable[[], bytes]], list[str], list[Problem]]:
    """A zip's bundle files, read in pieces under the caps of loaders/zip_limits.py. A member that is a
    symbolic link is refused (zipfile would hand over the link's target path as the file's text)."""
    known = set(SCHEMA.files)
    found: dict[str, Callable[[], bytes]] = {}
    unknown: list[str] = []
    problems: list[Problem] = []
    archive = zipfile.ZipFile(path)
    reader = MemberReader(archive, path.name, limits)
    chosen: list[zipfile.ZipInfo] = []
    for info in archive.infolist():
        name = PurePosixPath(info.filename).name
        if info.is_dir() or name.startswith("._") or "__MACOSX" in info.filename:
            continue
        if name in known and name not in found:
            if stat.S_ISLNK(info.external_attr >> 16):
                problems.append(
                    Problem(f"{path.name}[{info.filename}]", None, None, "is a symbolic link; a bundle holds files")
                )
                continue
            found[name] = functools.partial(reader.read, info)
            chosen.append(info)
        elif name.lower().endswith(".csv"):
            unknown.append(info.filename)
    if not problems:
        check_declared(archive, path.name, chosen, limits)
    return found, unknown, problems


def read_bundle(
    path: Path, name: str | None = None, skip_invalid: bool = False, limits: ZipLimits | None = None
) -> Bundle:
    path = Path(path)
    if not path.exists():
        raise BundleError([Problem(str(path), None, None, "no such file or folder")])
    if not path.is_dir() and not zipfile.is_zipfile(path):
        raise BundleError([Problem(str(path), None, None, "not a folder or a .zip of CSV files")])
    if path.is_dir():
        files, unknown, problems = _folder_files(path)
    else:
        files, unknown, problems = _zip_files(path, limits or ZipLimits.from_settings())
    if problems:
        raise BundleError(problems)
    warnings = [Problem(f, None, None, "not a bundle file; ignored") for f in unknown]
    if not files:
        problems.append(
            Problem(str(path), None, None, f"no bundle files found; expected some of: {', '.join(SCHEMA.files)}")
        )
    tables: dict[str, pa.Table] = {}
    rejects: list[dict] = []
    skipped: dict[str, set[str]] = {}
    for filename, read in files.items():
        parsed = read_csv(read(), filename)
        if isinstance(parsed, list):
            problems.extend(parsed)
            continue
        spec = SCHEMA.node_for_file(filename) or SCHEMA.link_for_file(filename)
        assert spec is not None
        table = check_file(parsed, spec, problems, warnings, skip_invalid, rejects, skipped)
        if table is not None:
            tables[filename.removesuffix(".csv")] = table
    if problems:
        raise BundleError(problems)
    return Bundle(name or bundle_name(path), tables, warnings, rejects + drop_skipped(tables, skipped, ".csv"))


def check_file(
    parsed: CsvTable,
    spec: NodeType | LinkType,
    problems: list[Problem],
    warnings: list[Problem],
    skip_invalid: bool = False,
    rejects: list[dict] | None = None,
    skipped: dict[str, set[str]] | None = None,
) -> pa.Table | None:
    """The file's checked table (None if it has problems); with `skip_invalid` its bad rows go to `rejects` (the
    row's cells as read) and the ids of bad nodes to `skipped` (label -> ids), and the rest is returned."""
    checker = FileChecker(parsed, problems, warnings, skip_invalid)
    table = checker.node(spec) if isinstance(spec, NodeType) else checker.link(spec)
    for row, found in sorted(checker.bad.items()):
        record = dict(zip(parsed.header, parsed.table.slice(row, 1).to_pylist()[0].values(), strict=True))
        if rejects is not None:
            rejects.extend(reject(p, record) for p in found)
        if isinstance(spec, NodeType) and record.get(spec.key) and skipped is not None:
            skipped.setdefault(spec.label, set()).add(str(record[spec.key]))
    return table


def drop_skipped(tables: dict[str, pa.Table], skipped: dict[str, set[str]], suffix: str) -> list[dict]:
    """Rows referring to skipped ids removed from `tables`; their rejects (file = table + suffix, line)."""
    if not skipped:
        return []
    return drop_references(tables, skipped, lambda table, row: {"file": f"{table}{suffix}", "line": row["_line"]})


class FileChecker:
    """Validates the columns of one parsed file against its schema entry."""

    def __init__(
        self, parsed: CsvTable, problems: list[Problem], warnings: list[Problem], skip_invalid: bool = False
    ) -> None:
        self.csv = parsed
        self.problems = problems
        self.warnings = warnings
        self.failed = False
        self.skip_invalid = skip_invalid  # bad rows are set aside in `bad` (row -> its problems), not refused
        self.bad: dict[int, list[Problem]] = {}

    def report(self, mask: pa.Array, column: str, values: pa.Array, message: Callable[[str], str]) -> None:
        rows = np.flatnonzero(np.asarray(pc.fill_null(mask, False), dtype=bool))
        if not len(rows):
            return
        if self.skip_invalid:
            for row in rows:
                problem = Problem(self.csv.file, self.csv.line_of(int(row)), column, message(values[int(row)].as_py()))
                self.bad.setdefault(int(row), []).append(problem)
            return
        self.failed = True
        for row in rows[:PER_COLUMN_LIMIT]:
            value = values[int(row)].as_py()
            self.problems.append(Problem(self.csv.file, self.csv.line_of(int(row)), column, message(value)))
        if len(rows) > PER_COLUMN_LIMIT:
            self.problems.append(
                Problem(self.csv.file, None, column, f"... and {len(rows) - PER_COLUMN_LIMIT} more rows like these")
            )

    def column(self, prop: Property) -> pa.Array | None:
        if prop.column not in self.csv.header:
            if prop.required:
                self.failed = True
                self.problems.append(
                    Problem(self.csv.file, 1, prop.column, "required column is missing from the header")
                )
            return None
        raw = self.csv.table.column(prop.column).combine_chunks()
        if prop.required:
            self.report(pc.is_null(raw), prop.column, raw, lambda _v: "required value is empty")
        if is_id_column(prop):
            _same, hidden, why = hidden_characters(raw)
            self.report(hidden, prop.column, raw, why)
        converted = convert(prop, raw)
        if converted is None:
            return raw
        values, bad, message = converted
        self.report(bad, prop.column, raw, message)
        too_far = out_of_range(prop, values)
        if too_far is not None:
            self.report(too_far, prop.column, raw, lambda v: f"{v!r} is out of range [{prop.min}, {prop.max}]")
        return values

    def typed(self, props: tuple[Property, ...]) -> dict[str, pa.Array]:
        n = self.csv.table.num_rows
        out: dict[str, pa.Array] = {}
        for prop in props:
            values = self.column(prop)
            if values is None:
                values = pa.nulls(n, arrow_type(prop))
            out[prop.name] = values
        return out

    def extras(self, known: set[str], taken: set[str]) -> dict[str, pa.Array]:
        out: dict[str, pa.Array] = {}
        for column in self.csv.header:
            if column in known:
                continue
            values = self.csv.table.column(column).combine_chunks()
            name = property_name(column)
            if name in taken or name in out or name.startswith("_"):
                name = f"extra_{name.lstrip('_')}"
            if column.startswith("column_") and values.null_count == len(values):
                self.warnings.append(Problem(self.csv.file, 1, None, "an unnamed, empty column was ignored"))
                continue
            out[name] = values
        return out

    def finish(self, columns: dict[str, pa.Array]) -> pa.Table:
        columns["_line"] = self.csv.lines()
        table = pa.table(columns)
        if self.bad:
            keep = np.ones(table.num_rows, dtype=bool)
            keep[list(self.bad)] = False
            table = table.filter(pa.array(keep))
        return table

    def node(self, spec: NodeType) -> pa.Table | None:
        key = Property("id", "string", spec.key, required=True)
        columns = self.typed((key, *spec.properties))
        self.duplicates(columns["id"], spec.key)
        if spec.label in DATE_ORDER:
            self.order(columns, *DATE_ORDER[spec.label])
        columns.update(self.extras(set(spec.columns), set(columns) | {"origins"}))
        return None if self.failed else self.finish(columns)

    def link(self, spec: LinkType) -> pa.Table | None:
        ends = (
            Property("from_id", "string", spec.source.column, required=True),
            Property("to_id", "string", spec.target.column, required=spec.target.required),
        )
        columns = self.typed((*ends, *spec.properties, *LINK_PROPS))
        self.order(columns, "valid_from", "valid_to")
        if spec.name == "contract_items":
            self.contract_items(columns)
        columns.update(self.extras(set(spec.columns) | set(LINK_COLUMNS), set(columns) | {"origins"}))
        return None if self.failed else self.finish(columns)

    def contract_items(self, columns: dict[str, pa.Array]) -> None:
        """Version 1.1: a row names its product or describes what was bought; given item ids are unique."""
        if "product_id" not in self.csv.header and "description" not in self.csv.header:
            self.failed = True
            self.problems.append(
                Problem(self.csv.file, 1, "product_id", "required column is missing: product_id or description")
            )
            return
        neither = pc.and_(pc.is_null(columns["to_id"]), pc.is_null(columns["description"]))
        self.report(neither, "product_id", columns["to_id"], lambda _v: "empty, and so is description: a row needs one")
        self.duplicates(columns["item_id"], "item_id")

    def duplicates(self, ids: pa.Array, column: str) -> None:
        counts = pc.value_counts(ids.drop_null())
        dupes = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
        if not len(dupes):
            return
        first: dict[str, int] = {}
        repeat = np.zeros(len(ids), dtype=bool)
        for row in np.flatnonzero(np.asarray(pc.fill_null(pc.is_in(ids, value_set=dupes), False))):
            value = ids[int(row)].as_py()
            if value in first:
                repeat[row] = True
            else:
                first[value] = int(row)
        self.report(
            pa.array(repeat), column, ids, lambda v: f"duplicate id {v!r} (first on line {self.csv.line_of(first[v])})"
        )

    def order(self, columns: dict[str, pa.Array], start: str, end: str) -> None:
        mask = pc.fill_null(pc.greater(columns[start], columns[end]), False)
        dates = pc.cast(columns[end], pa.string())
        starts = pc.cast(columns[start], pa.string())
        self.report(
            mask, end, pc.binary_join_element_wise(starts, dates, " > "), lambda v: f"{start} after {end} ({v})"
        )
