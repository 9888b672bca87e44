"""The bulk reads of the link index (queries/cypher.py ALL_*) answered from the graph tables of a full load
(graph/tables.py), so that the index of a new embedded generation is made from what the loader holds, without
reading the database back once it is written.

The rows are those the database returns for the same statement: every node of a label, every relationship of a
type between its two labels, and for the purchases every item of a contract held by an affiliate (through its
framework for a call-off). The columns have the names and the types the database gives them. Only the order of
the rows differs, which the parts do not depend on (queries/sorted_keys.py grouped_parts, queries/supply_walk.py
canonical_order).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.graph.tables import GraphTables
from supplygraph.queries import cypher

READ_LIST = pa.list_(pa.field("l", pa.string()))  # how LadybugDB returns a STRING[] property


def read_type(arrow_type: pa.DataType) -> pa.DataType:
    """The type of a column as the embedded store returns it (its DDL: graph/stores/ladybug_build.py)."""
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return READ_LIST
    if pa.types.is_date(arrow_type):
        return pa.date32()
    if pa.types.is_floating(arrow_type):
        return pa.float64()
    if pa.types.is_integer(arrow_type):
        return pa.int64()
    return pa.string()


def returned(table: pa.Table, columns: Mapping[str, str]) -> pa.Table:
    """`table`'s columns under the names a RETURN gives them (name -> column), typed as the store returns them."""
    return pa.table({name: table.column(column).cast(read_type(table.schema.field(column).type)) for name, column in columns.items()})


def rows_of(table: pa.Table, keys: pa.ChunkedArray | pa.Array, ids: pa.ChunkedArray) -> tuple[pa.Table, pa.Array]:
    """The row of `table` (of distinct `ids`) for each of `keys`, and which keys have one."""
    at = pc.index_in(keys, value_set=ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids)
    found = pc.is_valid(at)
    return table.take(pc.fill_null(at, 0).filter(found)) if table.num_rows else table.slice(0, 0), found


class TableReads:
    """An ArrowReader of the link index's bulk reads over the graph tables of a full load."""

    def __init__(self, tables: GraphTables) -> None:
        self.tables = tables
        node = self.node_rows
        self.answers: dict[str, Callable[[], pa.Table]] = {
            cypher.ALL_AFFILIATES: lambda: node("Affiliate", {"id": "id", "name": "name", "country": "country"}),
            cypher.ALL_PRODUCTS: lambda: node("Product", {"id": "id", "model": "model", "brand": "brand_id"}),
            cypher.ALL_AGENCIES: lambda: node("Agency", {"id": "id", "name": "name", "country": "country"}),
            cypher.ALL_FACTORIES: lambda: node(
                "Factory", {"id": "id", "name": "name", "country": "country", "operator": "operator_id"}
            ),
            cypher.ALL_FINDINGS: lambda: node(
                "Finding",
                {c: c for c in ("id", "category", "severity", "status", "subject_type", "subject_id", "reported_on", "closed_on")}
                | {"sources": "source_ids"},
            ),
            cypher.ALL_ASSEMBLY: lambda: self.links("ASSEMBLED_AT", "Product", "Factory", {"product": "from", "factory": "to"}),
            cypher.ALL_BRAND_SITES: lambda: self.links(
                "LISTS_SITE", "Company", "Factory", {"brand": "from", "factory": "to", "category": "category", "role": "role"}
            ),
            cypher.ALL_PLACEMENTS: lambda: self.links(
                "PLACES_WORKERS_AT", "Agency", "Factory", {"factory": "to", "agency": "from"}
            ),
            cypher.ALL_AGENCY_LINKS: lambda: self.links(
                "RECRUITS_THROUGH", "Agency", "Agency", {"agency": "from", "subagent": "to"}
            ),
            cypher.ALL_SUPPLY_LINKS: lambda: self.links("SUPPLIES", "Factory", "Factory", {"buyer": "to", "supplier": "from"}),
            cypher.ALL_PURCHASES_DIRECT: lambda: self.purchases(framework=False),
            cypher.ALL_PURCHASES_FRAMEWORK: lambda: self.purchases(framework=True),
        }

    def run_arrow(self, query: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        answer = self.answers.get(query)
        if answer is None:
            raise KeyError(f"not a bulk read of the link index: {query[:80]}")
        return answer()

    def node_rows(self, label: str, columns: Mapping[str, str]) -> pa.Table:
        return returned(self.tables.nodes[label], columns)

    def links(self, rel_type: str, source: str, target: str, ends: Mapping[str, str]) -> pa.Table:
        """Every relationship of `rel_type` from `source` to `target` nodes: `ends` and the properties every link
        read returns (its validity and sources)."""
        columns = {**ends, "valid_from": "valid_from", "valid_to": "valid_to", "sources": "source_ids"}
        parts = [p.table for p in self.tables.rels if (p.type, p.source, p.target) == (rel_type, source, target)]
        tables = [returned(t, {n: c for n, c in columns.items() if c in t.column_names}) for t in parts]
        if not tables:
            raise KeyError(f"the graph tables have no {rel_type} relationships from {source} to {target}")
        out = pa.concat_tables(tables, promote_options="permissive")
        for name in columns:  # a property no part has reads as nulls
            if name not in out.column_names:
                out = out.append_column(name, pa.nulls(out.num_rows, pa.string()))
        return out.select(list(columns))

    def purchases(self, framework: bool) -> pa.Table:
        """The rows of ALL_PURCHASES_DIRECT (an item of a contract its affiliate holds) or ALL_PURCHASES_FRAMEWORK
        (an item of a call-off of a framework its affiliate holds)."""
        nodes = self.tables.nodes
        contracts, items = nodes["Contract"], nodes["Item"]
        items = items.filter(pc.is_valid(items.column("contract_id"))) if items.num_rows else items
        contract, found = rows_of(contracts, items.column("contract_id"), contracts.column("id"))
        items = items.filter(found)
        held = contract
        if framework:
            held, found = rows_of(contracts, contract.column("framework_id"), contracts.column("id"))
            items, contract = items.filter(found), contract.filter(found)
        holder = held.column("affiliate_id")
        by_affiliate = pc.fill_null(pc.is_in(holder, value_set=nodes["Affiliate"].column("id").combine_chunks()), False)
        items, contract, held = items.filter(by_affiliate), contract.filter(by_affiliate), held.filter(by_affiliate)
        out = {"affiliate": returned(held, {"affiliate": "affiliate_id"})}
        if framework:
            out["framework"] = returned(
                held,
                {"framework": "id", "framework_start": "start_date", "framework_end": "end_date", "value": "value", "currency": "currency"},
            )
            out["contract"] = returned(contract, {"contract": "id", "start_date": "start_date", "end_date": "end_date"})
        else:
            out["contract"] = returned(
                contract,
                {"contract": "id", "start_date": "start_date", "end_date": "end_date", "value": "value", "currency": "currency"},
            )
        out["item"] = returned(
            items,
            {"item": "id", "product": "product_id", "basis": "basis", "brand": "brand_id", "brand_from": "brand_from"}
            | {"category": "category", "sources": "source_ids"},
        )
        return pa.table({name: part.column(name) for part in out.values() for name in part.column_names})
