"""Canonical records -> the graph's node and relationship tables, for any store.

A graph is built from an ordered list of bundles (each a dict of validated Arrow tables).
Here the bundles are merged (the same id in two bundles is one node; later non-empty values
win; every origin is kept), references between files are checked across all bundles, and the
relationships are derived. Stores only COPY or UNWIND what this module hands them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from graph.errors import BundleError, Problem
from graph.schema import SCHEMA, NodeType, Property

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


def _with_origin(table: pa.Table, bundle: str, file: str) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    prefix = f"{bundle}/{file}:"
    return frame.with_columns((pl.lit(prefix) + pl.col("_line").cast(pl.String)).alias("_origin")).drop("_line")


def _stack(bundles: list[tuple[str, dict[str, pa.Table]]], name: str, file: str) -> pl.DataFrame | None:
    frames = [_with_origin(tables[name], bundle, file) for bundle, tables in bundles if name in tables]
    if not frames:
        return None
    return pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]


def _merge_nodes(frame: pl.DataFrame) -> pl.DataFrame:
    if not frame["id"].is_duplicated().any():
        return frame.with_columns(pl.concat_list([pl.col("_origin")]).alias("origins")).drop("_origin")
    values = [c for c in frame.columns if c not in ("id", "_origin")]
    return frame.group_by("id", maintain_order=True).agg(
        [pl.col(c).drop_nulls().last().alias(c) for c in values] + [pl.col("_origin").alias("origins")]
    )


def arrow_type(prop: Property) -> pa.DataType:
    if prop.is_list:
        return STRING_LIST
    return {"date": pa.date32(), "float": pa.float64(), "int": pa.int64()}.get(prop.type, pa.string())


def _node_table(spec: NodeType, frame: pl.DataFrame | None) -> pa.Table:
    """Columns in a fixed order: id, schema properties, extras (sorted), origins."""
    fields = [pa.field("id", pa.string())] + [pa.field(p.name, arrow_type(p)) for p in spec.properties]
    if frame is None:
        return pa.table({f.name: pa.array([], f.type) for f in [*fields, pa.field("origins", STRING_LIST)]})
    table = frame.to_arrow()
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
        self.known = {label: set(t.column("id").to_pylist()) for label, t in nodes.items()}
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.stubs: dict[str, dict[str, str]] = {}

    def check(self, label: str, values: pa.Array, origins: pa.Array, column: str) -> None:
        missing = pc.invert(pc.is_in(values, value_set=pa.array(sorted(self.known[label]), pa.string())))
        missing = pc.and_(missing, pc.is_valid(values))
        idx = pc.indices_nonzero(missing).to_pylist()
        if not idx:
            return
        file = SCHEMA.nodes[label].file
        has_file = self.nodes[label].num_rows > 0
        for i in idx:
            value, origin = values[i].as_py(), origins[i].as_py()
            where, _, line = origin.rpartition(":")
            if has_file:
                if len(self.problems) < 500:
                    msg = f"unknown {label.lower()} id {value!r}: not in {file}"
                    self.problems.append(Problem(where, int(line), column, msg))
            else:
                if value not in self.stubs.setdefault(label, {}):
                    self.stubs[label][value] = origin
                    msg = f"{label.lower()} id {value!r} is not described: no bundle has {file}; a bare node is made"
                    self.warnings.append(Problem(where, int(line), column, msg))


def build_tables(bundles: list[tuple[str, dict[str, pa.Table]]]) -> GraphTables:
    """Merge bundles (in load order) into node and relationship tables; raise BundleError on dangling references."""
    frames = {label: _stack(bundles, spec.file.removesuffix(".csv"), spec.file) for label, spec in SCHEMA.nodes.items()}
    nodes = {
        label: _node_table(SCHEMA.nodes[label], None if f is None else _merge_nodes(f)) for label, f in frames.items()
    }
    links = {name: _stack(bundles, name, spec.file) for name, spec in SCHEMA.links.items()}
    refs = _References(nodes)
    for ref in SCHEMA.references:
        table = nodes[ref.node]
        values, origins = table.column(ref.column), pc.list_element(table.column("origins"), 0)
        if ref.when is not None:
            keep = pc.equal(table.column("subject_type"), ref.when)
            values, origins = values.filter(keep), origins.filter(keep)
        if pa.types.is_list(values.type):
            parents = pc.list_parent_indices(values)
            values, origins = pc.list_flatten(values), pc.take(origins, parents)
        refs.check(ref.target, values.combine_chunks(), origins.combine_chunks(), ref.column)
    for name, spec in SCHEMA.links.items():
        frame = links[name]
        if frame is None:
            continue
        origins = frame["_origin"].to_arrow()
        refs.check(spec.source.node, frame["from_id"].to_arrow(), origins, spec.source.column)
        refs.check(spec.target.node, frame["to_id"].to_arrow(), origins, spec.target.column)
        exploded = frame.select(["source_ids", "_origin"]).explode("source_ids").drop_nulls("source_ids")
        refs.check("Source", exploded["source_ids"].to_arrow(), exploded["_origin"].to_arrow(), "source_id")
    if refs.problems:
        raise BundleError(refs.problems)
    for label, stubs in refs.stubs.items():
        stub = pa.table({"id": list(stubs), "origins": [[f"reference from {o}"] for o in stubs.values()]})
        nodes[label] = pa.concat_tables([nodes[label], stub], promote_options="default")
    return GraphTables(nodes, _reference_rels(nodes) + _link_rels(links), refs.warnings)


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
    }
    base.update(columns)
    return RelPart(type_, source, target, pa.table(base))


def _reference_rels(nodes: dict[str, pa.Table]) -> list[RelPart]:
    parts = []
    for ref in SCHEMA.references:
        table = nodes[ref.node]
        if ref.when is not None:
            table = table.filter(pc.equal(table.column("subject_type"), ref.when))
        values = table.column(ref.column)
        if pa.types.is_list(values.type):
            parents = pc.list_parent_indices(values)
            table, values = table.take(parents), pc.list_flatten(values)
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
        source, target = (ref.target, ref.node) if ref.reverse else (ref.node, ref.target)
        parts.append(_rel(ref.rel, source, target, columns))
    return parts


def _link_rels(links: dict[str, pl.DataFrame | None]) -> list[RelPart]:
    parts = []
    for name, spec in SCHEMA.links.items():
        frame = links[name]
        if frame is None:
            frame = pl.DataFrame(
                {"from_id": [], "to_id": [], "_origin": []},
                schema={c: pl.String for c in ("from_id", "to_id", "_origin")},
            )
        table = frame.to_arrow()
        n = table.num_rows
        columns: dict[str, pa.Array] = {
            "from": table.column("from_id").cast(pa.string()),
            "to": table.column("to_id").cast(pa.string()),
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
            "_origin",
            "valid_from",
            "valid_to",
            "source_ids",
            *(p.name for p in spec.properties),
        }
        for extra in sorted(c for c in table.column_names if c not in known):
            columns[extra] = table.column(extra).cast(pa.string())
        parts.append(_rel(spec.rel, spec.source.node, spec.target.node, columns))
    return parts
