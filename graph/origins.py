"""Where each record came from: an origin string per row (`bundle/file:line (format record, loaded day)`),
and the origin of each node and relationship made from it.

A relationship made from a row of a link file stores that origin in two properties: `origin` without the
line (`bundle/file (format record, loaded day)`, the same for most rows of a file, so LadybugDB stores it
once per file) and `origin_line`; `full_origin` joins them back. One made from a reference column stores
the origins of its node, joined by "|", and no line."""

from __future__ import annotations

import re
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.graph.schema import SCHEMA

LOADED = "_loaded_at"  # column of every canonical table: the day its bundle was read (UTC, ISO 8601)
ORIGIN = re.compile(r"^(.*):(\d+)(?: \(.*\))?$")
# `bundle/file` of a link file's origin (the shortest: a bundle's name may hold anything), then the rest
LINK_PLACE = re.compile(
    r"^(.*?/(?:" + "|".join(re.escape(link.file) for link in SCHEMA.links.values()) + r"))( \(.*)?$", re.DOTALL
)


def row_origins(table: pa.Table, bundle: str, file: str) -> pa.Array:
    """Where every row came from: `bundle/file:line (format record, loaded time)`, e.g.
    `acme/factories.csv:3 (bundle, loaded 2026-11-27)` or
    `tenders/contracts.csv:17 (ocds tenders.jsonl:17#/awards/0, loaded 2026-11-27)`."""
    lines = pc.cast(table.column("_line").combine_chunks(), pa.string())
    return pc.binary_join_element_wise(f"{bundle}/{file}:", lines, " (", _record(table), ")", "")


def link_origins(table: pa.Table, bundle: str, file: str) -> tuple[pa.Array, pa.Array]:
    """The `origin` (`bundle/file (format record, loaded time)`, no line) and `origin_line` of the
    relationship made from every row of a link file."""
    record = _record(table)
    if isinstance(record, pa.Scalar):
        record = pa.nulls(table.num_rows, pa.string()).fill_null(record)
    places = pc.binary_join_element_wise(f"{bundle}/{file} (", record, ")", "")
    return places, table.column("_line").combine_chunks().cast(pa.int64())


def full_origin(origin: str | None, line: int | None) -> str | None:
    """A relationship's `origin` and `origin_line` as one origin, `bundle/file:line (format record, loaded
    time)`: the line goes after the link file's name (the origin as it is when there is no line)."""
    if origin is None or line is None:
        return origin
    found = LINK_PLACE.match(origin)
    if found is None:
        return f"{origin}:{line}"
    return f"{found.group(1)}:{line}{found.group(2) or ''}"


def _record(table: pa.Table) -> pa.Array | pa.Scalar:
    """What every row is: `format record, loaded time` (`bundle` alone for a bundle's row with no day)."""
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
    return what


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
