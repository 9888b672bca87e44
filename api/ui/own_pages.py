"""An affiliate key's entity pages in /ui: every entity its own exposure answer names, and nothing else.

The set is the one /v1/entities opens for the same key (api/visible.py): the answer's items, the sources
behind them, the nodes on their paths and its own contracts, taken here from the answer of its own exposure
drawing (today, the default depth), so nothing about the entity is read before the check. What a page shows
stays inside that set: properties naming other nodes, sources and findings outside it are left out, and its
network is drawn inside the key's own graph (api/ui/tenancy.py). Anything else answers 404 as an unknown id.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from supplygraph.api.keys import Principal
from supplygraph.api.visible import Visible, visible_entities
from supplygraph.graph.errors import InvalidParameter, NotFound
from supplygraph.queries import entity_cypher

from . import pages, tenancy
from .entity_links import property_links
from .exposure_routes import cached_exposure_drawing
from .tenancy import OwnGraph

SECTIONS = {"factory": "factories", "agency": "agencies", "finding": "findings"}


def own_graph_of(request: Request, caller: Principal, as_of: str | None = None) -> OwnGraph:
    """What an affiliate key's entity network may show: its exposure on `as_of` (default today) and its
    contracts."""
    own = caller.affiliate_id or ""
    for depth in ("4", "3", "2", "1"):  # the default depth, or less when that drawing would be too large
        try:
            exposure = cached_exposure_drawing(request, caller, "affiliate", own, as_of, depth)
            break
        except InvalidParameter:
            if depth == "1":
                raise
    with pages.app_state(request).access.use() as store:
        rows = store.run(entity_cypher.fill(entity_cypher.NODE, label="Affiliate"), {"id": own})
        if not rows:
            raise NotFound("no such affiliate")
        name = str(rows[0]["node"].get("name") or own)
        return tenancy.own_graph(store, exposure, own, name)


def own_visible(graph: OwnGraph) -> Visible:
    """What the key may open: the entities its own exposure drawing's answers name, and its contracts."""
    answer: dict[str, Any] = {"affiliate": {"id": graph.affiliate}, "gaps": []}
    answer.update({section: [] for section in SECTIONS.values()})
    for item in graph.answers:
        if item["kind"] == "gap":
            answer["gaps"].append({"id": item["id"], "item": item.get("item")})
        elif item["kind"] in SECTIONS:
            sources = [s["id"] if isinstance(s, dict) else s for s in item["sources"]]  # ids, or rows once shown
            answer[SECTIONS[item["kind"]]].append({"id": item["id"], "path": item["path"], "sources": sources})
    contracts = [key.split(":", 1)[1] for key in graph.nodes if key.startswith("Contract:")]
    return visible_entities(answer, contracts)


def own_detail(detail: dict[str, Any], visible: Visible) -> dict[str, Any]:
    """An entity page's detail with only what lies inside the key's set."""
    label = detail["label"]
    properties = visible.properties(label, detail["properties"])
    return {
        **detail,
        "properties": properties,
        "links": property_links(label, properties),
        "web": {k: v for k, v in detail["web"].items() if k in properties},
        "sources": [s for s in detail["sources"] if visible.has("Source", str(s.get("id")))],
        "findings": [f for f in detail["findings"] if visible.has("Finding", str(f.get("id")))],
        "closed_findings": [f for f in detail["closed_findings"] if visible.has("Finding", str(f.get("id")))],
    }
