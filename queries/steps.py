"""The steps the exposure walk takes, each one named Cypher query (queries/cypher.py).

`CypherSteps` runs them on any store. Both stores change their graph only by whole loads (a
generation), so `steps_for` hands out `IndexedSteps`, which answers every step from the link index
of that generation (queries/link_index.py), memory-mapped from its files (queries/link_cache.py) once
per store object and generation: the same answers, faster, and never a mix of two generations while a
load writes the next one.
"""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pyarrow as pa
from supplygraph.graph.stores.protocol import ArrowReader, Row, Store
from supplygraph.queries import cypher
from supplygraph.queries.link_cache import link_index_of
from supplygraph.queries.link_index import LinkIndex, link_parts

Link = tuple[str, str, "str | Sequence[str] | None"]  # (from id, to id, source ids)
Reached = tuple[str, str, list[Any]]  # (supplier, buyer, source ids of each link between them)


class CypherSteps:
    index: LinkIndex | None = None  # IndexedSteps answer from one
    details_reads: ArrowReader | None = None  # where answers' finding and source details come from (None: the store)

    def __init__(self, store: Store) -> None:
        self.store = store

    def affiliate(self, affiliate_id: str) -> Row | None:
        rows = self.store.run(cypher.AFFILIATE, {"affiliate_id": affiliate_id})
        return rows[0] if rows else None

    def purchases(self, affiliate_id: str, as_of: date) -> tuple[list[Row], list[Row]]:
        params = {"affiliate_id": affiliate_id, "as_of": as_of}
        return self.store.run(cypher.PURCHASES_DIRECT, params), self.store.run(cypher.PURCHASES_FRAMEWORK, params)

    def products(self, ids: Sequence[str]) -> Mapping[str, Row]:
        """Model and brand of at least the products `ids`, by id."""
        if not ids:
            return {}
        return {r["id"]: r for r in self.store.run(cypher.PRODUCTS_BY_ID, {"ids": list(ids)})}

    def brand_sites(self, brand_ids: Sequence[str], as_of: date) -> list[Row]:
        """The sites on the brands' published lists active on `as_of` (brand, factory, category, role, sources)."""
        if not brand_ids:
            return []
        return self.store.run(cypher.BRAND_SITES_OF, {"brand_ids": list(brand_ids), "as_of": as_of})

    def assembly(self, product_ids: Sequence[str], as_of: date) -> list[Row]:
        if not product_ids:
            return []
        return self.store.run(cypher.ASSEMBLY_OF_PRODUCTS, {"product_ids": list(product_ids), "as_of": as_of})

    def suppliers(self, buyers: Sequence[str], as_of: date) -> list[Link]:
        rows = self.store.run(cypher.SUPPLIERS_OF_FACTORIES, {"factory_ids": list(buyers), "as_of": as_of})
        return [(r["buyer"], r["supplier"], r["sources"]) for r in rows]

    def supplier_tiers(
        self, start: Sequence[str], depth: int, as_of: date, stop: dict[str, int] | None = None
    ) -> list[list[Reached]]:
        """Tiers 2..depth walked buyer -> supplier from the tier-1 factories `start` (in route order).

        Each tier lists (supplier, buyer, [sources of each link from that buyer]) in route order:
        a supplier hangs off the first of its buyers in the previous tier's order (routes are
        ordered shortest first, then by path, so a child's order is its parent's, then its id).
        A factory of `stop` (id -> tier) reached at that tier or later is not walked on from.
        """
        seen = set(start)
        frontier = list(start)
        tiers: list[list[Reached]] = []
        for _tier in range(2, depth + 1):
            if stop:
                frontier = [f for f in frontier if stop.get(f, depth + 1) > _tier - 1]
            if not frontier:
                break
            rank = {buyer: i for i, buyer in enumerate(frontier)}
            best: dict[str, tuple[int, str, list[Any]]] = {}  # supplier -> (rank, buyer, link sources)
            for buyer, supplier, sources in self.suppliers(frontier, as_of):
                if supplier in seen:
                    continue
                current = best.get(supplier)
                if current is None or rank[buyer] < current[0]:
                    best[supplier] = (rank[buyer], buyer, [sources])
                elif rank[buyer] == current[0]:
                    current[2].append(sources)  # parallel links between the same pair: all their sources
            ordered = sorted(best, key=lambda f: (best[f][0], f))
            tiers.append([(f, best[f][1], best[f][2]) for f in ordered])
            seen.update(ordered)
            frontier = ordered
        return tiers

    def factories(self, ids: Sequence[str]) -> Mapping[str, Row]:
        """Details (name, country, operator) of at least the factories `ids`, by id."""
        if not ids:
            return {}
        return {r["id"]: r for r in self.store.run(cypher.FACTORIES_BY_ID, {"ids": list(ids)})}

    def placements(self, factory_ids: Sequence[str], as_of: date) -> list[Link]:
        if not factory_ids:
            return []
        rows = self.store.run(cypher.PLACEMENTS_AT_FACTORIES, {"factory_ids": list(factory_ids), "as_of": as_of})
        return [(r["factory"], r["agency"], r["sources"]) for r in rows]

    def subagents(self, agency_ids: Sequence[str], as_of: date) -> list[Link]:
        rows = self.store.run(cypher.SUBAGENTS_OF_AGENCIES, {"agency_ids": list(agency_ids), "as_of": as_of})
        return [(r["agency"], r["subagent"], r["sources"]) for r in rows]

    def agencies(self, ids: Sequence[str]) -> dict[str, Row]:
        if not ids:
            return {}
        return {r["id"]: r for r in self.store.run(cypher.AGENCIES_BY_ID, {"ids": list(ids)})}

    def open_findings(self, subject_type: str, ids: Sequence[str], as_of: date) -> list[Row]:
        params = {"subject_type": subject_type, "ids": list(ids), "as_of": as_of}
        return self.store.run(cypher.OPEN_FINDINGS_ON, params)

    def node_origins(self, label: str) -> pa.Table:
        """Every `label` node's id and origins, from the store as it is now (queries/provenance.py)."""
        return self.store.run_arrow(cypher.NODE_ORIGINS[label])

    def link_origins(self, key: tuple[str, str, str]) -> pa.Table:
        """Every relationship of `key` (type, start label, end label): its ends, validity and origin."""
        return self.store.run_arrow(cypher.LINK_ORIGINS[key])


_indexes: weakref.WeakKeyDictionary[Store, tuple[str, LinkIndex, ArrowReader]] = weakref.WeakKeyDictionary()
_building: weakref.WeakKeyDictionary[Store, threading.Lock] = weakref.WeakKeyDictionary()
_guard = threading.Lock()


def indexed_generation(store: Store) -> str | None:
    """The generation whose link index `store` holds, if any (the server warms new generations)."""
    cached = _indexes.get(store)
    return cached[0] if cached is not None else None


def steps_for(store: Store) -> CypherSteps:
    """The steps over the store's current generation: from its link index (its files mapped, or built on first
    use), or Cypher when nothing is loaded yet."""
    generation = store.generation
    if generation is None:
        return CypherSteps(store)
    with _guard:
        lock = _building.setdefault(store, threading.Lock())
    with lock:
        cached = _indexes.get(store)
        if cached is None or cached[0] != generation:
            reads = store.link_reads()
            index = link_index_of(store, generation)
            if not store.embedded:  # kept with the index: a load running later cannot keep answers from them
                reads.run_arrow(cypher.ALL_SOURCE_DETAILS)
                reads.run_arrow(cypher.ALL_FINDING_DETAILS)
            cached = _indexes[store] = (generation, index, reads)
            gc.freeze()  # what is alive now lives as long as the process: keep it out of every later collection
    return IndexedSteps(store, cached[1], cached[2])


class IndexedSteps(CypherSteps):
    """Every step answered from a LinkIndex of one generation: nothing is read from the database."""

    def __init__(self, store: Store, index: LinkIndex, reads: ArrowReader | None = None) -> None:
        super().__init__(store)
        self.index = self.links = index
        self.reads = reads or store  # the index's own generation (Neo4j: its load's snapshot, never half a load)
        # Neo4j: finding and source details of answers from the same kept reads (the embedded store's pinned
        # generation answers them as it is)
        self.details_reads = None if store.embedded else self.reads

    def node_origins(self, label: str) -> pa.Table:
        return self.reads.run_arrow(cypher.NODE_ORIGINS[label])

    def link_origins(self, key: tuple[str, str, str]) -> pa.Table:
        return self.reads.run_arrow(cypher.LINK_ORIGINS[key])

    def affiliate(self, affiliate_id: str) -> Row | None:
        return self.links.affiliate(affiliate_id)

    def purchases(self, affiliate_id: str, as_of: date) -> tuple[list[Row], list[Row]]:
        return self.links.purchases(affiliate_id, as_of)

    def assembly(self, product_ids: Sequence[str], as_of: date) -> list[Row]:
        links = self.links.assembly.active(product_ids, as_of)
        return [{"product": p, "factory": f, "sources": s} for p, f, s in links]

    def supplier_tiers(
        self, start: Sequence[str], depth: int, as_of: date, stop: dict[str, int] | None = None
    ) -> list[list[Reached]]:
        return self.links.supply_walk.tiers(start, depth, as_of, stop)

    def products(self, ids: Sequence[str]) -> Mapping[str, Row]:
        return self.links.products(ids)

    def brand_sites(self, brand_ids: Sequence[str], as_of: date) -> list[Row]:
        return self.links.brand_sites_of(brand_ids, as_of)

    def factories(self, ids: Sequence[str]) -> Mapping[str, Row]:
        return self.links.factories(ids)

    def placements(self, factory_ids: Sequence[str], as_of: date) -> list[Link]:
        return self.links.placements.active(factory_ids, as_of)

    def open_findings(self, subject_type: str, ids: Sequence[str], as_of: date) -> list[Row]:
        return self.links.open_findings(subject_type, ids, as_of)

    def subagents(self, agency_ids: Sequence[str], as_of: date) -> list[Link]:
        return self.links.subagents.active(agency_ids, as_of)

    def agencies(self, ids: Sequence[str]) -> dict[str, Row]:
        return self.links.agencies(ids)


def build_link_index(reads: ArrowReader) -> LinkIndex:
    """The link index from the bulk tables `reads` gives (a store, or a store's saved reads), in memory."""
    return LinkIndex(link_parts(reads))
