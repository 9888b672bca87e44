"""What the browser views draw: search results, an entity's neighbourhood, the network of exposure paths.

Each view is a `Drawing`: the vis-network nodes and edges with their type (a vis-network group),
tier level and style, plus the answers in words. The pages draw it with the vis-network that pyvis
ships, served by the app (api/ui/routes.py); `standalone_html` inlines the same JS and CSS into one
file that works offline; `to_graphml` / `to_json` export the drawn subgraph.

Exposure views are laid out here, not in the browser: x by tier level, y by a tidy tree (O(n)), and
vis-network draws them with no layout or physics of its own, so the first drawing is the stable one.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from importlib.resources import files
from itertools import pairwise
from pathlib import Path
from typing import Any

import networkx as nx
from jinja2 import Environment, FileSystemLoader, select_autoescape
from supplygraph.api.entity_ids import urlencode_all
from supplygraph.graph.errors import InvalidParameter, NotFound
from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.stores.protocol import Store
from supplygraph.queries import cypher
from supplygraph.queries import entity_cypher as q
from supplygraph.queries.entity_cypher import fill
from supplygraph.queries.exposure import exposure_for_affiliate, source_list
from supplygraph.queries.reverse import exposed_affiliates

from . import cypher as ui_cypher

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
EXPOSURE_KINDS = ("affiliate", "factory", "agency")


@dataclass
class Drawing:
    title: str
    kind: str  # "exposure" or "entity"
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    answers: list[dict[str, Any]] = field(default_factory=list)
    as_of: str | None = None
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


# ---------------------------------------------------------------- names and labels of ids


def _labels_of(
    store: Store, ids: Iterable[str], labels: Iterable[str], known: dict[str, dict[str, str | None]] | None = None
) -> dict[str, dict[str, str | None]]:
    """id -> {label: display name} for every label in `labels` that has a node with that id.

    `known`: label -> {id: display name} of nodes known to exist (the factories and agencies of an
    exposure answer): only the other ids are looked up for that label.
    """
    wanted = sorted(set(ids))
    found: dict[str, dict[str, str | None]] = {}
    if not wanted:
        return found
    for label in labels:
        given = (known or {}).get(label, {})
        for node_id in wanted:
            if node_id in given:
                found.setdefault(node_id, {})[label] = given[node_id]
        rest = [node_id for node_id in wanted if node_id not in given]
        if not rest:
            continue
        display = SCHEMA.nodes[label].display
        for row in store.run(fill(ui_cypher.NODE_DISPLAY_BY_IDS, label=label, display=display), {"ids": rest}):
            found.setdefault(row["id"], {})[label] = None if row["name"] is None else str(row["name"])
    return found


def name_hints(exposure: dict[str, Any]) -> dict[str, dict[str, str | None]]:
    """The names an affiliate's exposure answer gives: every factory and agency on its paths is in it."""
    return {
        "Affiliate": {exposure["affiliate"]["id"]: exposure["affiliate"]["name"]},
        "Factory": {f["id"]: f["name"] for f in exposure["factories"]},
        "Agency": {a["id"]: a["name"] for a in exposure["agencies"]},
    }


def _sources(store: Store, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {r["id"]: {k: (v.isoformat() if isinstance(v, date) else v) for k, v in r.items()}
            for r in store.run(q.SOURCES_BY_ID, {"ids": wanted})}


def is_open(row: dict[str, Any], as_of: date) -> bool:
    """The rule of queries/cypher.py FINDING_OPEN (reported on or before the day is checked by the query)."""
    reported = row.get("reported_on")
    if isinstance(reported, date) and reported > as_of:
        return False
    closed = row.get("closed_on")
    if closed is not None:
        return bool(closed > as_of)
    return row.get("status") != "remediated"


def finding_style(severity: str | None, open_: bool) -> dict[str, Any]:
    if not open_:
        return {"color": {"background": MUTED, "border": "#aaaaaa"}, "font": {"color": "#999999"}, "opacity": 0.55}
    return {"color": SEVERITY_COLOURS.get(severity or "", "#d7301f")}


# ---------------------------------------------------------------- exposure views


def exposure_drawing(
    store: Store,
    kind: str,
    item_id: str,
    as_of: date,
    depth: int = 4,
    *,
    only: str | None = None,
    findings_allowed: set[str] | None = None,
) -> Drawing:
    """The exposure answers of an affiliate, or of every affiliate exposed to a factory or agency, as a network.

    For an affiliate's key: `only` is that affiliate (a factory or agency view walks no other), and
    `findings_allowed` the findings of its own answer: no other finding is drawn, not even muted.
    """
    if kind not in EXPOSURE_KINDS:
        raise InvalidParameter("kind", f"must be one of {', '.join(EXPOSURE_KINDS)}, got {kind!r}")
    answers: list[dict[str, Any]] = []
    open_findings: dict[str, dict[str, Any]] = {}
    hints: dict[str, dict[str, str | None]] = {}
    if kind == "affiliate":
        exposure = exposure_for_affiliate(store, item_id, as_of, depth).as_json()
        hints = name_hints(exposure)
        title = f"Exposure of {exposure['affiliate']['name']} ({item_id})"
        brands = _company_names(store, exposure)
        for f in exposure["factories"]:
            answers.append({"kind": "factory", "id": f["id"], "path": f["path"], "sources": f["sources"],
                            "basis": f["basis"], "listed": f.get("listed"),
                            "text": f"Tier {f['tier']} factory {f['name']} ({f['country']})" + basis_words(f, brands)})
        for a in exposure["agencies"]:
            answers.append({"kind": "agency", "id": a["id"], "path": a["path"], "sources": a["sources"],
                            "basis": a["basis"], "listed": a.get("listed"),
                            "text": f"Recruitment agency {a['name']} ({a['country']})" + basis_words(a, brands)})
        for fi in exposure["findings"]:
            open_findings[fi["id"]] = fi
            answers.append({"kind": "finding", "id": fi["id"], "path": fi["path"], "sources": fi["sources"],
                            "severity": fi["severity"], "basis": fi["basis"], "listed": fi.get("listed"),
                            "text": f"Open finding {fi['id']}: {fi['category'].replace('_', ' ')}"
                                    f" ({fi['severity'] or 'no severity'}) at {fi['subject']['type']} "
                                    f"{fi['subject']['id']}" + basis_words(fi, brands)})
        for gap in exposure["gaps"]:
            what = f"product {gap['model']} ({gap['id']})" if gap.get("model") else f"contract item {gap['item']}"
            listed = f"; covered by {gap['brand_list']}'s published supplier list" if gap.get("brand_list") else ""
            answers.append({"kind": "gap", "id": gap["id"], "path": [], "sources": [],
                            "text": f"Disclosure gap: {what} assembled nowhere known{listed}"})
    else:
        reverse = exposed_affiliates(store, kind, item_id, as_of, depth, only=only).as_json()
        title = f"Affiliates exposed to {kind} {reverse['item']['name']} ({item_id})"
        for a in reverse["affiliates"]:
            tier = f" at tier {a['tier']}" if "tier" in a else ""
            answers.append({"kind": "affiliate", "id": a["id"], "path": a["path"], "sources": a["sources"],
                            "text": f"{a['name']} ({a['id']}) is exposed{tier} through contract "
                                    f"{a['contract']['id']}"})
    with_paths = [a for a in answers if a["path"]]
    drawing, keys = _draw_paths(store, [a["path"] for a in with_paths], as_of, open_findings, hints,
                                findings_allowed, [a.get("basis", "disclosed") for a in with_paths])
    for answer, path_keys in zip(with_paths, keys, strict=True):
        answer["keys"] = path_keys
    drawing.title = title
    drawing.as_of = as_of.isoformat()
    sources = _sources(store, (s for a in answers for s in a["sources"]))
    names = {n["id"]: n["label"] for n in drawing.nodes}
    for a in answers:
        a["sources"] = [sources.get(s, {"id": s}) for s in a["sources"]]
        a["path_text"] = " → ".join(names.get(k, k) for k in a.get("keys", []))
    drawing.answers = answers
    return drawing


def basis_words(item: dict[str, Any], brands: dict[str, str]) -> str:
    """What an answer of a weaker basis rests on, in words."""
    listed = item.get("listed") or {}
    if item.get("basis") == "matched":
        return " (matched: the contract item's description names the product)"
    if item.get("basis") == "brand_list" and listed:
        sources = ", ".join(listed.get("sources") or ()) or "no source given"
        brand = brands.get(listed["brand"], listed["brand"])
        return f" — inferred from {brand}'s published supplier list (source {sources})"
    return ""


def _company_names(store: Store, exposure: dict[str, Any]) -> dict[str, str]:
    ids = sorted({(i.get("listed") or {}).get("brand") for k in ("factories", "agencies", "findings")
                  for i in exposure[k]} - {None})
    return {r["id"]: r["name"] for r in store.run(cypher.COMPANY_NAMES, {"ids": ids})} if ids else {}


def _weak_links(path_keys: list[list[str]], bases: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """The links a matched or brand-list path rests on (item -> product, item -> brand -> site), each drawn
    in its weakest path's style unless a stronger path runs through it too."""
    strongest: dict[tuple[str, str], int] = {}
    order = ("disclosed", "matched", "brand_list")
    for keys, basis in zip(path_keys, bases, strict=True):
        for a, b in pairwise(keys):
            weak = basis if (
                (basis == "matched" and a.startswith("Contract:") and b.startswith("Product:"))
                or (basis == "brand_list" and (a.startswith("Item:") or (a.startswith("Company:") and b.startswith("Factory:"))))
            ) else "disclosed"
            rank = order.index(weak)
            strongest[(a, b)] = min(strongest.get((a, b), rank), rank)
    return {pair: BASIS_EDGES[order[r]] for pair, r in strongest.items() if r}


def _draw_paths(
    store: Store, paths: list[list[str]], as_of: date, open_findings: dict[str, dict[str, Any]],
    hints: dict[str, dict[str, str | None]], findings_allowed: set[str] | None = None,
    bases: list[str] | None = None,
) -> tuple[Drawing, list[list[str]]]:
    ids = {i for path in paths for i in path}
    known = _labels_of(store, ids, ["Affiliate", "Contract", "Product", "Item", "Factory", "Agency", "Company",
                                    "Finding"], hints)
    # Each node: (label, kind, rank within kind) from its position on the paths; the smallest rank wins.
    placed: dict[str, tuple[str, str, int]] = {}
    path_keys: list[list[str]] = []
    label_after: dict[tuple[str | None, str], str] = {}  # (label before, id) -> label: paths share prefixes
    for path in paths:
        previous: str | None = None
        counts: dict[str, int] = {}
        keys = []
        for node_id in path:
            label = label_after.get((previous, node_id))
            if label is None:
                candidates = known.get(node_id, {})
                allowed = ("Affiliate",) if previous is None else FOLLOWS.get(previous, ())
                label = next((lb for lb in allowed if lb in candidates), None) or next(iter(candidates), "Company")
                label_after[(previous, node_id)] = label
            rank = counts[label] = counts.get(label, 0) + 1
            key = label + ":" + node_id
            old = placed.get(key)
            if old is None or rank < old[2]:
                placed[key] = (label, "subagent" if label == "Agency" and rank > 1 else label.lower(), rank)
            keys.append(key)
            previous = label
        path_keys.append(keys)
    max_tier = max((r for lb, _k, r in placed.values() if lb == "Factory"), default=0)
    max_hop = max((r for lb, _k, r in placed.values() if lb == "Agency"), default=0)
    # Levels: affiliate 0, contracts 1-2 (framework, call-off), products 3, factories 3 + tier, agencies
    # after the deepest tier (sub-agents one further a hop), then companies, then findings.
    base = {"Affiliate": 0, "Contract": 0, "Product": 2, "Item": 2, "Factory": 3, "Agency": 3 + max_tier,
            "Company": 4 + max_tier + max_hop, "Finding": 5 + max_tier + max_hop}
    # Findings on drawn subjects: the open ones are on the paths; the others are drawn muted.
    subjects = [k.split(":", 1)[1] for k, v in placed.items() if v[0] in ("Factory", "Agency", "Company")]
    findings = {r["id"]: r for r in store.run(ui_cypher.FINDINGS_ON, {"ids": sorted(subjects), "as_of": as_of})
                if findings_allowed is None or r["id"] in findings_allowed}
    path_findings = [k.split(":", 1)[1] for k, v in placed.items() if v[0] == "Finding"]
    for row in store.run(ui_cypher.FINDINGS_BY_ID, {"ids": sorted(set(path_findings) - set(findings))}):
        findings[row["id"]] = row
    builder = NetworkBuilder()
    for key, (label, kind, rank) in placed.items():
        node_id = key.split(":", 1)[1]
        name = known.get(node_id, {}).get(label) or node_id
        level = 0 if label == "Affiliate" else base[label] + rank
        extra: dict[str, Any] = {"level": level, "sg_type": kind}
        text = f"{TYPE_NAMES[kind]} {node_id}: {name}"
        if label == "Factory":
            extra["sg_tier"] = rank
            text += f" (tier {rank})"
        if label == "Finding":
            row = findings.get(node_id, {})
            open_ = node_id in open_findings or not open_findings
            extra.update(finding_style(row.get("severity"), open_))
            extra["sg_severity"] = row.get("severity")
            extra["sg_muted"] = not open_
            name = f"{node_id} {str(row.get('category') or name).replace('_', ' ')}"
            text = f"finding {name}, severity {row.get('severity')}, {row.get('status')}"
        builder.node(key, kind, _short(name), text, **extra)
    weak = _weak_links(path_keys, bases) if bases else {}
    for a, b in dict.fromkeys(pair for keys in path_keys for pair in pairwise(keys)):  # each link once
        builder.edge(a, b, **weak.get((a, b), {}))
    finding_level = base["Finding"] + 1
    for fid, row in sorted(findings.items()):
        key = f"Finding:{fid}"
        subject = f"{str(row.get('subject_type') or '').capitalize()}:{row.get('subject_id')}"
        if builder.has(key) or not builder.has(subject):
            continue
        open_ = is_open(row, as_of)
        name = f"{fid} {str(row['category']).replace('_', ' ')}"
        state = "open" if open_ else f"not open on {as_of.isoformat()}"
        builder.node(key, "finding", name, f"finding {name}, severity {row['severity']}, {row['status']} ({state})",
                     level=finding_level, sg_type="finding", sg_muted=not open_,
                     sg_severity=row["severity"], **finding_style(row["severity"], open_))
        builder.edge(subject, key, dashes=True)
    if len(builder.nodes) > MAX_EXPOSURE_NODES:
        raise InvalidParameter("depth", f"the drawing would have {len(builder.nodes)} nodes: choose a smaller depth")
    nodes, edges = builder.nodes, builder.edges
    tier_layout(nodes, edges)
    return Drawing(title="", kind="exposure", nodes=nodes, edges=edges, options=tier_options()), path_keys


def _short(text: str, width: int = 28) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# ---------------------------------------------------------------- entities


LABELS = {label.lower(): label for label in SCHEMA.nodes}


def _text(template: str | dict[str, str], store: Store) -> str:
    return template if isinstance(template, str) else template[store.dialect]


def entity_detail(store: Store, type_: str, id_: str, hidden: list[str], redacted: set[str]) -> dict[str, Any]:
    label = LABELS.get(type_)
    if label is None:
        raise NotFound(f"no {type_} with id {id_!r}")
    rows = store.run(fill(q.NODE, label=label), {"id": id_})
    if not rows:
        raise NotFound(f"no {type_} with id {id_!r}")
    node = {k: v for k, v in rows[0]["node"].items() if not k.startswith("_") and v is not None and k not in redacted}
    display = SCHEMA.nodes[label].display
    source_ids = list(source_list(node.get("source_ids")))
    for row in store.run(fill(_text(q.LINK_SOURCE_IDS, store), label=label), {"id": id_, "hidden": hidden}):
        source_ids.extend(s for s in source_list(row["ids"]) if s not in source_ids)
    sources = list(_sources(store, source_ids[:200]).values())
    findings: list[dict[str, Any]] = []
    closed: list[dict[str, Any]] = []  # remediated, closed or not yet reported: listed muted
    if type_ in ("factory", "agency", "company"):
        today = date.today()
        for row in store.run(ui_cypher.FINDINGS_OF, {"id": id_, "subject_type": type_}):
            (findings if is_open(row, today) else closed).append(
                {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()})
    return {
        "type": type_,
        "label": label,
        "id": id_,
        "name": str(node.get(display)) if display != "id" and node.get(display) is not None else id_,
        "properties": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in node.items()},
        "sources": sources,
        "findings": findings,
        "closed_findings": closed,
    }


def neighbours_page(
    store: Store, label: str, id_: str, hidden: list[str], offset: int = 0, limit: int = NEIGHBOUR_CAP
) -> tuple[list[dict[str, Any]], int]:
    params = {"id": id_, "hidden": hidden}
    total = store.run(fill(_text(q.NEIGHBOUR_COUNT, store), label=label), params)[0]["n"]
    rows = store.run(fill(_text(q.NEIGHBOURS, store), label=label), {**params, "skip": offset, "limit": limit})
    return rows, int(total)


def _finding_rows(store: Store, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    wanted = sorted(set(ids))
    return {r["id"]: r for r in store.run(ui_cypher.FINDINGS_BY_ID, {"ids": wanted})} if wanted else {}


def _entity_node(
    builder: NetworkBuilder, label: str, id_: str, name: str | None, finding: dict[str, Any] | None = None,
    **extra: Any,
) -> str:
    """A node of an entity network; a finding (its row of FINDINGS_BY_ID) coloured as in exposure views."""
    key = f"{label}:{id_}"
    kind = label.lower() if label.lower() in STYLE else "company"
    title = f"{label.lower()} {id_}: {name or id_}"
    if finding is not None:
        name = f"{id_} {str(finding.get('category') or '').replace('_', ' ')}"
        title = f"finding {name}"
        today = date.today()
        open_ = is_open(finding, today)
        extra.update(finding_style(finding.get("severity"), open_), sg_severity=finding.get("severity"),
                     sg_muted=not open_)
        state = "open" if open_ else f"not open on {today.isoformat()}"
        title += f", severity {finding.get('severity')}, {finding.get('status')} ({state})"
    builder.node(key, kind, _short(name or id_), title, sg_type=kind, sg_id=id_, sg_label=label, **extra)
    return key


def expand(
    store: Store, builder: NetworkBuilder, label: str, id_: str, hidden: list[str], offset: int = 0
) -> list[tuple[str, str]]:
    """Adds a page of a node's neighbours (and an "and N more" node); returns the new (label, id) pairs."""
    source = f"{label}:{id_}"
    if not builder.has(source):  # a page asked for by the browser, which has drawn the node already
        _entity_node(builder, label, id_, None)
    rows, total = neighbours_page(store, label, id_, hidden, offset)
    findings = _finding_rows(store, (r["id"] for r in rows if r["label"] == "Finding"))
    added = []
    for r in rows:
        other = str(r["label"])
        if other not in SCHEMA.nodes:
            continue
        new = not builder.has(f"{other}:{r['id']}")
        key = _entity_node(builder, other, r["id"], None if r["name"] is None else str(r["name"]),
                           findings.get(r["id"]) if other == "Finding" else None)
        if r["outgoing"]:
            builder.edge(source, key, title=r["type"])
        else:
            builder.edge(key, source, title=r["type"])
        if new:
            added.append((other, r["id"]))
    rest = total - offset - len(rows)
    if rest > 0:
        more = f"more:{label}:{id_}:{offset + len(rows)}"
        builder.node(more, "more", f"and {rest} more", f"{rest} more neighbours of {id_}: click to show them",
                     sg_type="more", sg_label=label, sg_id=id_, sg_offset=offset + len(rows))
        builder.edge(source, more, dashes=True)
    return added


def neighbourhood_drawing(store: Store, detail: dict[str, Any], depth: int, hidden: list[str]) -> Drawing:
    if not 1 <= depth <= 3:
        raise InvalidParameter("depth", f"must be between 1 and 3, got {depth}")
    builder = NetworkBuilder()
    label, id_ = detail["label"], detail["id"]
    finding = _finding_rows(store, [id_]).get(id_) if label == "Finding" else None
    _entity_node(builder, label, id_, detail["name"], finding, borderWidth=3)
    frontier = [(label, id_)]
    for _hop in range(depth):
        nxt: list[tuple[str, str]] = []
        for lb, node_id in frontier:
            if len(builder.nodes) >= ENTITY_NODE_BUDGET:
                break
            nxt.extend(expand(store, builder, lb, node_id, hidden))
        frontier = nxt
    return Drawing(title=f"{label} {detail['name']} ({id_})", kind="entity", nodes=builder.nodes,
                   edges=builder.edges, options=network_options())


def search(store: Store, needle: str, limit: int = 25) -> list[dict[str, Any]]:
    """Per type: the count of matches and the first `limit` of them with their country."""
    groups = []
    for label, spec in SCHEMA.nodes.items():
        display = spec.display
        count = store.run(fill(q.SEARCH_COUNT, label=label, display=display), {"q": needle})[0]["n"]
        if not count:
            continue
        template = ui_cypher.SEARCH_WITH_COUNTRY if any(p.name == "country" for p in spec.properties) else ui_cypher.SEARCH_NO_COUNTRY
        rows = store.run(fill(template, label=label, display=display), {"q": needle, "limit": limit})
        groups.append({"type": label.lower(), "label": label, "count": int(count),
                       "items": [{"id": r["id"], "name": None if r["name"] is None else str(r["name"]),
                                  "country": r.get("country")} for r in rows]})
    return groups


# ---------------------------------------------------------------- exports


def to_graphml(drawing: Drawing) -> bytes:
    graph = nx.DiGraph(title=drawing.title)
    for n in drawing.nodes:
        attrs = {"label": n.get("label") or "", "type": n.get("sg_type") or "", "level": n.get("level", -1),
                 "title": n.get("title") or ""}
        if n.get("sg_severity"):
            attrs["severity"] = n["sg_severity"]
        if n.get("sg_muted"):
            attrs["muted"] = True
        graph.add_node(n["id"], **attrs)
    for e in drawing.edges:
        graph.add_edge(e["from"], e["to"], type=e.get("title") or "")
    out = io.BytesIO()
    nx.write_graphml(graph, out)
    return out.getvalue()


def to_json(drawing: Drawing) -> bytes:
    body = {"title": drawing.title, "as_of": drawing.as_of, "nodes": drawing.nodes, "edges": drawing.edges,
            "answers": drawing.answers}
    return json.dumps(body, ensure_ascii=False, indent=1, default=str).encode()


def script_json(data: Any) -> str:
    """JSON safe inside a <script> element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def templates_env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
    env.filters["script_json"] = script_json
    env.filters["urlencode"] = urlencode_all  # an id in a link: `/` encoded too (api/entity_ids.py)
    return env


def _inline(text: str, tag: str) -> str:
    return text.replace(f"</{tag}", f"<\\/{tag}")


def standalone_html(drawing: Drawing) -> str:
    """One HTML file with vis-network, the page script and the data inlined: works offline, loads nothing."""
    from markupsafe import Markup

    env = templates_env()
    return env.get_template("standalone.html").render(
        drawing=drawing,
        answers=drawing.answers,
        severity_colours=SEVERITY_COLOURS,
        vis_js=Markup(_inline(VIS_JS.read_text(encoding="utf-8"), "script")),
        vis_css=Markup(_inline(VIS_CSS.read_text(encoding="utf-8"), "style")),
        ui_js=Markup(_inline((STATIC / "ui.js").read_text(encoding="utf-8"), "script")),
        ui_css=Markup(_inline((STATIC / "ui.css").read_text(encoding="utf-8"), "style")),
    )
