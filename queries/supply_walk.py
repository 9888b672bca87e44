"""The supply links of one generation as arrays over one code space of factory ids, walked a whole tier at a time
with numpy: links sorted by buyer (compressed sparse rows), with their supplier, validity days and sources, and
the same links by supplier for walking upstream. The arrays are parts of the link index files
(queries/link_files.py), so the walk reads them memory-mapped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.queries.link_order import link_order
from supplygraph.queries.sorted_keys import SortedKeys, key_array, ranges

EPOCH = date(1970, 1, 1)
NEVER_BEFORE = np.iinfo(np.int32).min
NEVER_AFTER = np.iinfo(np.int32).max


def day_numbers(column: pa.ChunkedArray | pa.Array, missing: int) -> np.ndarray:
    if pa.types.is_null(column.type) or pa.types.is_string(column.type):  # no dates at all
        return np.full(len(column), missing, dtype=np.int32)
    as_int = pc.cast(column, pa.int32()) if pa.types.is_date(column.type) else column
    return np.asarray(pc.fill_null(as_int, missing).to_numpy(zero_copy_only=False), dtype=np.int32)


def day_number(as_of: date) -> int:
    return (as_of - EPOCH).days


def supply_parts(supply: pa.Table, factory_ids: pa.ChunkedArray) -> dict[str, Any]:
    """The arrays of the supply walk: every factory id of `factory_ids` and of the links gets a code (its rank)."""
    buyers = supply.column("buyer").cast(pa.string())
    suppliers = supply.column("supplier").cast(pa.string())
    every = [*buyers.chunks, *suppliers.chunks, *factory_ids.cast(pa.string()).chunks]
    ids = pc.unique(pa.chunked_array(every, type=pa.string()).combine_chunks())
    ids = ids.filter(pc.is_valid(ids)).take(pc.sort_indices(ids))
    buyer = np.asarray(pc.index_in(buyers, value_set=ids).to_numpy(zero_copy_only=False), dtype=np.int64)
    supplier = np.asarray(pc.index_in(suppliers, value_set=ids).to_numpy(zero_copy_only=False), dtype=np.int64)
    valid_from = day_numbers(supply.column("valid_from"), NEVER_BEFORE)
    valid_to = day_numbers(supply.column("valid_to"), NEVER_AFTER)
    sources = supply.column("sources")
    order = link_order(buyer, supplier, valid_from, valid_to, lambda rows: sources.take(pa.array(rows)))
    links = ordered_supply_parts(len(ids), buyer[order], supplier[order], valid_from[order], valid_to[order],
                                 sources.take(pa.array(order)))  # fmt: skip
    return {"factory_keys": key_array(ids), "factory_ids": pa.table({"id": ids}), **links}


def ordered_supply_parts(
    size: int, buyer: np.ndarray, supplier: np.ndarray, valid_from: np.ndarray, valid_to: np.ndarray,
    sources: pa.Array | pa.ChunkedArray, up_order: np.ndarray | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The supply walk's arrays of links (over `size` factory codes) already in queries/link_order.py's order;
    `up_order`, the positions sorted by supplier (stably), when the caller has it."""
    up_order = np.argsort(supplier, kind="stable") if up_order is None else up_order
    return {
        "supply_offsets": _offsets(buyer, size),
        "supply_buyer": buyer.astype(np.int32, copy=False),
        "supply_supplier": supplier.astype(np.int32, copy=False),
        "supply_from": valid_from,
        "supply_to": valid_to,
        "supply_sources": pa.table({"sources": sources}).combine_chunks(),
        "supply_up_offsets": _offsets(supplier, size),
        "supply_up_order": up_order.astype(np.int64, copy=False),
    }


def _offsets(codes: np.ndarray, size: int) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=size))]).astype(np.int64)


def single(column: pa.ChunkedArray) -> pa.Array:
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


class SupplyWalk:
    """Supply links over one code space of factory ids: codes are the ranks of the ids in sorted order, so
    comparing codes compares ids."""

    def __init__(self, parts: dict[str, Any]) -> None:
        self.keys = SortedKeys(parts["factory_keys"])
        self.ids = single(parts["factory_ids"].column("id"))
        self.offsets = parts["supply_offsets"]
        self.buyer = parts["supply_buyer"]
        self.supplier = parts["supply_supplier"]
        self.valid_from = parts["supply_from"]
        self.valid_to = parts["supply_to"]
        self.sources = single(parts["supply_sources"].column("sources"))
        self.up_offsets = parts["supply_up_offsets"]
        self.up_order = parts["supply_up_order"]

    def id_list(self, codes: np.ndarray) -> list[str]:
        return self.ids.take(pa.array(codes, type=pa.int64())).to_pylist()  # type: ignore[no-any-return]

    def tiers(
        self, start: Sequence[str], depth: int, as_of: date, stop: dict[str, int] | None = None
    ) -> list[list[tuple[str, str, list[Any]]]]:
        """Tiers 2..depth from the tier-1 factories `start` (in route order).

        Each tier lists (supplier, buyer, sources of every link from that buyer) in the order of
        the new routes: a supplier's buyer is the first of its buyers in the previous tier's order,
        and suppliers of one buyer follow in id order. Factories already reached are skipped.
        A factory of `stop` (id -> tier) reached at that tier or later is listed but not walked on
        from: what lies beyond it is reached as early from there (a stronger basis's walk).
        """
        day = day_number(as_of)
        visited = np.zeros(len(self.keys), dtype=bool)
        codes = self.keys.codes(start)
        known = codes >= 0
        frontier = codes[known]  # codes, in route order
        frontier_ids = [f for f, k in zip(start, known.tolist(), strict=True) if k]
        visited[frontier] = True
        stop_at = None
        if stop:
            stop_at = np.full(len(self.keys), np.iinfo(np.int32).max, dtype=np.int32)
            stop_codes = self.keys.codes(stop)
            found = stop_codes >= 0
            stop_at[stop_codes[found]] = np.fromiter(stop.values(), dtype=np.int32, count=len(stop))[found]
        out: list[list[tuple[str, str, list[Any]]]] = []
        for _tier in range(2, depth + 1):
            if stop_at is not None:
                going = stop_at[frontier] > _tier - 1
                frontier = frontier[going]
                frontier_ids = [f for f, g in zip(frontier_ids, going.tolist(), strict=True) if g]
            if not len(frontier):
                break
            edges, rank = ranges(self.offsets, frontier)
            supplier = self.supplier[edges]
            keep = (self.valid_from[edges] <= day) & (self.valid_to[edges] >= day) & ~visited[supplier]
            edges, rank, supplier = edges[keep], rank[keep], supplier[keep]
            if not len(edges):
                break
            by = np.lexsort((edges, rank, supplier))  # per supplier, its best buyer's links first
            edges, rank, supplier = edges[by], rank[by], supplier[by]
            first = np.concatenate([[True], supplier[1:] != supplier[:-1]])
            group = np.cumsum(first) - 1
            kept = rank == rank[first][group]  # all parallel links from the best buyer
            edges, rank, supplier, group = edges[kept], rank[kept], supplier[kept], group[kept]
            heads = np.flatnonzero(np.concatenate([[True], group[1:] != group[:-1]]))
            new_order = np.lexsort((supplier[heads], rank[heads]))  # by buyer's route, then id
            sources = self.sources.take(pa.array(edges)).to_pylist()
            starts_of = heads[new_order]
            ends_of = np.append(heads, len(edges))[new_order + 1]
            reached = supplier[starts_of]
            reached_ids = self.id_list(reached)
            out.append(
                [
                    (s, frontier_ids[r], sources[lo:hi])
                    for s, r, lo, hi in zip(
                        reached_ids, rank[starts_of].tolist(), starts_of.tolist(), ends_of.tolist(), strict=True
                    )
                ]
            )
            frontier, frontier_ids = reached, reached_ids
            visited[frontier] = True
        return out

    def upstream(self, targets: Iterable[str], hops: int, as_of: date) -> set[str]:
        """The factories from which a buyer -> supplier walk of at most `hops` active links reaches a target."""
        day = day_number(as_of)
        reached = set(targets)
        seen = np.zeros(len(self.keys), dtype=bool)
        codes = self.keys.codes(sorted(reached))
        frontier = np.unique(codes[codes >= 0])
        seen[frontier] = True
        for _hop in range(hops):
            positions, _ = ranges(self.up_offsets, frontier)
            edges = self.up_order[positions]
            edges = edges[(self.valid_from[edges] <= day) & (self.valid_to[edges] >= day)]
            buyers = self.buyer[edges]
            frontier = np.unique(buyers[~seen[buyers]])
            if not len(frontier):
                break
            seen[frontier] = True
        reached.update(self.id_list(np.flatnonzero(seen)))
        return reached
