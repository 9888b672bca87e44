"""Canonical records -> the graph's node and relationship tables, for any store.

A graph is built from an ordered list of bundles (each a dict of validated Arrow tables).
Here the bundles are merged (the same id in two bundles is one node; later non-empty values
win; every origin is kept), references between files are checked across all bundles, and the
relationships are derived. Stores only COPY or UNWIND what this module hands them.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.graph.errors import BundleError, Problem
from supplygraph.graph.schema import SCHEMA, LinkType, NodeType, Property, Reference
from supplygraph.graph.temp_folders import make_temp_folder

STRING_LIST = pa.list_(pa.string())


@dataclass
class RelPart:
    """The relationships of one type between one pair of labels: columns from, to, then properties."""

    type: str
    source: str
    target: str
    table: pa.Table


@dataclass
class GraphTables:
    nodes: dict[str, pa.Table]
    rels: list[RelPart]
    warnings: list[Problem] = field(default_factory=list)

    @property
    def node_count(self) -> int:
        return sum(t.num_rows for t in self.nodes.values())

    @property
    def rel_count(self) -> int:
        return sum(p.table.num_rows for p in self.rels)


LOADED = "_loaded_at"  # column of every canonical table: the day its bundle was read (UTC, ISO 8601)
ORIGIN = re.compile(r"^(.*):(\d+)(?: \(.*\))?$")
SPILL_BYTES = 32 << 20  # tables larger than this are kept in memory-mapped files, not in the heap
BATCH = 100_000
_spill: list[Path] = []


def _spill_file() -> str:
    if not _spill:
        folder = make_temp_folder("tables")
        atexit.register(shutil.rmtree, folder, True)
        _spill.append(folder)
    fd, name = tempfile.mkstemp(suffix=".arrow", dir=_spill[0])
    os.close(fd)
    return name


class Spill:
    """A table built piece by piece (pieces of one schema): kept in memory while small, else written to a
    temporary file as the pieces come and memory-mapped at the end (pages the kernel can drop), so building
    it holds one piece, not the table."""

    def __init__(self, schema: pa.Schema | None = None) -> None:
        self.schema = schema
        self.pieces: list[pa.Table] = []
        self.held = 0
        self.name: str | None = None
        self.sink: pa.NativeFile | None = None
        self.writer: pa.ipc.RecordBatchFileWriter | None = None

    def add(self, piece: pa.Table) -> None:
        if self.schema is None:
            self.schema = piece.schema
        elif piece.schema != self.schema:
            piece = piece.select(self.schema.names).cast(self.schema)
        if self.writer is not None:
            self.writer.write_table(piece)
            return
        self.pieces.append(piece)
        self.held += piece.nbytes
        if self.held >= SPILL_BYTES:
            self.name = _spill_file()
            self.sink = pa.OSFile(self.name, "wb")
            self.writer = pa.ipc.new_file(self.sink, self.schema)
            for kept in self.pieces:
                self.writer.write_table(kept)
            self.pieces = []

    def table(self) -> pa.Table:
        if self.writer is None or self.sink is None or self.name is None:
            assert self.schema is not None
            return pa.Table.from_batches([b for p in self.pieces for b in p.to_batches()], self.schema)
        self.writer.close()
        self.sink.close()
        mapped = pa.ipc.open_file(pa.memory_map(self.name)).read_all()
        os.unlink(self.name)  # the mapping stays valid; the space is freed with the table
        return mapped


def _spilled(table: pa.Table, piece: Callable[[pa.Table], pa.Table]) -> pa.Table:
    """`piece` of each batch of `table` (of an empty table when it has no rows), gathered in a Spill."""
    spill = Spill()
    for batch in table.to_batches(max_chunksize=BATCH) or [pa.RecordBatch.from_pylist([], table.schema)]:
        spill.add(piece(pa.Table.from_batches([batch])))
    return spill.table()


def _origins(table: pa.Table, bundle: str, file: str) -> pa.Array:
    """Where every row came from: `bundle/file:line (format record, loaded time)`, e.g.
    `acme/factories.csv:3 (bundle, loaded 2026-11-27)` or
    `tenders/contracts.csv:17 (ocds tenders.jsonl:17#/awards/0, loaded 2026-11-27)`."""
    lines = pc.cast(table.column("_line").combine_chunks(), pa.string())
    names = table.column_names
    fmt = table.column("source_format").combine_chunks() if "source_format" in names else pa.scalar("bundle")
    what = fmt
    if "source_record" in names:
        what = pc.binary_join_element_wise(
            fmt, table.column("source_record").combine_chunks(), " ", null_handling="skip"
        )
    if LOADED in names:
        loaded = pc.binary_join_element_wise("loaded ", table.column(LOADED).combine_chunks().cast(pa.string()), "")
        what = pc.binary_join_element_wise(what, loaded, ", ", null_handling="skip")
    return pc.binary_join_element_wise(f"{bundle}/{file}:", lines, " (", what, ")", "")


def split_origin(origin: str) -> tuple[str, int]:
    """(`bundle/file`, line) of an origin."""
    found = ORIGIN.match(origin)
    if found is None:
        raise ValueError(origin)
    return found.group(1), int(found.group(2))


def _with_origin(table: pa.Table, bundle: str, file: str) -> pl.DataFrame:
    origins = _origins(table, bundle, file)
    drop = [c for c in ("_line", LOADED) if c in table.column_names]
    frame = pl.from_arrow(table.drop_columns(drop).append_column("_origin", origins))
    assert isinstance(frame, pl.DataFrame)
    return frame


def _parts(bundles: list[tuple[str, dict[str, pa.Table]]], name: str) -> list[tuple[str, pa.Table]]:
    return [(bundle, tables[name]) for bundle, tables in bundles if name in tables]


def _merge_nodes(frame: pl.DataFrame) -> pl.DataFrame:
    if not frame["id"].is_duplicated().any():
        return frame.with_columns(pl.concat_list([pl.col("_origin")]).alias("origins")).drop("_origin")
    values = [c for c in frame.columns if c not in ("id", "_origin")]
    return frame.group_by("id", maintain_order=True).agg(
        [pl.col(c).drop_nulls().last().alias(c) for c in values] + [pl.col("_origin").alias("origins")]
    )


def _distinct_ids(parts: list[tuple[str, pa.Table]]) -> bool:
    ids = pa.chunked_array([c for _b, t in parts for c in t.column("id").cast(pa.string()).chunks], pa.string())
    return pc.count_distinct(ids).as_py() == len(ids)


def _nodes(spec: NodeType, parts: list[tuple[str, pa.Table]]) -> pa.Table:
    """The node table of a label: rows of every bundle; one row per id, later bundles' values winning."""
    if not parts or not _distinct_ids(parts):
        frames = [_with_origin(table, bundle, spec.file) for bundle, table in parts]
        frame = None if not frames else pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
        return _node_table(spec, None if frame is None else _merge_nodes(frame))
    # every id once (the usual case, and the large one): Arrow batch by batch, no copies of the columns
    def piece(rows: pa.Table, bundle: str) -> pa.Table:
        origins = _origins(rows, bundle, spec.file)
        single = pa.ListArray.from_arrays(pa.array(np.arange(len(origins) + 1, dtype=np.int32)), origins)
        drop = [c for c in ("_line", LOADED) if c in rows.column_names]
        return _node_table(spec, rows.drop_columns(drop).append_column("origins", single))

    out = [_spilled(table, partial(piece, bundle=bundle)) for bundle, table in parts]
    return pa.concat_tables(out, promote_options="default").select(_node_columns(spec, out))


def _node_columns(spec: NodeType, tables: list[pa.Table]) -> list[str]:
    """id, schema properties, extras (sorted), origins, over tables of which some may lack some extras."""
    fixed = ["id", *(p.name for p in spec.properties)]
    extras = sorted({n for t in tables for n in t.column_names} - {*fixed, "origins"})
    return [*fixed, *extras, "origins"]


def arrow_type(prop: Property) -> pa.DataType:
    if prop.is_list:
        return STRING_LIST
    return {"date": pa.date32(), "float": pa.float64(), "int": pa.int64()}.get(prop.type, pa.string())


def _node_table(spec: NodeType, frame: pl.DataFrame | pa.Table | None) -> pa.Table:
    """Columns in a fixed order: id, schema properties, extras (sorted), origins."""
    fields = [pa.field("id", pa.string())] + [pa.field(p.name, arrow_type(p)) for p in spec.properties]
    if frame is None:
        return pa.table({f.name: pa.array([], f.type) for f in [*fields, pa.field("origins", STRING_LIST)]})
    table = frame.to_arrow() if isinstance(frame, pl.DataFrame) else frame
    known = {f.name for f in fields} | {"origins"}
    extras = sorted(c for c in table.column_names if c not in known)
    columns = {f.name: table.column(f.name).cast(f.type) for f in fields}
    columns.update({c: table.column(c).cast(pa.string()) for c in extras})
    columns["origins"] = table.column("origins").cast(STRING_LIST)
    return pa.table(columns)


class _References:
    """Checks that every reference names an existing node; collects problems, warnings and stubs."""

    def __init__(self, nodes: dict[str, pa.Table]) -> None:
        self.nodes = nodes
        self.ids: dict[str, pa.Array] = {}
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.stubs: dict[str, dict[str, str]] = {}

    def check(self, label: str, values: pa.Array | pa.ChunkedArray, column: str, origin: Callable[[int], str]) -> None:
        """Every value an id of `label`; `origin(i)` says where value i came from (`bundle/file:line`)."""
        if label not in self.ids:
            self.ids[label] = self.nodes[label].column("id").combine_chunks()
        missing = pc.and_(pc.invert(pc.is_in(values, value_set=self.ids[label])), pc.is_valid(values))
        if isinstance(missing, pa.ChunkedArray):
            missing = missing.combine_chunks()
        idx = pc.indices_nonzero(missing).to_pylist()
        if not idx:
            return
        file = SCHEMA.nodes[label].file
        has_file = self.nodes[label].num_rows > 0
        for i in idx:
            value, where_line = values[i].as_py(), origin(i)
            where, line = split_origin(where_line)
            if has_file:
                problem = Problem(where, int(line), column, f"unknown {label.lower()} id {value!r}: not in {file}")
                if len(self.problems) < 500 and problem not in self.problems:  # an item's row is checked twice
                    self.problems.append(problem)
            else:
                if value not in self.stubs.setdefault(label, {}):
                    self.stubs[label][value] = where_line
                    msg = f"{label.lower()} id {value!r} is not described: no bundle has {file}; a bare node is made"
                    self.warnings.append(Problem(where, int(line), column, msg))


def _node_origin(table: pa.Table, rows: pa.Array | None) -> Callable[[int], str]:
    origins = table.column("origins")
    return lambda i: origins[i if rows is None else rows[i].as_py()].as_py()[0]


def _link_origin(bundle: str, file: str, table: pa.Table, rows: pa.Array | None = None) -> Callable[[int], str]:
    lines = table.column("_line")
    return lambda i: f"{bundle}/{file}:{lines[i if rows is None else rows[i].as_py()].as_py()}"


def build_tables(bundles: list[tuple[str, dict[str, pa.Table]]]) -> GraphTables:
    """Merge bundles (in load order) into node and relationship tables; raise BundleError on dangling references.

    Large tables stay out of the heap: node tables of distinct ids and relationship tables are built in batches
    and memory-mapped from temporary files (`Spill`), so the memory a load needs does not grow with its size."""
    nodes = {
        label: _nodes(spec, _parts(bundles, spec.stem)) for label, spec in SCHEMA.nodes.items()
    }
    refs = _References(nodes)
    for ref in SCHEMA.references:
        table = nodes[ref.node]
        values = table.column(ref.column)
        rows: pa.Array | None = None
        if ref.when is not None:
            keep = pc.equal(table.column("subject_type"), ref.when).combine_chunks()
            rows, values = pc.indices_nonzero(keep), values.filter(keep)
        if pa.types.is_list(values.type):
            values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
            parents = pc.list_parent_indices(values)
            values = pc.list_flatten(values)
            rows = parents if rows is None else pc.take(rows, parents)
        refs.check(ref.target, values, ref.column, _node_origin(table, rows))
    for name, spec in SCHEMA.links.items():
        parts = _parts(bundles, name)
        for end, col in ((spec.source, "from_id"), (spec.target, "to_id")):
            for bundle, table in parts:
                refs.check(end.node, table.column(col), end.column, _link_origin(bundle, spec.file, table))
        for bundle, table in parts:
            if "source_ids" in table.column_names:
                ids = table.column("source_ids").combine_chunks()
                parents = pc.list_parent_indices(ids)
                origin = _link_origin(bundle, spec.file, table, parents)
                refs.check("Source", pc.list_flatten(ids), "source_id", origin)
    if refs.problems:
        raise BundleError(refs.problems)
    for label, stubs in refs.stubs.items():
        stub = pa.table({"id": list(stubs), "origins": [[f"reference from {o}"] for o in stubs.values()]})
        nodes[label] = pa.concat_tables([nodes[label], stub], promote_options="default")
    return GraphTables(nodes, _reference_rels(nodes) + _link_rels(bundles), refs.warnings)


def _joined(ids: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A list of source ids as one "|"-joined string (empty list -> null)."""
    joined = pc.binary_join(ids, "|")
    return pc.if_else(pc.equal(joined, ""), pa.scalar(None, pa.string()), joined)


def _rel(type_: str, source: str, target: str, columns: dict[str, pa.Array]) -> RelPart:
    n = len(columns["from"])
    base = {
        "from": columns.pop("from"),
        "to": columns.pop("to"),
        "valid_from": columns.pop("valid_from", pa.nulls(n, pa.date32())),
        "valid_to": columns.pop("valid_to", pa.nulls(n, pa.date32())),
        "source_ids": _joined(columns.pop("source_ids", pa.nulls(n, STRING_LIST))),
        "origin": columns.pop("origin", pa.nulls(n, pa.string())),
    }
    base.update(columns)
    return RelPart(type_, source, target, pa.table(base))


def _reference_rels(nodes: dict[str, pa.Table]) -> list[RelPart]:
    parts = []
    for ref in SCHEMA.references:
        table = nodes[ref.node]
        source, target = (ref.target, ref.node) if ref.reverse else (ref.node, ref.target)
        parts.append(RelPart(ref.rel, source, target, _spilled(table, partial(_reference_piece, ref))))
    return parts


def _reference_piece(ref: Reference, table: pa.Table) -> pa.Table:
    if ref.when is not None:
        table = table.filter(pc.equal(table.column("subject_type"), ref.when))
    values = table.column(ref.column)
    if pa.types.is_list(values.type):  # one relationship per item: repeat only the columns a relationship takes
        parents = pc.list_parent_indices(values)
        wanted = [c for c in ("id", "start_date", "end_date", "source_ids", "origins") if c in table.column_names]
        table, values = table.select(wanted).take(parents), pc.list_flatten(values)
    keep = pc.is_valid(values)
    table, values = table.filter(keep), values.filter(keep)
    ids = table.column("id")
    columns: dict[str, pa.Array] = {
        "from": values if ref.reverse else ids,
        "to": ids if ref.reverse else values,
    }
    if ref.dated:
        columns["valid_from"], columns["valid_to"] = table.column("start_date"), table.column("end_date")
    if "source_ids" in table.column_names and ref.rel != "BACKED_BY":
        columns["source_ids"] = table.column("source_ids")
    columns["origin"] = _joined(table.column("origins"))
    return _rel(ref.rel, "", "", columns).table


def _link_rels(bundles: list[tuple[str, dict[str, pa.Table]]]) -> list[RelPart]:
    parts = []
    empty = pa.table({"from_id": pa.array([], pa.string()), "to_id": pa.array([], pa.string())})
    for name, spec in SCHEMA.links.items():
        pieces = [
            _spilled(table, partial(_link_piece, spec, bundle=bundle))
            for bundle, table in _parts(bundles, name)
        ]
        pieces = pieces or [_link_piece(spec, empty.append_column("_line", pa.array([], pa.int32())), "")]
        base = pieces[0].column_names[: 6 + len(spec.properties)]
        extras = sorted({c for p in pieces for c in p.column_names} - set(base))
        table = pa.concat_tables(pieces, promote_options="default").select([*base, *extras])
        parts.append(RelPart(spec.rel, spec.source.node, spec.target.node, table))
    return parts


def _link_piece(spec: LinkType, table: pa.Table, bundle: str) -> pa.Table:
    if not spec.target.required:  # a contract item without a product is an Item node, not a link (loaders/contract_items.py)
        table = table.filter(pc.is_valid(table.column("to_id")))
    n = table.num_rows
    columns: dict[str, pa.Array] = {
        "from": table.column("from_id").cast(pa.string()),
        "to": table.column("to_id").cast(pa.string()),
        "origin": _origins(table, bundle, spec.file),
    }
    for col in ("valid_from", "valid_to"):
        if col in table.column_names:
            columns[col] = table.column(col).cast(pa.date32())
    if "source_ids" in table.column_names:
        columns["source_ids"] = table.column("source_ids").cast(STRING_LIST)
    for prop in spec.properties:
        columns[prop.name] = (
            table.column(prop.name).cast(arrow_type(prop))
            if prop.name in table.column_names
            else pa.nulls(n, arrow_type(prop))
        )
    known = {
        "from_id",
        "to_id",
        "_line",
        LOADED,
        "valid_from",
        "valid_to",
        "source_ids",
        # a loader's record pointer and format are already in `origin`: not repeated on every relationship
        "source_format",
        "source_record",
        *(p.name for p in spec.properties),
    }
    for extra in sorted(c for c in table.column_names if c not in known):
        columns[extra] = table.column(extra).cast(pa.string())
    return _rel(spec.rel, "", "", columns).table
