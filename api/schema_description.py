"""The graph's schema as researchers query it: labels with their properties and types, relationship types
with the labels they run between and their properties (graph/schema.toml, as loaded).

Every node has `id` and `origins` (the input records it came from); every relationship has `valid_from`,
`valid_to`, `source_ids`, `origin` and `origin_line` (graph/origins.py). `source_ids` is shown as a list: relationships store it as one
"|"-joined string, and `supplygraph cypher` and POST /v1/cypher print it as a list on nodes and
relationships alike.
"""

from __future__ import annotations

from typing import Any

from supplygraph.graph.schema import SCHEMA

NODE_BASE = {"id": "string", "origins": "list"}
REL_EXTRA = {"origin": "string", "origin_line": "int"}


def describe_schema() -> dict[str, Any]:
    nodes = []
    for label, spec in SCHEMA.nodes.items():
        properties = [{"name": k, "type": t, "required": k == "id"} for k, t in NODE_BASE.items()]
        for p in spec.properties:
            entry: dict[str, Any] = {"name": p.name, "type": p.type, "required": p.required}
            if p.values:
                entry["values"] = list(p.values)
            properties.append(entry)
        nodes.append({"label": label, "display": spec.display, "file": spec.file, "properties": properties})
    relationships = [
        {
            "type": name,
            "ends": [{"from": a, "to": b} for a, b in rel.pairs],
            "properties": [{"name": k, "type": "list" if k == "source_ids" else t}
                           for k, t in {**rel.properties, **REL_EXTRA}.items()],
        }
        for name, rel in sorted(SCHEMA.rel_types.items())
    ]
    return {"nodes": nodes, "relationships": relationships}
