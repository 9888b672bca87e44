"""One entity as the graph holds it, for the API's entity pages and the browser's: its properties and the
ids of the sources behind it and its links. Who may see which of it is the caller's business (api/)."""

from __future__ import annotations

from typing import Any

from supplygraph.graph.errors import NotFound
from supplygraph.graph.stores.protocol import Store
from supplygraph.queries import entity_cypher as q
from supplygraph.queries.entity_cypher import fill
from supplygraph.queries.routes import source_list


def for_dialect(template: str | dict[str, str], store: Store) -> str:
    """A Cypher text written once, or once per dialect where the stores differ."""
    return template if isinstance(template, str) else template[store.dialect]


def entity_node(store: Store, label: str, id_: str, type_name: str) -> dict[str, Any]:
    """The node's properties (internal and empty ones left out); NotFound names `type_name` and the id."""
    rows = store.run(fill(q.NODE, label=label), {"id": id_})
    if not rows:
        raise NotFound(f"no {type_name} with id {id_!r}")
    return {k: v for k, v in rows[0]["node"].items() if not k.startswith("_") and v is not None}


def linked_source_ids(store: Store, label: str, id_: str, node: dict[str, Any], hidden: list[str]) -> list[str]:
    """The node's own source ids, then those of its links (to nodes not of a `hidden` label), each once."""
    ids = list(source_list(node.get("source_ids")))
    for row in store.run(fill(for_dialect(q.LINK_SOURCE_IDS, store), label=label), {"id": id_, "hidden": hidden}):
        ids.extend(s for s in source_list(row["ids"]) if s not in ids)
    return ids
