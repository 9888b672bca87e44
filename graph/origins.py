"""Where each record came from: an origin string per row (`bundle/file:line (format record, loaded day)`),
and the origin of each node and relationship made from it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

LOADED = "_loaded_at"  # column of every canonical table: the day its bundle was read (UTC, ISO 8601)
ORIGIN = re.compile(r"^(.*):(\d+)(?: \(.*\))?$")


def row_origins(table: pa.Table, bundle: str, file: str) -> pa.Array:
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


def node_origin(table: pa.Table, rows: pa.Array | None) -> Callable[[int], str]:
    origins = table.column("origins")
    return lambda i: origins[i if rows is None else rows[i].as_py()].as_py()[0]


def link_origin(bundle: str, file: str, table: pa.Table, rows: pa.Array | None = None) -> Callable[[int], str]:
    lines = table.column("_line")
    return lambda i: f"{bundle}/{file}:{lines[i if rows is None else rows[i].as_py()].as_py()}"
