"""The index of the wide links, for a graph that does not change between loads.

An embedded generation (or a completed Neo4j load) is immutable, so its supply links, placements, factory
details, purchases and findings are read once (by named Cypher, see queries/cypher.py) into arrays: rows
grouped by key (queries/sorted_keys.py) and the supply walk's arrays (queries/supply_walk.py). These parts
are written once per generation as files (queries/link_files.py) and memory-mapped by every reader, and the
steps of the exposure walk are answered from them: LadybugDB evaluates `id IN $list` by scanning, which at
100k factories costs hundreds of milliseconds per exposure step. Date filters run vectorised over the arrays.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.graph.stores.protocol import ArrowReader
from supplygraph.queries import cypher
from supplygraph.queries.sorted_keys import Grouped, grouped_parts
from supplygraph.queries.sorted_keys import ranges as ranges_of
from supplygraph.queries.supply_walk import (
    EPOCH,
    NEVER_AFTER,
    NEVER_BEFORE,
    SupplyWalk,
    day_number,
    day_numbers,
    supply_parts,
)

__all__ = ["EPOCH", "NEVER_AFTER", "NEVER_BEFORE", "LinkIndex", "day_numbers", "finding_open", "link_parts"]

# name -> (bulk read, key column, the other end of a link or None for node rows)
GROUPS: dict[str, tuple[str, str, str | None]] = {
    "assembly": (cypher.ALL_ASSEMBLY, "product", "factory"),
    "brand_sites": (cypher.ALL_BRAND_SITES, "brand", "factory"),
    "listing": (cypher.ALL_BRAND_SITES, "factory", "brand"),  # for the reverse questions
    "placements": (cypher.ALL_PLACEMENTS, "factory", "agency"),
    "placing": (cypher.ALL_PLACEMENTS, "agency", "factory"),  # for the reverse questions
    "subagents": (cypher.ALL_AGENCY_LINKS, "agency", "subagent"),
    "recruiters": (cypher.ALL_AGENCY_LINKS, "subagent", "agency"),  # for the reverse questions
    "affiliates": (cypher.ALL_AFFILIATES, "id", None),
    "products": (cypher.ALL_PRODUCTS, "id", None),
    "agencies": (cypher.ALL_AGENCIES, "id", None),
    "findings": (cypher.ALL_FINDINGS, "subject_id", None),
    "direct": (cypher.ALL_PURCHASES_DIRECT, "affiliate", None),
    "framework": (cypher.ALL_PURCHASES_FRAMEWORK, "affiliate", None),
}
DATE_KEYS = ("start_date", "end_date", "framework_start", "framework_end")
SUPPLY = "supply"  # the group of the supply walk's parts and the factory details
GROUP_READS = {name: (query,) for name, (query, _key, _other) in GROUPS.items()} | {
    SUPPLY: (cypher.ALL_SUPPLY_LINKS, cypher.ALL_FACTORIES)
}  # group -> the bulk reads its parts are made from


def part_group(part: str) -> str:
    """The group (of GROUP_READS) whose parts include `part` (a part is named `<group>_...`, else it is the supply
    walk's)."""
    return next((name for name in GROUPS if part.startswith(name + "_")), SUPPLY)


def link_parts(reads: ArrowReader, groups: Collection[str] | None = None) -> dict[str, Any]:
    """Every part of the index (or those of `groups`), from the bulk tables `reads` gives (a store, or a store's
    saved reads)."""
    tables: dict[str, pa.Table] = {}
    parts: dict[str, Any] = {}
    for name, (query, key, other) in GROUPS.items():
        if groups is not None and name not in groups:
            continue
        table = tables.get(query)
        if table is None:
            table = tables[query] = reads.run_arrow(query)
        keys, offsets, rows = grouped_parts(table, key)
        parts |= {f"{name}_keys": keys, f"{name}_offsets": offsets, f"{name}_rows": rows}
        if other is not None:
            parts[f"{name}_from"] = day_numbers(rows.column("valid_from"), NEVER_BEFORE)
            parts[f"{name}_to"] = day_numbers(rows.column("valid_to"), NEVER_AFTER)
    tables.clear()
    if groups is not None and SUPPLY not in groups:
        return parts
    factories = reads.run_arrow(cypher.ALL_FACTORIES)
    parts |= supply_parts(reads.run_arrow(cypher.ALL_SUPPLY_LINKS), factories.column("id"))
    # factory details by code: one row per code of the walk, `known` where the graph has that factory
    ids = parts["factory_ids"].column("id")
    at = pc.index_in(ids, value_set=factories.column("id").cast(pa.string()))
    details = factories.select(["id", "name", "country", "operator"]).take(pc.fill_null(at, 0)) if len(factories) else None
    known = pc.is_valid(at)
    parts["factory_details"] = pa.table(
        {c: details.column(c) if details else pa.nulls(len(ids), pa.string()) for c in ("name", "country", "operator")}
        | {"known": known}
    ).combine_chunks()
    return parts


class LinkTable:
    """Links grouped by their `key` end, with validity days and source ids."""

    def __init__(self, parts: Mapping[str, Any], name: str, key: str, other: str) -> None:
        self.group = Grouped(parts[f"{name}_keys"], parts[f"{name}_offsets"], parts[f"{name}_rows"])
        self.valid_from, self.valid_to = parts[f"{name}_from"], parts[f"{name}_to"]
        self.columns = (key, other, "sources")

    def active_positions(self, keys: Sequence[str], as_of: date) -> np.ndarray:
        edges = self.group.positions(keys)
        day = day_number(as_of)
        return edges[(self.valid_from[edges] <= day) & (self.valid_to[edges] >= day)]

    def active(self, keys: Sequence[str], as_of: date) -> list[tuple[str, str, Any]]:
        """(key, other, sources) of each active link."""
        edges = self.active_positions(keys, as_of)
        if not len(edges):
            return []
        table = self.group.rows.select(list(self.columns)).take(pa.array(edges))
        return list(zip(*(table.column(c).to_pylist() for c in self.columns), strict=True))


class LinkIndex:
    """Everything the exposure walk reads in bulk, for one immutable generation, over its parts (arrays and Arrow
    tables, memory-mapped when they come from files)."""

    def __init__(self, parts: Mapping[str, Any]) -> None:
        self.parts = parts
        groups = {n: Grouped(parts[f"{n}_keys"], parts[f"{n}_offsets"], parts[f"{n}_rows"]) for n in GROUPS}
        self.affiliate_rows, self.product_rows, self.agency_rows = groups["affiliates"], groups["products"], groups["agencies"]
        self.finding_rows, self.direct, self.framework = groups["findings"], groups["direct"], groups["framework"]
        links = {n: LinkTable(parts, n, key, str(other)) for n, (_q, key, other) in GROUPS.items() if other}
        self.assembly, self.brand_sites, self.listing = links["assembly"], links["brand_sites"], links["listing"]
        self.placements, self.placing = links["placements"], links["placing"]
        self.subagents, self.recruiters = links["subagents"], links["recruiters"]
        self.supply_walk = SupplyWalk(dict(parts))
        self.factory_details = parts["factory_details"]

    def affiliate(self, affiliate_id: str) -> dict[str, Any] | None:
        found = self.affiliate_rows.by_key([affiliate_id], "id")
        return found.get(affiliate_id)

    def products(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return self.product_rows.by_key(ids, "id")

    def agencies(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return self.agency_rows.by_key(ids, "id")

    def factories(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Details (name, country, operator) of the factories `ids` the graph has, by id."""
        codes = self.supply_walk.keys.codes(ids)
        found = codes >= 0
        rows = self.factory_details.take(pa.array(codes[found], type=pa.int64()))
        wanted = [i for i, f in zip(ids, found.tolist(), strict=True) if f]
        columns = [rows.column(c).to_pylist() for c in ("known", "name", "country", "operator")]
        return {
            i: {"id": i, "name": name, "country": country, "operator": operator}
            for i, known, name, country, operator in zip(wanted, *columns, strict=True)
            if known
        }

    def purchases(self, affiliate: str, as_of: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """What `affiliate` buys on `as_of`: through its active contracts, and through active call-offs
        of its active frameworks (the rows of cypher.PURCHASES_DIRECT and PURCHASES_FRAMEWORK)."""
        direct = [r for r in _purchase_rows(self.direct, [affiliate]) if _running(r["start_date"], r["end_date"], as_of)]
        framework = [
            r
            for r in _purchase_rows(self.framework, [affiliate])
            if _running(r["framework_start"], r["framework_end"], as_of)
            and _running(r["start_date"], r["end_date"], as_of)
        ]
        return direct, framework

    def brand_sites_of(self, brands: Sequence[str], as_of: date) -> list[dict[str, Any]]:
        """The rows of cypher.BRAND_SITES_OF, from the index."""
        edges = self.brand_sites.active_positions(brands, as_of)
        return self.brand_sites.group.take(edges, ("brand", "factory", "category", "role", "sources"))

    def buyers_of_brands(self, brands: set[str], as_of: date) -> set[str]:
        """Affiliates buying, on `as_of`, an item whose brand is one of `brands`."""
        if not brands:
            return set()
        out = set()
        direct, framework = (_purchases_of_brands(g, brands) for g in (self.direct, self.framework))
        for r in direct:
            if _running(r["start_date"], r["end_date"], as_of):
                out.add(r["affiliate"])
        for r in framework:
            if _running(r["framework_start"], r["framework_end"], as_of) and _running(r["start_date"], r["end_date"], as_of):
                out.add(r["affiliate"])
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
        at = pc.equal(self.factory_details.column("operator").cast(pa.string()), company)
        mask = pc.and_(pc.fill_null(at, False), self.factory_details.column("known"))
        return set(self.supply_walk.id_list(np.flatnonzero(mask.to_numpy(zero_copy_only=False))))

    def open_findings(self, subject_type: str, ids: Sequence[str], as_of: date) -> list[dict[str, Any]]:
        """Open findings on the subjects `ids` of `subject_type`, by subject id, each subject's in the order read."""
        group = self.finding_rows
        codes = group.keys.codes(ids)
        rows = group.take(ranges_of(group.offsets, np.unique(codes[codes >= 0]))[0])  # codes sort as the ids do
        return [r for r in rows if r["subject_type"] == subject_type and finding_open(r, as_of)]


def _purchase_rows(group: Grouped, affiliates: Sequence[str]) -> list[dict[str, Any]]:
    return [_purchase(row) for row in group.rows_of(affiliates)]


def _purchases_of_brands(group: Grouped, brands: set[str]) -> list[dict[str, Any]]:
    brand = group.rows.column("brand").cast(pa.string())
    mask = pc.fill_null(pc.is_in(brand, value_set=pa.array(sorted(brands), pa.string())), False)
    return [_purchase(row, keep_affiliate=True) for row in group.rows.filter(mask).to_pylist()]


def _purchase(row: dict[str, Any], keep_affiliate: bool = False) -> dict[str, Any]:
    for key in DATE_KEYS:
        if isinstance(row.get(key), str):
            row[key] = date.fromisoformat(row[key])
    if not keep_affiliate:
        row.pop("affiliate")
    return row


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


def gather(offsets: np.ndarray, order: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The links of each key code in `keys` (CSR `offsets` over `order`): (link ids, position of its key)."""
    positions, owner = ranges_of(offsets, keys)
    return order[positions], owner


def grouped_order(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions sorted by code, and where each code's run starts (compressed sparse rows): the rows of
    code c are order[offsets[c]:offsets[c + 1]]."""
    return np.argsort(codes, kind="stable"), np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=size))])
