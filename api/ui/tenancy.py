"""What the /ui pages show an affiliate key: only its own exposure answer and its own contracts.

An investigator's entity network walks the graph from a node (api/ui/entity_view.py, `expand`); an affiliate's
may not, since products, factories and suppliers are shared and lead to other affiliates' contracts. Its
network is drawn instead from an `OwnGraph`: the nodes and links of its own exposure drawing (today, the
default depth; the drawing keeps only the findings of its answer) plus the contracts it holds. Every
neighbour page, "and N more" count and export is computed inside that graph, and nothing outside it is
read, so no page, count or timing depends on another affiliate's data. Its search lists only the nodes
of that graph. Pages for anything else answer 404 (api/ui/routes.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.stores.protocol import Store
from supplygraph.queries import cypher

from .network import ENTITY_NODE_BUDGET, NEIGHBOUR_CAP, Drawing, NetworkBuilder, network_options

# Links between two nodes of one label along an exposure path (first -> next): the relationship and
# whether it runs the same way. Links between different labels are found in the schema.
SAME_LABEL_LINKS = {
    "Contract": ("CALL_OFF_OF", False),  # a framework, then a call-off of it
    "Factory": ("SUPPLIES", False),  # a buyer, then its supplier
    "Agency": ("RECRUITS_THROUGH", True),  # an agency, then its sub-agent
}
DRAWING_ONLY = ("x", "y", "level", "borderWidth")


def path_link(first: str, then: str) -> tuple[str, bool] | None:
    """(relationship type, runs first -> then) of two labels next to each other on an exposure path."""
    if first == then:
        return SAME_LABEL_LINKS.get(first)
    for name, rel in SCHEMA.rel_types.items():
        if (first, then) in rel.pairs:
            return name, True
        if (then, first) in rel.pairs:
            return name, False
    return None


@dataclass
class OwnGraph:
    """Nodes (vis-network fields by 'Label:id' key) and links (key -> sorted (type, label, id, other key, out))."""

    affiliate: str
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: list[dict[str, Any]] = field(default_factory=list)  # the exposure drawing's answers (api/ui/own_pages.py)
    links: dict[str, set[tuple[str, str, str, str, bool]]] = field(default_factory=dict)

    def link(self, first: str, then: str) -> None:
        found = path_link(first.split(":", 1)[0], then.split(":", 1)[0])
        if found is None:
            return
        rel, forward = found
        start, end = (first, then) if forward else (then, first)
        end_label, end_id = end.split(":", 1)
        start_label, start_id = start.split(":", 1)
        self.links.setdefault(start, set()).add((rel, end_label, end_id, end, True))
        self.links.setdefault(end, set()).add((rel, start_label, start_id, start, False))

    def neighbours(self, key: str) -> list[tuple[str, str, str, str, bool]]:
        return sorted(self.links.get(key, ()))  # by type, label, id: as the store's neighbour query


def own_graph(store: Store, exposure: Drawing, affiliate_id: str, name: str) -> OwnGraph:
    """The affiliate's own exposure drawing and the contracts it holds, as one graph to walk."""
    graph = OwnGraph(affiliate_id, answers=exposure.answers)
    own = f"Affiliate:{affiliate_id}"
    graph.nodes[own] = {"id": own, "label": name, "group": "affiliate", "title": f"affiliate {affiliate_id}: {name}"}
    for node in exposure.nodes:
        label, node_id = node["id"].split(":", 1)
        graph.nodes[node["id"]] = {k: v for k, v in node.items() if k not in DRAWING_ONLY} | {
            "sg_id": node_id, "sg_label": label}
    for edge in exposure.edges:
        graph.link(edge["from"], edge["to"])
    for row in store.run(cypher.CONTRACTS_OF_AFFILIATE, {"affiliate_id": affiliate_id}):
        key = f"Contract:{row['contract']}"
        title = str(row["title"] or row["contract"])
        graph.nodes.setdefault(key, {"id": key, "label": _short(title), "group": "contract", "sg_type": "contract",
                                     "title": f"contract {row['contract']}: {title}"})
        graph.link(own, key)
    for key, node in graph.nodes.items():
        label, node_id = key.split(":", 1)
        node.setdefault("sg_type", node["group"])
        node.update(sg_id=node_id, sg_label=label)
    return graph


def _short(text: str, width: int = 28) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _add(builder: NetworkBuilder, node: dict[str, Any], **extra: Any) -> None:
    fields = {k: v for k, v in node.items() if k not in ("id", "group", "label", "title")}
    builder.node(node["id"], node["group"], node["label"], node["title"], **fields, **extra)


def expand_own(graph: OwnGraph, builder: NetworkBuilder, key: str, offset: int = 0) -> list[str]:
    """Adds a page of a node's neighbours within the graph (and "and N more"); returns the new keys."""
    if not builder.has(key):
        _add(builder, graph.nodes[key])
    every = graph.neighbours(key)
    page = every[offset : offset + NEIGHBOUR_CAP]
    added = []
    for rel, _label, _id, other, outgoing in page:
        if not builder.has(other):
            _add(builder, graph.nodes[other])
            added.append(other)
        if outgoing:
            builder.edge(key, other, title=rel)
        else:
            builder.edge(other, key, title=rel)
    rest = len(every) - offset - len(page)
    if rest > 0:
        label, node_id = key.split(":", 1)
        more = f"more:{key}:{offset + len(page)}"
        builder.node(more, "more", f"and {rest} more", f"{rest} more neighbours of {node_id}: click to show them",
                     sg_type="more", sg_label=label, sg_id=node_id, sg_offset=offset + len(page))
        builder.edge(key, more, dashes=True)
    return added


def own_neighbourhood(graph: OwnGraph, title: str, depth: int, root: str | None = None) -> Drawing:
    """A node of the graph (the affiliate's own by default) and its neighbours `depth` links away, inside its
    own graph; a node outside the graph (a source) alone."""
    builder = NetworkBuilder()
    root = root or f"Affiliate:{graph.affiliate}"
    if root not in graph.nodes:
        label, node_id = root.split(":", 1)
        builder.node(root, label.lower(), node_id, f"{label.lower()} {node_id}", borderWidth=3, sg_id=node_id,
                     sg_label=label, sg_type=label.lower())
        return Drawing(title=title, kind="entity", nodes=builder.nodes, edges=builder.edges, options=network_options())
    _add(builder, graph.nodes[root], borderWidth=3)
    frontier = [root]
    for _hop in range(depth):
        nxt: list[str] = []
        for key in frontier:
            if len(builder.nodes) >= ENTITY_NODE_BUDGET:
                break
            nxt.extend(expand_own(graph, builder, key))
        frontier = nxt
    return Drawing(title=title, kind="entity", nodes=builder.nodes, edges=builder.edges, options=network_options())


def own_nodes(graph: OwnGraph) -> dict[str, set[str]]:
    """The ids of the nodes of an affiliate's own graph, by label: all its search may read."""
    by_label: dict[str, set[str]] = {}
    for key in graph.nodes:
        label, node_id = key.split(":", 1)
        by_label.setdefault(label, set()).add(node_id)
    return by_label
