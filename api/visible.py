"""What an affiliate key may open with /v1/entities: the entities its own exposure answer names, and no other.

An exposure answer names its items (factories, agencies, findings), the sources behind them, and the nodes
on their paths (the affiliate, contracts, products, contract items, companies); the affiliate's own
contracts are its own too. A key may open each of them, by type: a factory id opens only as a factory.
What such a page shows stays inside the same set: a property referring to a node outside it (a factory's
operator, a product's brand, a contract's other suppliers) is left out, and so are neighbours and source
ids outside it. Anything else answers 404 exactly as an unknown id does.

The answer is the key's own for the day and depth asked (today and 4 by default), from the exposure cache
when it is there (api/tenancy.py), so nothing about the entity is read before the check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from supplygraph.graph.schema import SCHEMA

ITEM_LABELS = {"factories": "Factory", "agencies": "Agency", "findings": "Finding"}
PATH_LABELS = ("Contract", "Product", "Item", "Company")  # nodes that are on paths but never items
# Properties naming other nodes: the schema's reference columns, and a contract item's product candidates.
REFERRING = {
    label: {r.column for r in SCHEMA.references if r.node == label} | ({"candidates", "product_id", "brand_id"} if label == "Item" else set())
    for label in SCHEMA.nodes
}
LINK_REFERRING = {"item_id"}  # a contract's INCLUDES link names its contract item


def referring(label: str | None) -> set[str]:
    """The properties of a node of `label` (None: of a relationship) that name other nodes."""
    return LINK_REFERRING if label is None else REFERRING.get(label, set())


@dataclass(frozen=True)
class Visible:
    """The (label, id) pairs a key may open, and every id among them."""

    by_label: Mapping[str, frozenset[str]]

    @property
    def ids(self) -> frozenset[str]:
        return frozenset().union(*self.by_label.values())

    def has(self, label: str, node_id: str) -> bool:
        return node_id in self.by_label.get(label, frozenset())

    def properties(self, label: str | None, properties: Mapping[str, Any]) -> dict[str, Any]:
        """The properties of a node of `label` (None: a relationship) without references to nodes outside the
        set (a list keeps those inside)."""
        ids, names = self.ids, referring(label)
        out: dict[str, Any] = {}
        for key, value in properties.items():
            if key in names or key == "source_ids":
                if isinstance(value, list | tuple):
                    value = [v for v in value if v in ids]
                    if not value:
                        continue
                elif isinstance(value, str) and key == "source_ids":
                    value = "|".join(v for v in value.split("|") if v in ids) or None
                    if value is None:
                        continue
                elif value not in ids:
                    continue
            out[key] = value
        return out


def visible_entities(answer: Mapping[str, Any], own_contracts: Iterable[str]) -> Visible:
    """The entities an exposure answer names (see the module's docstring), with the affiliate's contracts."""
    by_label: dict[str, set[str]] = {"Affiliate": {answer["affiliate"]["id"]}, "Source": set()}
    on_paths: set[str] = set()
    for section, label in ITEM_LABELS.items():
        found = by_label.setdefault(label, set())
        for item in answer[section]:
            found.add(item["id"])
            on_paths.update(item["path"])
            by_label["Source"].update(item["sources"])
            by_label["Source"].update(e["id"] for e in item.get("evidence", ()))
    for gap in answer["gaps"]:
        on_paths.add(gap["id"])
        if gap.get("item"):
            on_paths.add(gap["item"])
    items = {i for label in ("Affiliate", *ITEM_LABELS.values()) for i in by_label[label]}
    rest = on_paths - items
    for label in PATH_LABELS:
        by_label[label] = set(rest)
    by_label["Contract"].update(own_contracts)
    return Visible({label: frozenset(ids) for label, ids in by_label.items()})
