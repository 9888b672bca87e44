"""Reading a whole graph back as canonical data, for tests that compare two graphs (both stores give the same dump)."""

from __future__ import annotations

from datetime import date
from typing import Any

from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.stores.protocol import Store, ident


def _plain(value: Any) -> dict[str, Any]:
    """A node or relationship as returned by either store -> its user properties.

    LadybugDB returns every property of the table (null where unset); Neo4j stores no nulls.
    """
    items = value.items() if hasattr(value, "items") else dict(value).items()
    return {k: v for k, v in items if not k.startswith("_") and v is not None}


def _key(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _key(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_key(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def dump_graph(store: Store) -> dict[str, list[Any]]:
    """Every node and relationship with its properties, sorted: equal dumps mean equal graphs."""
    out: dict[str, list[Any]] = {}
    for label in SCHEMA.nodes:
        rows = store.run(f"MATCH (n:{ident(label)}) RETURN n")
        out[label] = sorted((_key(_plain(r["n"])) for r in rows), key=repr)
    for rel_type in SCHEMA.rel_types:
        rows = store.run(f"MATCH (a)-[r:{ident(rel_type)}]->(b) RETURN a.id AS a, b.id AS b, r")
        out[rel_type] = sorted(((r["a"], r["b"], _key(_plain(r["r"]))) for r in rows), key=repr)
    return out
