"""Between the bundles' tables and resolution: the records of one label (the last non-empty value of each field,
over every bundle), and the tables rewritten so that every record of one real thing carries one id."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.graph.schema import SCHEMA
from supplygraph.loaders.resolve.features import strong_keys

Bundles = list[tuple[str, dict[str, pa.Table]]]
WANTED = ("name", "country", "address", "street_address", "city", "locality", "postal_code", "lat", "lng", "os_id",
          "lei", "identifier_scheme", "identifier_id", "registration_numbers", "license_no", "source_format",
          "brand_id", "model")  # fmt: skip


def one_group(bundles: Bundles, label: str) -> bool:
    """Whether every record of `label` is in one group (one bundle has them, none from a loader known only by name):
    then `records` would find nothing to match, and is not built (a dict per record)."""
    stem = SCHEMA.nodes[label].file.removesuffix(".csv")
    tables = [tables[stem] for _bundle, tables in bundles if stem in tables]
    return len(tables) < 2 and not any("source_format" in t.column_names for t in tables)


def records(bundles: Bundles, label: str) -> dict[str, dict[str, Any]]:
    """Original id -> what resolution needs to know about it (the last non-empty value of each field)."""
    stem = SCHEMA.nodes[label].file.removesuffix(".csv")
    out: dict[str, dict[str, Any]] = {}
    for order, (_bundle, tables) in enumerate(bundles):
        table = tables.get(stem)
        if table is None:
            continue
        cols = {c: table.column(c).to_pylist() for c in WANTED if c in table.column_names}
        for i, rid in enumerate(table.column("id").to_pylist()):
            rec = out.setdefault(rid, {"id": rid, "order": order, "names": [], "group": f"{order}"})
            for c, values in cols.items():
                if values[i] is not None:
                    rec[c] = values[i]
            if rec.get("name") and rec["name"] not in rec["names"]:
                rec["names"].append(rec["name"])
            rec["group"] = f"{order}"
    for rid, rec in out.items():  # a loader's record known only by name may be a duplicate within its input
        if "source_format" in rec and not strong_keys(label, rec):
            rec["group"] = f"{rec['order']}:{rid}"
    return out


def canonical(members: list[dict[str, Any]]) -> str:
    """The id a merged node keeps: the user's own bundle id first, then the earliest loaded."""
    return min(members, key=lambda r: ("source_format" in r, r["order"], r["id"]))["id"]


def replace_ids(column: pa.ChunkedArray | pa.Array, mapping: dict[str, str]) -> pa.Array:
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_list(column.type):
        flat = replace_ids(pc.list_flatten(column), mapping)
        return pa.ListArray.from_arrays(column.offsets, flat, mask=pc.is_null(column))
    keys = pa.array(list(mapping), pa.string())
    index = pc.index_in(column, value_set=keys)
    new = pc.take(pa.array(list(mapping.values()), pa.string()), index)
    return pc.if_else(pc.is_null(index), column, new)


def rewrite(bundles: Bundles, label: str, mapping: dict[str, str], extra: dict[str, dict[str, str]]) -> Bundles:
    stem = SCHEMA.nodes[label].file.removesuffix(".csv")
    refs = [r for r in SCHEMA.references if r.target == label]
    out: Bundles = []
    for bundle, tables in bundles:
        tables = dict(tables)
        if stem in tables:
            table = tables[stem]
            ids = replace_ids(table.column("id"), mapping)
            table = table.set_column(table.column_names.index("id"), "id", ids)
            for col in ("merged_ids", "name_variants"):
                values = pa.array([extra.get(i, {}).get(col) for i in ids.to_pylist()], pa.string())
                if col in table.column_names:
                    table = table.drop_columns([col])
                table = table.append_column(col, values)
            tables[stem] = table
        for ref in refs:
            ref_stem = SCHEMA.nodes[ref.node].file.removesuffix(".csv")
            if ref_stem in tables and ref.column in tables[ref_stem].column_names:
                t = tables[ref_stem]
                col = t.column(ref.column)
                new = replace_ids(col, mapping)
                if ref.when is not None:
                    keep = pc.equal(t.column("subject_type"), ref.when)
                    new = pc.if_else(pc.fill_null(keep, False), new, col.combine_chunks())
                tables[ref_stem] = t.set_column(t.column_names.index(ref.column), ref.column, new)
        for name, link in SCHEMA.links.items():
            if name not in tables:
                continue
            t = tables[name]
            for end, col in ((link.source, "from_id"), (link.target, "to_id")):
                if end.node == label:
                    t = t.set_column(t.column_names.index(col), col, replace_ids(t.column(col), mapping))
            tables[name] = t
        out.append((bundle, tables))
    return out
