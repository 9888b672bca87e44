"""The order of the supply walk's links: by buyer, then supplier (their codes, which sort as the ids do), then the
days they are valid from and to, then their sources. Two links in the same place of that order are alike in every
column the walk keeps, so the arrays do not depend on the order in which the store returned the rows: an index
updated from a change (queries/supply_delta.py) equals, byte for byte, one built by reading the whole graph again.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SourcesOf = Callable[[np.ndarray], pa.Array]  # the sources of the given rows


def link_order(
    buyer: np.ndarray, supplier: np.ndarray, valid_from: np.ndarray, valid_to: np.ndarray, sources_of: SourcesOf
) -> np.ndarray:
    """The positions of the links in that order. Only the runs of parallel links (same buyer and supplier, rare)
    are sorted by days and sources; the rest is one stable sort of a 64-bit key (fast on nearly sorted input)."""
    pair = (np.asarray(buyer, dtype=np.int64) << 32) | np.asarray(supplier, dtype=np.int64)
    order = np.argsort(pair, kind="stable")
    ordered = pair[order]
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return order
    in_run = np.zeros(len(order), dtype=bool)
    in_run[1:] |= same
    in_run[:-1] |= same
    at = np.flatnonzero(in_run)
    rows = order[at]
    sources = sources_of(rows)
    if isinstance(sources, pa.ChunkedArray):
        sources = sources.combine_chunks()
    key = pa.table({"pair": ordered[at], "from": np.asarray(valid_from)[rows], "to": np.asarray(valid_to)[rows],
                    **_sources_key(sources)})  # fmt: skip
    within = pc.sort_indices(key, sort_keys=[(c, "ascending") for c in key.column_names]).to_numpy()
    order[at] = rows[within]  # each run keeps its place: the subset is sorted by pair first
    return order


def _sources_key(sources: pa.Array) -> dict[str, pa.Array]:
    """Sort columns that order the sources (ids joined by "|", graph/relationships.py) by content, nulls first."""
    return {"listed": pc.is_valid(sources), "value": pc.fill_null(sources.cast(pa.string()), "")}
