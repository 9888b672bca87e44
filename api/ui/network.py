"""Drawings for the browser: node styles, the `Drawing` (vis-network nodes, edges and the answers in
words), the builder that deduplicates nodes, and the tier layout of exposure views.

Exposure views are laid out here, not in the browser: x by tier level, y by a tidy tree (O(n)), and
vis-network draws them with no layout or physics of its own, so the first drawing is the stable one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from supplygraph.graph.schema import SCHEMA

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
VIS_DIR = Path(str(files("pyvis"))) / "lib" / "vis-9.1.2"
VIS_JS = VIS_DIR / "vis-network.min.js"
VIS_CSS = VIS_DIR / "vis-network.css"

LEVEL_GAP = 190  # px between tier levels of an exposure view
ROW_GAP = 34  # px between rows (leaves of the layout tree)
NEIGHBOUR_CAP = 8  # neighbours drawn per node before an "and N more" node
ENTITY_NODE_BUDGET = 400  # nodes at most in an entity's first drawing (the rest expand on click)
MAX_EXPOSURE_NODES = 20_000

SEVERITY_COLOURS = {"low": "#e8c547", "medium": "#f08c2e", "high": "#d7301f", "critical": "#7f0000"}
MUTED = "#c8c8c8"
STYLE: dict[str, dict[str, Any]] = {
    "affiliate": {"shape": "box", "color": "#1f4e79", "font": {"color": "#ffffff"}},
    "contract": {"shape": "square", "color": "#4a90d9", "size": 10},
    "product": {"shape": "triangle", "color": "#3c9d5d", "size": 12},
    "factory": {"shape": "dot", "color": "#e69138", "size": 12},
    "agency": {"shape": "diamond", "color": "#7b3fa0", "size": 13},
    "subagent": {"shape": "diamond", "color": "#b48ad0", "size": 11},
    "company": {"shape": "hexagon", "color": "#6d7b8d", "size": 11},
    "item": {"shape": "triangleDown", "color": "#9fd3a8", "size": 11},
    "finding": {"shape": "star", "color": "#d7301f", "size": 15},
    "source": {"shape": "ellipse", "color": "#e6e6e6", "size": 8},
    "more": {"shape": "box", "color": {"background": "#f4f4f4", "border": "#999999"},
             "borderWidthSelected": 2, "shapeProperties": {"borderDashes": [4, 3]}},
}
TYPE_NAMES = {
    "affiliate": "affiliate", "contract": "contract", "product": "product", "factory": "factory",
    "agency": "agency", "subagent": "sub-agent", "company": "company", "finding": "finding", "item": "contract item",
    "source": "source", "more": "more",
}
# Which node types may follow which on an exposure path (to tell an id's label when ids repeat across labels).
FOLLOWS = {
    "Affiliate": ("Contract",),
    "Contract": ("Contract", "Product", "Item"),
    "Product": ("Factory", "Company"),
    "Item": ("Company",),  # a contract item and the brand whose published list it was inferred from
    "Factory": ("Factory", "Agency", "Company", "Finding"),
    "Agency": ("Agency", "Company", "Finding"),
    "Company": ("Finding", "Factory"),
}
# How a link of a path of each basis is drawn (the links the basis rests on): matched dashed, brand lists dotted.
BASIS_EDGES = {"matched": {"dashes": [8, 5]}, "brand_list": {"dashes": [2, 4]}}
EXPOSURE_KINDS = ("affiliate", "factory", "agency", "finding")  # finding: the finding-centred view (api/ui/finding_view.py)


@dataclass
class Drawing:
    title: str
    kind: str  # "exposure" or "entity"
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    answers: list[dict[str, Any]] = field(default_factory=list)
    as_of: str | None = None
    summary: list[str] = field(default_factory=list)  # an affiliate's answer: its counts, in lines
    _script: str | None = field(default=None, repr=False)

    def data(self) -> dict[str, Any]:
        return {"title": self.title, "kind": self.kind, "nodes": self.nodes, "edges": self.edges,
                "options": self.options}

    def script_data(self) -> str:
        """data() as JSON safe inside a <script> element (computed once: drawings are cached)."""
        if self._script is None:
            self._script = script_json(self.data())
        return self._script


class NetworkBuilder:
    """The vis-network nodes and edges of a drawing (keys 'Label:id'), deduplicated, O(1) a call.

    Nodes carry their type as a vis-network group (the styles are the `groups` option) and only what
    differs from it, which keeps the page small. pyvis's Network.add_edge looks both ends up in a list
    of every node, which made a 6,500-node drawing take ~14 s to build: the JSON is built here instead,
    and drawn by the vis-network pyvis ships (VIS_JS).
    """

    def __init__(self) -> None:
        self._nodes: dict[str, dict[str, Any]] = {}
        self._edges: dict[tuple[str, str], dict[str, Any]] = {}

    def has(self, key: str) -> bool:
        return key in self._nodes

    def node(self, key: str, kind: str, label: str, title: str, **extra: Any) -> None:
        old = self._nodes.get(key)
        if old is not None:
            if "level" in extra and extra["level"] < old.get("level", 1 << 30):
                old["level"] = extra["level"]
            return
        self._nodes[key] = {"id": key, "label": label, "group": kind, "title": title, **extra}

    def edge(self, source: str, target: str, **extra: Any) -> None:
        if source == target or (source, target) in self._edges:
            return
        self._edges[(source, target)] = {"from": source, "to": target, **extra}

    @property
    def nodes(self) -> list[dict[str, Any]]:
        return list(self._nodes.values())

    @property
    def edges(self) -> list[dict[str, Any]]:
        return list(self._edges.values())


def tier_options() -> dict[str, Any]:
    """Nodes come with their positions (tier_layout): no layout and no physics in the browser."""
    return {
        "layout": {"hierarchical": {"enabled": False}, "improvedLayout": False},
        "physics": {"enabled": False},
        "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.5}}, "smooth": False,
                  "color": {"color": "#9aa5b1", "highlight": "#1f4e79"}, "width": 1},
        "nodes": {"font": {"size": 12, "face": "sans-serif"}},
        "groups": STYLE,
        "interaction": {"hover": True, "hideEdgesOnDrag": True, "tooltipDelay": 150, "navigationButtons": False},
    }


def tier_layout(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> None:
    """Sets x (the node's level, left to right, levels without nodes left out) and y of each node, in O(n).

    The tree is each node's first incoming edge from a lower level; its leaves are one row apart in
    depth-first order (children by level, then id) and each parent sits midway between its first and
    last child, as in a dendrogram. Edges outside the tree are drawn all the same.
    """
    by_key = {n["id"]: n for n in nodes}
    children: dict[str, list[str]] = {}
    has_parent: set[str] = set()
    for e in edges:
        a, b = by_key.get(e["from"]), by_key.get(e["to"])
        if a is None or b is None or b["id"] in has_parent or a.get("level", 0) >= b.get("level", 0):
            continue
        has_parent.add(b["id"])
        children.setdefault(a["id"], []).append(b["id"])

    def order(key: str) -> tuple[int, str]:
        return by_key[key].get("level", 0), key

    y: dict[str, float] = {}
    row = 0
    for root in sorted((k for k in by_key if k not in has_parent), key=order):
        stack: list[tuple[str, bool]] = [(root, False)]
        while stack:
            key, placed_children = stack.pop()
            kids = children.get(key)
            if placed_children:
                assert kids
                y[key] = (y[kids[0]] + y[kids[-1]]) / 2
            elif not kids:
                y[key] = row
                row += 1
            else:
                kids.sort(key=order)
                stack.append((key, True))
                stack.extend((k, False) for k in reversed(kids))
    column = {level: i for i, level in enumerate(sorted({n.get("level", 0) for n in nodes}))}  # no empty levels
    # Rows ROW_GAP apart, or further in small drawings, up to 3/5 as high as wide (the shape of the page).
    gap = max(ROW_GAP, min(3 * ROW_GAP, 0.6 * len(column) * LEVEL_GAP / max(row, 1)))
    for key, node in by_key.items():
        node["x"] = column[node.get("level", 0)] * LEVEL_GAP
        node["y"] = round(y[key] * gap)


def network_options() -> dict[str, Any]:
    """Entity neighbourhoods: force layout with stabilisation bounded."""
    return {
        "layout": {"improvedLayout": False, "randomSeed": 7},
        "physics": {"enabled": True, "solver": "forceAtlas2Based", "stabilization": {"iterations": 150, "fit": True},
                    "forceAtlas2Based": {"gravitationalConstant": -90, "springLength": 120, "avoidOverlap": 0.5}},
        "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.5}}, "smooth": False,
                  "color": {"color": "#9aa5b1", "highlight": "#1f4e79"}},
        "nodes": {"font": {"size": 12, "face": "sans-serif"}},
        "groups": STYLE,
        "interaction": {"hover": True, "tooltipDelay": 150},
    }




def finding_style(severity: str | None, open_: bool) -> dict[str, Any]:
    if not open_:
        return {"color": {"background": MUTED, "border": "#aaaaaa"}, "font": {"color": "#999999"}, "opacity": 0.55}
    return {"color": SEVERITY_COLOURS.get(severity or "", "#d7301f")}


def script_json(data: Any) -> str:
    """JSON safe inside a <script> element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def legend() -> dict[str, Any]:
    """What the legend of a drawing shows: severities and their colours, node styles and type names."""
    return {"severities": list(SCHEMA.enums["severity"]), "severity_colours": SEVERITY_COLOURS,
            "styles": STYLE, "type_names": TYPE_NAMES}
