"""Canonical records -> the graph's node and relationship tables, for any store.

A graph is built from an ordered list of bundles (each a dict of validated Arrow tables).
Here the bundles are merged (the same id in two bundles is one node; later non-empty values
win; every origin is kept), references between files are checked across all bundles, and the
relationships are derived. Stores only COPY or UNWIND what this module hands them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.graph.arrow_files import spilled
from supplygraph.graph.errors import BundleError, Problem
from supplygraph.graph.origins import LOADED, link_origin, node_origin, row_origins, split_origin
from supplygraph.graph.relationships import STRING_LIST, RelPart, bundle_tables, link_rels, reference_rels
from supplygraph.graph.schema import SCHEMA, NodeType, arrow_type


@dataclass
class GraphTables:
    nodes: dict[str, pa.Table]
    rels: list[RelPart]
    warnings: list[Problem] = field(default_factory=list)
    released: tuple[int, int] | None = None  # (nodes, relationships) once the tables were handed over and dropped

    @property
    def node_count(self) -> int:
        return self.released[0] if self.released else sum(t.num_rows for t in self.nodes.values())

    @property
    def rel_count(self) -> int:
        return self.released[1] if self.released else sum(p.table.num_rows for p in self.rels)

    def release(self) -> None:
        """Drop the tables (a store has written them where it reads them from), keeping their counts: whoever
        holds this object no longer holds their memory while the store copies them."""
        self.released = (self.node_count, self.rel_count)
        self.nodes.clear()
        self.rels.clear()


def _with_origin(table: pa.Table, bundle: str, file: str) -> pl.DataFrame:
    origins = row_origins(table, bundle, file)
    drop = [c for c in ("_line", LOADED) if c in table.column_names]
    frame = pl.from_arrow(table.drop_columns(drop).append_column("_origin", origins))
    assert isinstance(frame, pl.DataFrame)
    return frame


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
        origins = row_origins(rows, bundle, spec.file)
        single = pa.ListArray.from_arrays(pa.array(np.arange(len(origins) + 1, dtype=np.int32)), origins)
        drop = [c for c in ("_line", LOADED) if c in rows.column_names]
        return _node_table(spec, rows.drop_columns(drop).append_column("origins", single))

    out = [spilled(table, partial(piece, bundle=bundle)) for bundle, table in parts]
    return pa.concat_tables(out, promote_options="default").select(_node_columns(spec, out))


def _node_columns(spec: NodeType, tables: list[pa.Table]) -> list[str]:
    """id, schema properties, extras (sorted), origins, over tables of which some may lack some extras."""
    fixed = ["id", *(p.name for p in spec.properties)]
    extras = sorted({n for t in tables for n in t.column_names} - {*fixed, "origins"})
    return [*fixed, *extras, "origins"]


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


def build_tables(bundles: list[tuple[str, dict[str, pa.Table]]]) -> GraphTables:
    """Merge bundles (in load order) into node and relationship tables; raise BundleError on dangling references.

    Large tables stay out of the heap: node tables of distinct ids and relationship tables are built in batches
    and memory-mapped from temporary files (`Spill`), so the memory a load needs does not grow with its size."""
    nodes = {
        label: _nodes(spec, bundle_tables(bundles, spec.stem)) for label, spec in SCHEMA.nodes.items()
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
        refs.check(ref.target, values, ref.column, node_origin(table, rows))
    for name, spec in SCHEMA.links.items():
        parts = bundle_tables(bundles, name)
        for end, col in ((spec.source, "from_id"), (spec.target, "to_id")):
            for bundle, table in parts:
                refs.check(end.node, table.column(col), end.column, link_origin(bundle, spec.file, table))
        for bundle, table in parts:
            if "source_ids" in table.column_names:
                ids = table.column("source_ids").combine_chunks()
                parents = pc.list_parent_indices(ids)
                origin = link_origin(bundle, spec.file, table, parents)
                refs.check("Source", pc.list_flatten(ids), "source_id", origin)
    if refs.problems:
        raise BundleError(refs.problems)
    for label, stubs in refs.stubs.items():
        stub = pa.table({"id": list(stubs), "origins": [[f"reference from {o}"] for o in stubs.values()]})
        nodes[label] = pa.concat_tables([nodes[label], stub], promote_options="default")
    return GraphTables(nodes, reference_rels(nodes) + link_rels(bundles), refs.warnings)


