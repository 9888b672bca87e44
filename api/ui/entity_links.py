"""Which properties of an entity name another entity (operator_id, subject_id, source_ids, ...), so that its
page links them to their own pages, and which URLs a page may link at all (http and https only)."""

from __future__ import annotations

from typing import Any

from supplygraph.graph.schema import SCHEMA

# Properties naming a node that are not reference columns of the schema (an item's product and brand, and
# every list of source ids).
EXTRA = {("Item", "product_id"): "Product", ("Item", "brand_id"): "Company", ("Item", "candidates"): "Product"}
WEB = ("http://", "https://")


def web_url(value: Any) -> str | None:
    """The value when it is an http or https URL (a page links nothing else: no javascript:, data: or file:)."""
    text = str(value or "").strip()
    return text if text.lower().startswith(WEB) and " " not in text else None


def property_links(label: str, properties: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """For each property naming entities: [{type, id}] in its order (a list property gives several)."""
    targets: dict[str, str] = {}
    for ref in SCHEMA.references:
        if ref.node != label:
            continue
        if ref.when is not None and properties.get("subject_type") != ref.when:
            continue
        targets[ref.column] = ref.target
    targets.update({column: target for (node, column), target in EXTRA.items() if node == label})
    if "source_ids" in properties:
        targets["source_ids"] = "Source"
    out: dict[str, list[dict[str, str]]] = {}
    for column, target in targets.items():
        value = properties.get(column)
        values = value if isinstance(value, list | tuple) else [value]
        named = [{"type": target.lower(), "id": str(v)} for v in values if v not in (None, "")]
        if named:
            out[column] = named
    return out
