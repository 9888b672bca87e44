"""The relationships of a graph: one per reference column (a contract's affiliate_id: HOLDS) and one per row of
a link file (supply.csv: SUPPLIES), each with its validity, sources and origin (graph/origins.py: a link's
`origin` names its file, `origin_line` its line)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.graph.arrow_files import spilled
from supplygraph.graph.origins import LOADED, link_origins
from supplygraph.graph.schema import SCHEMA, LinkType, Reference, arrow_type

STRING_LIST = pa.list_(pa.string())


@dataclass
class RelPart:
    """The relationships of one type between one pair of labels: columns from, to, then properties."""

    type: str
    source: str
    target: str
    table: pa.Table


def bundle_tables(bundles: list[tuple[str, dict[str, pa.Table]]], name: str) -> list[tuple[str, pa.Table]]:
    """(bundle, table) of every bundle that has the table `name`, in load order."""
    return [(bundle, tables[name]) for bundle, tables in bundles if name in tables]


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
        "origin_line": columns.pop("origin_line", pa.nulls(n, pa.int64())),
    }
    base.update(columns)
    return RelPart(type_, source, target, pa.table(base))


def reference_rels(nodes: dict[str, pa.Table]) -> list[RelPart]:
    parts = []
    for ref in SCHEMA.references:
        table = nodes[ref.node]
        source, target = (ref.target, ref.node) if ref.reverse else (ref.node, ref.target)
        parts.append(RelPart(ref.rel, source, target, spilled(table, partial(_reference_piece, ref))))
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


def link_rels(bundles: list[tuple[str, dict[str, pa.Table]]]) -> list[RelPart]:
    parts = []
    empty = pa.table({"from_id": pa.array([], pa.string()), "to_id": pa.array([], pa.string())})
    for name, spec in SCHEMA.links.items():
        pieces = [
            spilled(table, partial(_link_piece, spec, bundle=bundle))
            for bundle, table in bundle_tables(bundles, name)
        ]
        pieces = pieces or [_link_piece(spec, empty.append_column("_line", pa.array([], pa.int32())), "")]
        base = pieces[0].column_names[: 7 + len(spec.properties)]
        extras = sorted({c for p in pieces for c in p.column_names} - set(base))
        table = pa.concat_tables(pieces, promote_options="default").select([*base, *extras])
        parts.append(RelPart(spec.rel, spec.source.node, spec.target.node, table))
    return parts


def _link_piece(spec: LinkType, table: pa.Table, bundle: str) -> pa.Table:
    if not spec.target.required:  # a contract item without a product is an Item node, not a link (loaders/contract_items.py)
        table = table.filter(pc.is_valid(table.column("to_id")))
    n = table.num_rows
    origin, origin_line = link_origins(table, bundle, spec.file)
    columns: dict[str, pa.Array] = {
        "from": table.column("from_id").cast(pa.string()),
        "to": table.column("to_id").cast(pa.string()),
        "origin": origin,
        "origin_line": origin_line,
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
