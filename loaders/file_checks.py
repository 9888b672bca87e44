"""Checking one parsed file of a bundle against its schema entry, column by column: types, enums, dates in
order, ids, required columns; every problem by file, line and column, or with `skip_invalid` the bad rows
set aside."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.graph.errors import Problem
from supplygraph.graph.schema import LINK_COLUMNS, SCHEMA, LinkType, NodeType, Property, arrow_type
from supplygraph.loaders.columns import convert, hidden_characters, is_id_column, out_of_range
from supplygraph.loaders.csvfile import CsvTable, property_name
from supplygraph.loaders.quarantine import reject

PER_COLUMN_LIMIT = 20
LINK_PROPS = (
    Property("valid_from", "date", "valid_from"),
    Property("valid_to", "date", "valid_to"),
    Property("source_ids", "list", "source_id"),
)
RELATIONSHIP_OWN = ("from", "to", "origin", "origin_line")  # a relationship's ends and provenance (graph/relationships.py)
DATE_ORDER = {"Contract": ("start_date", "end_date"), "Finding": ("reported_on", "closed_on")}


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
        taken = set(columns) | {"origins", *RELATIONSHIP_OWN}
        if spec.name == "contract_items":
            self.contract_items(columns)
            taken |= {"id", *(p.name for p in SCHEMA.nodes["Item"].properties)}  # worked out by the loader, not read
        columns.update(self.extras(set(spec.columns) | set(LINK_COLUMNS), taken))
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
