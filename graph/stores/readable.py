"""Nodes, relationships and paths in researchers' query results, the same on both stores.

A node is its label and its properties, a relationship its type and properties, a path its nodes and
relationships in order: {"label": "Factory", "id": "FA-1", "name": ...}, {"type": "SUPPLIES", ...},
{"nodes": [...], "relationships": [...]}. `source_ids` is a list everywhere. Properties without a value are left out, and so are each
store's internal fields (LadybugDB's `_ID`, `_SRC`, `_DST` offsets; Neo4j's element ids), which mean
nothing outside the database and differ between the two.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def node_out(label: str | None, properties: Mapping[str, Any]) -> dict[str, Any]:
    return {"label": label, **_values(properties)}


def relationship_out(rel_type: str | None, properties: Mapping[str, Any]) -> dict[str, Any]:
    """A relationship's `source_ids` (stored as one "|"-joined string) as a list, as on Finding nodes."""
    values = _values(properties)
    if isinstance(values.get("source_ids"), str):
        values["source_ids"] = [s for s in values["source_ids"].split("|") if s]
    return {"type": rel_type, **values}


def _values(properties: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in properties.items() if v is not None and not str(k).startswith("_")}


def ladybug_readable(value: Any) -> Any:
    """A LadybugDB value with its nodes ({_ID, _LABEL, ...}), relationships ({_SRC, _DST, _LABEL, ...})
    and paths ({_NODES, _RELS}) written as the module says."""
    if isinstance(value, Mapping):
        if "_NODES" in value and "_RELS" in value:
            return {
                "nodes": [ladybug_readable(n) for n in value["_NODES"]],
                "relationships": [ladybug_readable(r) for r in value["_RELS"]],
            }
        if "_LABEL" in value and "_SRC" in value and "_DST" in value:
            return relationship_out(value["_LABEL"], value)
        if "_LABEL" in value and "_ID" in value:
            return node_out(value["_LABEL"], value)
        return {k: ladybug_readable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [ladybug_readable(v) for v in value]
    return value


def neo4j_readable(value: Any, native: Callable[[Any], Any]) -> Any:
    """A Neo4j driver value written as the module says; anything else through `native`."""
    import neo4j.graph

    if isinstance(value, neo4j.graph.Path):
        return {
            "nodes": [neo4j_readable(n, native) for n in value.nodes],
            "relationships": [neo4j_readable(r, native) for r in value.relationships],
        }
    if isinstance(value, neo4j.graph.Node):
        return node_out(next(iter(sorted(value.labels)), None), {k: native(v) for k, v in value.items()})
    if isinstance(value, neo4j.graph.Relationship):
        return relationship_out(value.type, {k: native(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return [neo4j_readable(v, native) for v in value]
    if isinstance(value, Mapping):
        return {k: neo4j_readable(v, native) for k, v in value.items()}
    return native(value)
