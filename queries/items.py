"""Contract items as the graph holds them, for the Item review queue (`supplygraph matches show`)."""

from __future__ import annotations

from typing import Any

from supplygraph.graph.stores.protocol import Store
from supplygraph.queries import cypher


def item_and_product(store: Store, item_id: str, product_id: str) -> dict[str, dict[str, Any]]:
    """An Item review pair's two records: the contract item (a) and the candidate product (b)."""
    item = store.run(cypher.ITEM_BY_ID, {"id": item_id})
    product = store.run(cypher.PRODUCT_BY_ID, {"id": product_id})
    return {r["id"]: {k: v for k, v in r.items() if v is not None} for r in (*item, *product)}
