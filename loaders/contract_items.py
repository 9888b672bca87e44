"""Contract items (bundle version 1.1): ids, categories, brands and product matches, before the graph is built.

Runs on the merged, resolved bundles at every load (loaders/pipeline.py): each bundle's contract_items
table gives an `items` table (the `Item` nodes: every row, with or without a product) and keeps as
INCLUDES links only the rows that now have a product, named or matched. Review decisions of label
`Item` (loaders/resolve.py's Decisions, kept by item id) are re-applied every time: an accepted match
is `disclosed`, a rejected product is no candidate.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.graph.errors import BundleError, Problem
from supplygraph.graph.origins import LOADED
from supplygraph.loaders.item_ids import ItemIds
from supplygraph.loaders.item_match import TIE, Catalogue, Company, Match, Product, cpv_category, words
from supplygraph.loaders.resolve import Decisions

Bundles = list[tuple[str, dict[str, pa.Table]]]
ITEM_COLUMNS = ("contract_id", "product_id", "description", "brand_name", "cpv", "category", "quantity", "value")


def match_id(item_id: str, product_id: str) -> str:
    return f"{item_id}~{product_id}"


def _latest(bundles: Bundles, stem: str, columns: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """id -> the last non-empty value of each column over the bundles, in load order."""
    out: dict[str, dict[str, Any]] = {}
    for _name, tables in bundles:
        table = tables.get(stem)
        if table is None:
            continue
        present = [c for c in columns if c in table.column_names]
        values = {c: table.column(c).to_pylist() for c in present}
        for i, rid in enumerate(table.column("id").to_pylist()):
            rec = out.setdefault(rid, {})
            for c in present:
                if values[c][i] is not None:
                    rec[c] = values[c][i]
    return out


def catalogue_of(bundles: Bundles) -> tuple[Catalogue, dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    companies = _latest(bundles, "companies", ("name", "aliases", "roles"))
    products = _latest(bundles, "products", ("brand_id", "model", "category"))
    catalogue = Catalogue(
        [
            Company(
                cid,
                [w for w in (words(n) for n in [c.get("name"), *(c.get("aliases") or [])]) if w],
                "brand" in (c.get("roles") or []),
            )
            for cid, c in companies.items()
        ],
        [Product(pid, p["brand_id"], words(p.get("model"))) for pid, p in products.items() if p.get("brand_id")],
    )
    return catalogue, companies, products


def prepare_items(
    bundles: Bundles, decisions: Decisions, warnings: list[Problem] | None = None
) -> tuple[Bundles, list[dict[str, Any]]]:
    """The bundles with `items` tables and contract_items reduced to rows with a product; the Item review queue.
    Warnings (an item_id another contract's item has: loaders/item_ids.py) go to `warnings`."""
    if not any("contract_items" in tables for _n, tables in bundles):
        return bundles, []
    catalogue, companies, products = catalogue_of(bundles)
    contracts = _latest(bundles, "contracts", ("cpv", "supplier_id"))
    decided: dict[str, dict[str, str]] = {}  # item id -> product -> accept/reject
    for d in decisions.decided.values():
        if d.get("label") == "Item":
            decided.setdefault(d["a"], {})[d["b"]] = d["decision"]
    queue: list[dict[str, Any]] = []
    out: Bundles = []
    ids = ItemIds(tables["contract_items"] for _n, tables in bundles if "contract_items" in tables)
    for name, tables in bundles:
        table = tables.get("contract_items")
        if table is None:
            out.append((name, tables))
            continue
        items, links = _items(name, table, catalogue, companies, products, contracts, decided, queue, ids)
        out.append((name, {**tables, "items": items, "contract_items": links}))
    if ids.problems:
        raise BundleError(ids.problems)
    if warnings is not None:
        warnings.extend(ids.warnings)
    return out, sorted(queue, key=lambda r: (-r["score"], r["id"]))


def _column(table: pa.Table, name: str) -> list[Any]:
    return table.column(name).to_pylist() if name in table.column_names else [None] * table.num_rows


def _items(
    bundle: str,
    table: pa.Table,
    catalogue: Catalogue,
    companies: dict[str, dict[str, Any]],
    products: dict[str, dict[str, Any]],
    contracts: dict[str, dict[str, Any]],
    decided: dict[str, dict[str, str]],
    queue: list[dict[str, Any]],
    ids: ItemIds,
) -> tuple[pa.Table, pa.Table]:
    contract_ids = table.column("from_id").to_pylist()
    given = table.column("to_id").to_pylist()
    lines = table.column("_line").to_pylist()
    cols = {c: _column(table, c) for c in ("item_id", "description", "brand_name", "cpv", "category")}
    rows: dict[str, list[Any]] = {
        c: []
        for c in (
            "id",
            "product_id",
            "brand_id",
            "brand_from",
            "category",
            "basis",
            "match_status",
            "match_score",
            "candidates",
        )
    }
    for i, contract in enumerate(contract_ids):
        item_id = ids.of(bundle, contract, cols["item_id"][i] or None, int(lines[i]))
        description = cols["description"][i]
        product, basis, status, score, candidates = given[i], None, "none", None, []
        if product is not None:
            basis, status = "disclosed", "given"
        else:
            verdicts = decided.get(item_id, {})
            accepted = [p for p, v in sorted(verdicts.items()) if v == "accept" and p in products]
            if accepted:
                product, basis, status, score = accepted[0], "disclosed", "accepted", 1.0
            else:
                found = catalogue.match(description, [p for p, v in verdicts.items() if v == "reject"])
                product, score, candidates = found.product, found.score or None, found.candidates
                if found.product is not None:
                    basis, status = "matched", "automatic"
                elif found.candidates:
                    status = "review"
                    queue.extend(_review(item_id, description, found, products, companies))
                elif verdicts:
                    status = "rejected"
        contract_row = contracts.get(contract, {})
        brand, brand_from = _brand(product, cols["brand_name"][i], description, contract_row, products, catalogue)
        known = products.get(product or "", {})
        category = (
            cols["category"][i]
            or known.get("category")
            or cpv_category(cols["cpv"][i])
            or cpv_category(contract_row.get("cpv"))
            or "other"
        )
        for key, value in (
            ("id", item_id),
            ("product_id", product),
            ("brand_id", brand),
            ("brand_from", brand_from),
            ("category", category),
            ("basis", basis),
            ("match_status", status),
            ("match_score", score),
            ("candidates", candidates or None),
        ):
            rows[key].append(value)
    items = _item_table(table, rows)
    has_product = pc.is_valid(items.column("product_id"))
    links = table.set_column(table.column_names.index("to_id"), "to_id", items.column("product_id"))
    links = _replace(links, "item_id", items.column("id"))
    links = _replace(links, "basis", items.column("basis"))
    return items, links.filter(has_product)


def _replace(table: pa.Table, name: str, values: pa.ChunkedArray | pa.Array) -> pa.Table:
    if name in table.column_names:
        return table.set_column(table.column_names.index(name), name, values)
    return table.append_column(name, values)


def _item_table(table: pa.Table, rows: dict[str, list[Any]]) -> pa.Table:
    n = table.num_rows
    columns: dict[str, Any] = {
        "id": pa.array(rows["id"], pa.string()),
        "contract_id": table.column("from_id").cast(pa.string()),
        "product_id": pa.array(rows["product_id"], pa.string()),
    }
    for name in ("description", "brand_name", "cpv"):
        columns[name] = table.column(name) if name in table.column_names else pa.nulls(n, pa.string())
    columns["category"] = pa.array(rows["category"], pa.string())
    columns["quantity"] = table.column("quantity") if "quantity" in table.column_names else pa.nulls(n, pa.int64())
    columns["value"] = table.column("value") if "value" in table.column_names else pa.nulls(n, pa.float64())
    columns["brand_id"] = pa.array(rows["brand_id"], pa.string())
    columns["brand_from"] = pa.array(rows["brand_from"], pa.string())
    columns["basis"] = pa.array(rows["basis"], pa.string())
    columns["match_status"] = pa.array(rows["match_status"], pa.string())
    columns["match_score"] = pa.array(rows["match_score"], pa.float64())
    columns["candidates"] = pa.array(rows["candidates"], pa.list_(pa.string()))
    if "source_ids" in table.column_names:
        columns["source_ids"] = table.column("source_ids")
    taken = {*columns, "from_id", "to_id", "item_id", "_line", LOADED, "valid_from", "valid_to"}
    for extra in table.column_names:
        if extra not in taken:
            columns[extra] = table.column(extra)
    columns["_line"] = table.column("_line")
    if LOADED in table.column_names:
        columns[LOADED] = table.column(LOADED)
    return pa.table(columns)


def _brand(
    product: str | None,
    brand_name: str | None,
    description: str | None,
    contract: dict[str, Any],
    products: dict[str, dict[str, Any]],
    catalogue: Catalogue,
) -> tuple[str | None, str | None]:
    """The spec's item brand, and where it came from (product, brand_name, description, supplier)."""
    if product is not None and products.get(product, {}).get("brand_id"):
        return products[product]["brand_id"], "product"
    by_name = catalogue.brand_by_name(brand_name)
    if by_name is not None:
        return by_name, "brand_name"
    in_text = catalogue.brand_in(description)
    if in_text == TIE:  # "a tie gives no brand"
        return None, None
    if in_text is not None:
        return in_text, "description"
    suppliers = contract.get("supplier_id") or []  # several for a consortium
    if isinstance(suppliers, str):
        suppliers = [suppliers]
    brands = {c.id for c in (catalogue.companies.get(s) for s in suppliers) if c is not None and c.brand}
    if len(brands) == 1:  # a consortium with two brands among its members names no one brand
        return brands.pop(), "supplier"
    return None, None


def _review(
    item_id: str,
    description: str | None,
    found: Match,
    products: dict[str, dict[str, Any]],
    companies: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    out = []
    for pid in found.candidates:
        product = products.get(pid, {})
        brand = companies.get(product.get("brand_id") or "", {}).get("name") or product.get("brand_id")
        out.append(
            {
                "id": match_id(item_id, pid),
                "label": "Item",
                "a": item_id,
                "b": pid,
                "score": found.score,
                "names": [description or "", f"{brand} {product.get('model') or ''}".strip()],
                "candidates": list(found.candidates),
            }
        )
    return out
