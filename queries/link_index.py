"""In-memory indexes of the wide links, for a graph that does not change between loads.

An embedded generation is immutable, so its supply links, placements, factory details and
findings can be read once (by named Cypher, see queries/cypher.py) into arrays and answered
from memory: LadybugDB evaluates `id IN $list` by scanning, which at 100k factories costs
hundreds of milliseconds per exposure step. Date filters run vectorised over the arrays.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

EPOCH = date(1970, 1, 1)
NEVER_BEFORE = np.iinfo(np.int32).min
NEVER_AFTER = np.iinfo(np.int32).max


def day_numbers(column: pa.ChunkedArray | pa.Array, missing: int) -> np.ndarray:
    if pa.types.is_null(column.type) or pa.types.is_string(column.type):  # no dates at all
        return np.full(len(column), missing, dtype=np.int32)
    as_int = pc.cast(column, pa.int32()) if pa.types.is_date(column.type) else column
    return np.asarray(pc.fill_null(as_int, missing).to_numpy(zero_copy_only=False), dtype=np.int32)


def gather(offsets: np.ndarray, order: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The links of each key code in `keys` (CSR `offsets` over `order`): (link ids, position of its key)."""
    starts, lengths = offsets[keys], offsets[keys + 1] - offsets[keys]
    total = int(lengths.sum())
    position = np.repeat(np.arange(len(keys)), lengths)
    return order[np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(total)], position


class LinkTable:
    """Links grouped by their `key` end, with validity days and source ids."""

    def __init__(self, table: pa.Table, key: str, other: str) -> None:
        encoded = pc.dictionary_encode(table.column(key).combine_chunks())
        codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        self.index = {k: i for i, k in enumerate(encoded.dictionary.to_pylist())}
        self.order = np.argsort(codes, kind="stable")
        counts = np.bincount(codes, minlength=len(self.index))
        self.offsets = np.concatenate([[0], np.cumsum(counts)])
        # Arrow arrays, not numpy object arrays: a million Python strings held in containers would
        # make every full garbage collection walk them.
        self.keys = table.column(key).combine_chunks()
        self.others = table.column(other).combine_chunks()
        self.sources = table.column("sources").combine_chunks()
        self.valid_from = day_numbers(table.column("valid_from"), NEVER_BEFORE)
        self.valid_to = day_numbers(table.column("valid_to"), NEVER_AFTER)

    def active_links(self, keys: Sequence[str], as_of: date) -> list[tuple[int, tuple[str, str, Any]]]:
        """(row number, (key, other, sources)) of each active link."""
        idx = np.array([self.index[k] for k in keys if k in self.index], dtype=np.int64)
        edges, _ = gather(self.offsets, self.order, idx)
        if not len(edges):
            return []
        day = (as_of - EPOCH).days
        edges = edges[(self.valid_from[edges] <= day) & (self.valid_to[edges] >= day)]
        take = pa.array(edges)
        columns = (self.keys.take(take), self.others.take(take), self.sources.take(take))
        return list(zip(edges.tolist(), zip(*(c.to_pylist() for c in columns), strict=True), strict=True))

    def active(self, keys: Sequence[str], as_of: date) -> list[tuple[str, str, Any]]:
        """(key, other, sources) of each active link."""
        return [link for _row, link in self.active_links(keys, as_of)]


class SupplyWalk:
    """Supply links over one code space of factory ids, walked a whole tier at a time with numpy.

    Codes are the ranks of the ids in sorted order, so comparing codes compares ids.
    """

    def __init__(self, table: pa.Table) -> None:
        buyers = table.column("buyer").combine_chunks()
        suppliers = table.column("supplier").combine_chunks()
        ids = pc.unique(pa.concat_arrays([buyers.cast(pa.string()), suppliers.cast(pa.string())]))
        ids = ids.take(pc.sort_indices(ids))
        self.ids: list[str] = ids.to_pylist()
        self.code = {k: i for i, k in enumerate(self.ids)}
        buyer_codes = np.asarray(pc.index_in(buyers, value_set=ids).to_numpy(zero_copy_only=False), dtype=np.int64)
        self.supplier = np.asarray(
            pc.index_in(suppliers, value_set=ids).to_numpy(zero_copy_only=False), dtype=np.int64
        )
        self.buyer = buyer_codes
        self.order, self.offsets = grouped_order(buyer_codes, len(self.ids))
        self.up_order, self.up_offsets = grouped_order(self.supplier, len(self.ids))  # the same links by supplier
        self.sources = table.column("sources").combine_chunks()
        self.valid_from = day_numbers(table.column("valid_from"), NEVER_BEFORE)
        self.valid_to = day_numbers(table.column("valid_to"), NEVER_AFTER)

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
        day = (as_of - EPOCH).days
        visited = np.zeros(len(self.ids), dtype=bool)
        ranked = [(rank, self.code[f]) for rank, f in enumerate(start) if f in self.code]
        frontier = np.array([c for _, c in ranked], dtype=np.int64)  # codes, in route order
        visited[frontier] = True
        stop_at = None
        if stop:
            stop_at = np.full(len(self.ids), np.iinfo(np.int32).max, dtype=np.int32)
            code = self.code
            known = [(code[f], t) for f, t in stop.items() if f in code]  # a dict lookup each: no hash table built
            if known:
                codes, at = zip(*known, strict=True)
                stop_at[np.array(codes, dtype=np.int64)] = np.array(at, dtype=np.int32)
        out: list[list[tuple[str, str, list[Any]]]] = []
        for _tier in range(2, depth + 1):
            if stop_at is not None:
                frontier = frontier[stop_at[frontier] > _tier - 1]
            if not len(frontier):
                break
            edges, rank = gather(self.offsets, self.order, frontier)
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
            ids = self.ids
            out.append(
                [
                    (ids[s], ids[b], sources[lo:hi])
                    for s, b, lo, hi in zip(
                        supplier[starts_of].tolist(),
                        frontier[rank[starts_of]].tolist(),
                        starts_of.tolist(),
                        ends_of.tolist(),
                        strict=True,
                    )
                ]
            )
            frontier = supplier[starts_of]
            visited[frontier] = True
        return out


    def upstream(self, targets: Iterable[str], hops: int, as_of: date) -> set[str]:
        """The factories from which a buyer -> supplier walk of at most `hops` active links reaches a target."""
        day = (as_of - EPOCH).days
        reached = set(targets)
        seen = np.zeros(len(self.ids), dtype=bool)
        frontier = np.unique(np.array([self.code[t] for t in reached if t in self.code], dtype=np.int64))
        seen[frontier] = True
        for _hop in range(hops):
            edges, _ = gather(self.up_offsets, self.up_order, frontier)
            edges = edges[(self.valid_from[edges] <= day) & (self.valid_to[edges] >= day)]
            buyers = self.buyer[edges]
            frontier = np.unique(buyers[~seen[buyers]])
            if not len(frontier):
                break
            seen[frontier] = True
        ids = self.ids
        reached.update(ids[c] for c in np.flatnonzero(seen).tolist())
        return reached


def grouped_order(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions sorted by code, and where each code's run starts (compressed sparse rows): the rows of
    code c are order[offsets[c]:offsets[c + 1]]."""
    return np.argsort(codes, kind="stable"), np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=size))])


class LinkIndex:
    """Everything the exposure walk reads in bulk, for one immutable generation."""

    def __init__(
        self,
        supply: pa.Table,
        placements: pa.Table,
        agency_links: pa.Table,
        factories: pa.Table,
        agencies: pa.Table,
        findings: pa.Table,
        affiliates: pa.Table,
        purchases_direct: pa.Table,
        purchases_framework: pa.Table,
        assembly: pa.Table,
        products: pa.Table,
        brand_sites: pa.Table,
    ) -> None:
        self.affiliates = {row["id"]: row for row in affiliates.to_pylist()}
        self.direct = _by_affiliate(purchases_direct)
        self.framework = _by_affiliate(purchases_framework)
        self.assembly = LinkTable(assembly, "product", "factory")
        self.products = {row["id"]: row for row in products.to_pylist()}
        self.brand_sites = LinkTable(brand_sites, "brand", "factory")
        kinds = (brand_sites.column("category").to_pylist(), brand_sites.column("role").to_pylist())
        self.site_kinds = list(zip(*kinds, strict=True))
        self.listing = LinkTable(brand_sites, "factory", "brand")  # for the reverse questions
        self.supply_walk = SupplyWalk(supply)
        self.placements = LinkTable(placements, "factory", "agency")
        self.subagents = LinkTable(agency_links, "agency", "subagent")
        self.recruiters = LinkTable(agency_links, "subagent", "agency")  # for the reverse questions
        self.placing = LinkTable(placements, "agency", "factory")
        self.factories = {row["id"]: row for row in factories.to_pylist()}
        self.agencies = {row["id"]: row for row in agencies.to_pylist()}
        self.findings: dict[str, dict[str, list[dict[str, Any]]]] = {}  # subject type -> subject id -> rows
        for row in findings.to_pylist():
            self.findings.setdefault(row["subject_type"], {}).setdefault(row["subject_id"], []).append(row)

    def purchases(self, affiliate: str, as_of: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """What `affiliate` buys on `as_of`: through its active contracts, and through active call-offs
        of its active frameworks (the rows of cypher.PURCHASES_DIRECT and PURCHASES_FRAMEWORK)."""
        direct = [r for r in self.direct.get(affiliate, ()) if _running(r["start_date"], r["end_date"], as_of)]
        framework = [
            r
            for r in self.framework.get(affiliate, ())
            if _running(r["framework_start"], r["framework_end"], as_of)
            and _running(r["start_date"], r["end_date"], as_of)
        ]
        return direct, framework

    def brand_sites_of(self, brands: Sequence[str], as_of: date) -> list[dict[str, Any]]:
        """The rows of cypher.BRAND_SITES_OF, from memory."""
        out = []
        for edge, (brand, factory, sources) in self.brand_sites.active_links(brands, as_of):
            category, role = self.site_kinds[edge]
            out.append({"brand": brand, "factory": factory, "category": category, "role": role, "sources": sources})
        return out

    def buyers_of_brands(self, brands: set[str], as_of: date) -> set[str]:
        """Affiliates buying, on `as_of`, an item whose brand is one of `brands`."""
        if not brands:
            return set()
        out = set()
        for affiliate in set(self.direct) | set(self.framework):
            direct, framework = self.purchases(affiliate, as_of)
            if any(r["brand"] in brands for r in (*direct, *framework)):
                out.add(affiliate)
        return out

    def factories_reaching(self, agency: str, hops: int, as_of: date) -> set[str]:
        """Factories at which `agency` works on `as_of`: it places workers there, or an agency that does
        recruits through it within `hops` sub-agent links."""
        agencies, frontier = {agency}, [agency]
        for _hop in range(hops):
            frontier = [a for _, a, _ in self.recruiters.active(frontier, as_of) if a not in agencies]
            agencies.update(frontier)
        return {f for _, f, _ in self.placing.active(sorted(agencies), as_of)}

    def factories_operated_by(self, company: str) -> set[str]:
        return {f for f, row in self.factories.items() if row["operator"] == company}

    def open_findings(self, subject_type: str, ids: Sequence[str], as_of: date) -> list[dict[str, Any]]:
        on = self.findings.get(subject_type, {})
        out = []
        for subject in sorted(on.keys() & ids):  # few subjects have findings: intersect first, in C
            for row in on[subject]:
                if finding_open(row, as_of):
                    out.append(row)
        return out


def _by_affiliate(table: pa.Table) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in table.to_pylist():
        for key in ("start_date", "end_date", "framework_start", "framework_end"):
            if isinstance(row.get(key), str):
                row[key] = date.fromisoformat(row[key])
        grouped.setdefault(row.pop("affiliate"), []).append(row)
    return grouped


def _running(start: date | None, end: date | None, as_of: date) -> bool:
    """The spec's contract 'active on day D' (the same predicate as cypher.CONTRACT_ACTIVE)."""
    return (start is None or start <= as_of) and (end is None or end >= as_of)


def finding_open(row: dict[str, Any], as_of: date) -> bool:
    """The spec's 'open on day D' (the same predicate as cypher.FINDING_OPEN)."""
    reported, closed = row.get("reported_on"), row.get("closed_on")
    if reported is not None and reported > as_of:
        return False
    if closed is not None:
        return bool(closed > as_of)
    return row.get("status") != "remediated"
