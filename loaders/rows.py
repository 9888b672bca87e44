"""Merging rows that describe the same thing (the same key): later rows win field by field, as OCDS merges
releases; some list columns merge as unions."""

from __future__ import annotations

import polars as pl
import pyarrow as pa


def merge_rows(table: pa.Table, keys: tuple[str, ...], unions: tuple[str, ...] = ()) -> pa.Table:
    """Rows with the same key become one: per column the last non-empty value in input order wins; in the
    `unions` columns (`|` lists) every item any row has, in the order first seen (as OCDS merges arrays by id)."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    if any(k not in frame.columns for k in keys):
        return table
    frame = frame.sort("_order")
    if not frame.select(pl.struct(list(keys)).is_duplicated().any()).item():
        return strings(frame.to_arrow())
    values = [c for c in frame.columns if c not in keys]
    merged = frame.group_by(list(keys), maintain_order=True).agg(
        [
            pl.col(c).drop_nulls().str.split("|").explode().drop_nulls().unique(maintain_order=True).str.join("|")
            if c in unions
            else pl.col(c).drop_nulls().last()
            for c in values
        ]
    )
    if unions:  # a key none of whose rows has items has none
        merged = merged.with_columns([pl.col(c).replace("", None) for c in unions if c in merged.columns])
    return strings(merged.select(frame.columns).to_arrow())


def strings(table: pa.Table) -> pa.Table:
    return pa.table({n: table.column(n).cast(pa.string()).combine_chunks() for n in table.column_names})
