"""String keys found by binary search in a sorted array of fixed-width bytes, and table rows grouped by such a
key (compressed sparse rows). Both are plain arrays, so they can be memory-mapped from a generation's link index
files (queries/link_files.py): a new process looks keys up at once, without building a hash table first.

Keys sort as bytes of UTF-8, which is the order of Python's `sorted` on the strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def key_array(sorted_unique: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Sorted distinct strings as a fixed-width bytes array (the width of the longest)."""
    values = sorted_unique.cast(pa.string())
    longest = pc.max(pc.binary_length(values)).as_py() if len(values) else 0
    raw = values.cast(pa.binary()).to_numpy(zero_copy_only=False)
    return np.array(raw, dtype=f"S{max(1, longest or 0)}")


def ranges(offsets: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions offsets[c]..offsets[c + 1] of every code in `codes`, in that order, and which code (its position
    in `codes`) each belongs to."""
    starts = offsets[codes].astype(np.int64)
    lengths = offsets[codes + 1].astype(np.int64) - starts
    total = int(lengths.sum())
    owner = np.repeat(np.arange(len(codes)), lengths)
    return np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(total), owner


class SortedKeys:
    """Sorted distinct keys; a key's code is its rank."""

    def __init__(self, keys: np.ndarray) -> None:
        self.keys = keys
        self.width = keys.dtype.itemsize

    def __len__(self) -> int:
        return len(self.keys)

    def codes(self, wanted: Iterable[str]) -> np.ndarray:
        """The code of each key of `wanted`, -1 for a key not there."""
        query_strings = pa.array(wanted if isinstance(wanted, list | tuple) else list(wanted), type=pa.string())
        out = np.full(len(query_strings), -1, dtype=np.int64)
        if not len(query_strings) or not len(self.keys):
            return out
        # a longer key cannot be there, and would match a shorter one once cut to the width (as would one ending
        # in NUL, which fixed-width bytes drop)
        lengths = pc.binary_length(query_strings).to_numpy(zero_copy_only=False)
        fits = (lengths <= self.width) & ~pc.ends_with(query_strings, "\x00").to_numpy(zero_copy_only=False)
        query = query_strings.cast(pa.binary()).to_numpy(zero_copy_only=False).astype(self.keys.dtype)
        at = np.minimum(np.searchsorted(self.keys, query), len(self.keys) - 1)
        hit = fits & (self.keys[at] == query)
        out[hit] = at[hit]
        return out


class Grouped:
    """The rows of a table sorted by one key column: the rows of key code k are rows[offsets[k]:offsets[k + 1]],
    in the order the table had them."""

    def __init__(self, keys: np.ndarray, offsets: np.ndarray, rows: pa.Table) -> None:
        self.keys = SortedKeys(keys)
        self.offsets = offsets
        self.rows = rows

    def positions(self, wanted: Sequence[str]) -> np.ndarray:
        """Row positions of the keys `wanted`, in that order (unknown keys have none)."""
        codes = self.keys.codes(wanted)
        return ranges(self.offsets, codes[codes >= 0])[0]

    def take(self, positions: np.ndarray, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
        if not len(positions):
            return []
        table = self.rows if columns is None else self.rows.select(list(columns))
        return table.take(pa.array(positions, type=pa.int64())).to_pylist()  # type: ignore[no-any-return]

    def rows_of(self, wanted: Sequence[str]) -> list[dict[str, Any]]:
        return self.take(self.positions(wanted))

    def by_key(self, wanted: Sequence[str], key: str) -> dict[str, dict[str, Any]]:
        """The first row of each key of `wanted` that is there, by key (for tables of one row per key)."""
        codes = self.keys.codes(wanted)
        codes = codes[codes >= 0]
        return {row[key]: row for row in self.take(self.offsets[codes].astype(np.int64))}


def grouped_parts(table: pa.Table, key: str) -> tuple[np.ndarray, np.ndarray, pa.Table]:
    """(sorted keys, offsets, rows sorted) of `table` grouped by its column `key`; rows without a key are left out
    (no key finds them). The rows of one key are sorted by their other plain columns in turn, so the parts do not
    depend on the order in which a store returned the rows (LadybugDB's parallel scans return them in an order
    that changes from run to run); every bulk read has a column that tells its rows apart, or rows alike."""
    table = table.filter(pc.is_valid(table.column(key))) if table.num_rows else table
    table = table.set_column(table.column_names.index(key), key, table.column(key).cast(pa.string()))
    ties = [f.name for f in table.schema if f.name != key and not pa.types.is_nested(f.type) and not pa.types.is_null(f.type)]
    table = table.take(pc.sort_indices(table, sort_keys=[(c, "ascending") for c in [key, *ties]]))
    column = table.column(key).combine_chunks()
    unique = pc.unique(column)
    codes = np.asarray(pc.index_in(column, value_set=unique).to_numpy(zero_copy_only=False), dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(unique)))]).astype(np.int64)
    return key_array(unique), offsets, table.combine_chunks()
