"""Which records a node of the graph was merged from, for splitting it or moving a record out of it."""

from __future__ import annotations

from typing import Any

from supplygraph.graph.errors import InvalidParameter, NotFound
from supplygraph.graph.stores.protocol import ident

MERGEABLE = ("Company", "Factory", "Agency", "Affiliate")


def node_members(store: Any, node: str) -> tuple[str, list[str]]:
    """The label of node `node` and the original ids merged into it (the node's own id alone if none were)."""
    for label in MERGEABLE:  # labels from the schema's mergeable node types, never from input
        # the whole node: a graph where no node of a label was merged has no merged_ids property to name
        rows = store.run(f"MATCH (n:{ident(label)}) WHERE n.id = $id RETURN n AS node", {"id": node})
        if rows:
            merged = dict(rows[0]["node"]).get("merged_ids")
            return label, merged.split("|") if merged else [node]
    raise NotFound(f"no company, factory, agency or affiliate with id {node!r}")


def check_split(node: str, members: list[str], records: list[str]) -> None:
    missing = [r for r in records if r not in members]
    if missing:
        raise InvalidParameter(
            "RECORD", f"{', '.join(missing)} not merged into {node} (its records: {', '.join(members)})"
        )
    if len(set(records)) >= len(members):
        raise InvalidParameter("RECORD", f"taking every record out of {node} leaves nothing; name the ones to take out")
