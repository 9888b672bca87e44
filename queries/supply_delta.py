"""The supply walk's arrays of a generation made by an incremental load, updated from those of the generation it was
copied from and the supply links the change removed and added, instead of read back from the whole graph.

The previous arrays are memory-mapped; the links the change removed are found among them (each one row alike in
every column), the added ones appended, and the whole put in queries/link_order.py's order again (a stable sort of
nearly sorted keys) and written by the same function a full build uses: the result equals, byte for byte, the
arrays a read-back of the new generation builds. An incremental load adds and removes no factory, so the factory
codes stay; a change the arrays cannot take (an end that has no code, a removed link not found) gets None, and
the caller reads the graph back instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
from supplygraph.queries.link_order import link_order
from supplygraph.queries.sorted_keys import SortedKeys, ranges
from supplygraph.queries.supply_walk import NEVER_AFTER, NEVER_BEFORE, day_numbers, ordered_supply_parts, single

FACTORY_PARTS = ("factory_keys", "factory_ids", "factory_details")  # the same in both generations


class Links:
    """Supply links of a change as the walk keeps them: buyer and supplier codes, validity days, sources."""

    def __init__(self, keys: SortedKeys, table: pa.Table) -> None:
        self.buyer = keys.codes(table.column("buyer").to_pylist())
        self.supplier = keys.codes(table.column("supplier").to_pylist())
        self.valid_from = day_numbers(table.column("valid_from"), NEVER_BEFORE)
        self.valid_to = day_numbers(table.column("valid_to"), NEVER_AFTER)
        self.sources = table.column("sources")
        self.known = bool((self.buyer >= 0).all() and (self.supplier >= 0).all())


def updated_supply_parts(old: Mapping[str, Any], added: pa.Table, removed: pa.Table) -> dict[str, Any] | None:
    """The supply_* parts after removing the links `removed` and adding `added` (tables with the columns of
    cypher.ALL_SUPPLY_LINKS: buyer, supplier, valid_from, valid_to, sources) to the parts `old`; None when they
    cannot be updated."""
    keys = SortedKeys(old["factory_keys"])
    plus, minus = Links(keys, added), Links(keys, removed)
    if not plus.known or not minus.known:
        return None
    arrays = {name: np.asarray(old[f"supply_{name}"]) for name in ("buyer", "supplier", "from", "to")}
    count, more = len(arrays["buyer"]), len(plus.buyer)
    old_sources = single(old["supply_sources"].column("sources"))
    gone = _positions(old, old_sources, minus)
    if gone is None:
        return None
    every = pa.chunked_array([old_sources, *plus.sources.cast(old_sources.type).chunks], type=old_sources.type)
    extra = {"buyer": plus.buyer, "supplier": plus.supplier, "from": plus.valid_from, "to": plus.valid_to}
    joined = {name: np.concatenate([a, extra[name].astype(a.dtype)]) for name, a in arrays.items()}
    rows = _merged(arrays, joined, gone, every)  # row of `joined` (old rows, then the added) at each new position
    column = {name: a[rows] for name, a in joined.items()}
    return ordered_supply_parts(
        len(keys),
        column["buyer"],
        column["supplier"],
        column["from"],
        column["to"],
        every.take(pa.array(rows)),
        _up_order(np.asarray(old["supply_up_order"]), rows, count + more, column["supplier"]),
    )


def _merged(old: dict[str, np.ndarray], joined: dict[str, np.ndarray], gone: np.ndarray, every: pa.ChunkedArray) -> np.ndarray:
    """The rows (of the old rows followed by the added ones) in queries/link_order.py's order, less those `gone`.
    The old rows are in that order already: only the added rows and the old rows of the same buyer and supplier
    are sorted (old before added, so alike rows keep their order), then put in their places by a binary search."""
    count = len(old["buyer"])
    pair = (old["buyer"].astype(np.int64) << 32) | old["supplier"].astype(np.int64)
    added_pair = (joined["buyer"][count:].astype(np.int64) << 32) | joined["supplier"][count:].astype(np.int64)
    pairs = np.unique(added_pair)
    start, stop = np.searchsorted(pair, pairs, "left"), np.searchsorted(pair, pairs, "right")
    lengths = stop - start
    same_pair = np.repeat(start - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
    keep = np.ones(count, dtype=bool)
    keep[gone] = False
    sorted_again = np.concatenate([same_pair[keep[same_pair]], np.arange(count, len(joined["buyer"]))])
    unmoved = keep
    unmoved[same_pair] = False
    buyer, supplier, valid_from, valid_to = (joined[name][sorted_again] for name in ("buyer", "supplier", "from", "to"))
    order = link_order(buyer, supplier, valid_from, valid_to, lambda at: every.take(pa.array(sorted_again[at])))
    moved = sorted_again[order]
    moved_pair = np.concatenate([pair, added_pair])[moved]
    base = np.flatnonzero(unmoved)
    return np.insert(base, np.searchsorted(pair[base], moved_pair), moved)


def _up_order(old_up: np.ndarray, rows: np.ndarray, size: int, supplier: np.ndarray) -> np.ndarray:
    """The new positions sorted by supplier, then position (what a stable argsort of `supplier` gives), from the old
    ones: old rows keep their relative order, so only the added rows are placed, by a binary search."""
    position = np.full(size, -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    kept = position[old_up]
    kept = kept[kept >= 0]
    added = position[len(old_up):]
    total = len(rows)
    key = supplier[kept].astype(np.int64) * total + kept
    added_key = np.sort(supplier[added].astype(np.int64) * total + added)
    if len(key) > 1 and not (key[1:] > key[:-1]).all():
        return np.argsort(supplier, kind="stable")  # alike rows of one supplier swapped: not met, but allowed
    return np.insert(kept, np.searchsorted(key, added_key), added_key % total)


def _positions(old: Mapping[str, Any], old_sources: pa.Array, minus: Links) -> np.ndarray | None:
    """One row of the old arrays alike in every column for each removed link (distinct rows); None when one has
    none."""
    if not len(minus.buyer):
        return np.array([], dtype=np.int64)
    at, owner = ranges(np.asarray(old["supply_offsets"]), minus.buyer)  # every link of each removed link's buyer
    alike = (
        (np.asarray(old["supply_supplier"])[at] == minus.supplier[owner])
        & (np.asarray(old["supply_from"])[at] == minus.valid_from[owner])
        & (np.asarray(old["supply_to"])[at] == minus.valid_to[owner])
    )
    at, owner = at[alike], owner[alike]
    found = old_sources.take(pa.array(at)).to_pylist()
    wanted = minus.sources.to_pylist()
    taken: set[int] = set()
    out = np.full(len(minus.buyer), -1, dtype=np.int64)
    for position, link, sources in zip(at.tolist(), owner.tolist(), found, strict=True):
        if out[link] < 0 and position not in taken and sources == wanted[link]:
            out[link] = position
            taken.add(position)
    return None if (out < 0).any() else out
