"""An affiliate's exposure view that stays readable at any size: its answer filtered (api/ui/view_filters.py),
the paths to findings and agencies drawn and the other factories folded per tier and country
(api/ui/folding.py), laid out in the screen's shape (api/ui/aspect_layout.py).

Every node carries the page it opens (`sg_href`): an entity page, or for a folded group the same view
with that group expanded. An affiliate's key reads only its own answer, so what it is shown, folded
groups and their counts included, is a part of that answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any
from urllib.parse import quote

from supplygraph.api.render import summary_lines
from supplygraph.api.ui.aspect_layout import aspect_layout
from supplygraph.api.ui.exposure_view import affiliate_answers, draw_paths
from supplygraph.api.ui.folding import FOLD_PREFIX, FoldPlan, fold_plan
from supplygraph.api.ui.labels import name_hints, source_rows
from supplygraph.api.ui.network import STYLE, Drawing, tier_options
from supplygraph.api.ui.view_filters import ViewFilters, apply_filters
from supplygraph.graph.stores.protocol import Store
from supplygraph.queries.exposure import exposure_for_affiliate

FONT_SIZE = 14  # canvas units; the browser starts at a zoom where it is at least 11 px (static/exposure.js)
LABEL_WIDTH = 60  # characters of a name drawn before it is cut
# Shapes small enough that a label under one stays clear of the next row (aspect_layout.ROW apart).
SMALL_SHAPES = {kind: STYLE[kind] | {"size": size} for kind, size in (
    ("contract", 7), ("product", 8), ("factory", 7), ("agency", 8), ("subagent", 7), ("company", 7),
    ("item", 7), ("finding", 10))}
FOLD_LINKS = 4  # links drawn into a folded group at most (from other groups first, then drawn nodes)
FOLD_STYLE = {"shape": "box", "color": {"background": "#fbeedd", "border": "#e69138"},
              "shapeProperties": {"borderDashes": [5, 3]}, "font": {"size": FONT_SIZE + 1}}


@dataclass
class FoldedDrawing(Drawing):
    """A folded view: besides the drawing, each drawn id's (node key, name, page) and each folded factory's group."""

    links: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    folded_of: dict[str, str] = field(default_factory=dict)
    pages: bool = True  # whether entity pages are linked
    page_query: str = ""  # an affiliate's key: "?as_of=..." (its pages open what its answer of that day names)


def entity_href(key: str, pages: bool = True, query: str = "") -> str | None:
    """The entity page of a drawing's node key 'Label:id' (None when entity pages are not linked)."""
    label, node_id = key.split(":", 1)
    return f"/ui/entity/{label.lower()}/{quote(node_id, safe='')}{query}" if pages else None


def folded_drawing(
    store: Store, affiliate_id: str, as_of: date, depth: int, filters: ViewFilters,
    *, findings_allowed: set[str] | None = None,
) -> FoldedDrawing:
    """The view of an affiliate's exposure answer on `as_of` at `depth`, as `filters` ask.

    `findings_allowed`: for an affiliate's key, the findings of its own answer (no other is drawn).
    """
    whole = exposure_for_affiliate(store, affiliate_id, as_of, depth).as_json()
    pages = True  # an affiliate's key: the pages of what its own answer of that day names (api/ui/own_pages.py)
    query = "" if findings_allowed is None else f"?as_of={as_of.isoformat()}"
    answer = apply_filters(whole, filters)
    plan = fold_plan(answer, filters.expand, fold=filters.fold_choice, findings_only=filters.findings_only)
    answers, open_findings = affiliate_answers(store, answer)
    shown = {f["id"] for f in answer["findings"]}
    finding_filter = filters.min_severity or filters.category or filters.tier or filters.country or filters.min_basis
    allowed = shown if finding_filter or findings_allowed is not None else None
    by_id = {a["id"]: a for a in answers if a["path"]}
    bases = [by_id[path[-1]].get("basis", "disclosed") if path[-1] in by_id else "disclosed" for path in plan.paths]
    drawing, keys = draw_paths(store, plan.paths, as_of, open_findings, name_hints(answer), allowed, bases,
                               label_width=LABEL_WIDTH)
    key_of: dict[str, str] = {}  # id -> its node's key (ids are unique across labels but for rare clashes)
    for path_keys in keys:
        for k in path_keys:
            key_of.setdefault(k.split(":", 1)[1], k)
    _add_groups(drawing, plan, key_of, filters, affiliate_id)
    for node in drawing.nodes:
        if "sg_href" not in node:
            node["sg_href"] = entity_href(node["id"], query=query)
    aspect_layout(drawing.nodes, drawing.edges)
    drawing.options = tier_options() | {"groups": STYLE | SMALL_SHAPES | {"fold": FOLD_STYLE}}
    drawing.options["nodes"] = {"font": {"size": FONT_SIZE, "face": "sans-serif"}}
    label_of = {n["id"]: n["label"] for n in drawing.nodes}
    folded = FoldedDrawing(**{f.name: getattr(drawing, f.name) for f in fields(Drawing)}, folded_of=plan.folded_of,
                           links={i: (k, label_of.get(k, i), entity_href(k, pages, query)) for i, k in key_of.items()},
                           pages=pages, page_query=query)
    sources = source_rows(store, (s for a in answers for s in a["sources"]))
    for a in answers:
        a["sources"] = [sources.get(s, {"id": s}) for s in a["sources"]]
    drawing = folded
    drawing.answers = answers
    drawing.title = f"Exposure of {whole['affiliate']['name']} ({affiliate_id})"
    drawing.as_of = as_of.isoformat()
    drawing.summary = summary_lines(answer["summary"])
    drawing.summary.append(_fold_line(plan))
    return drawing


def with_links(drawing: FoldedDrawing, answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`answers` (some of the drawing's) with the keys of their drawn path, and their item and path as links.

    Done for the answers a page lists, not for all of a large view's at once."""
    links = drawing.links
    for a in answers:
        if "path_links" in a:
            continue
        keys = [links[i][0] for i in a["path"] if i in links]
        if a["id"] in drawing.folded_of:
            keys.append(FOLD_PREFIX + drawing.folded_of[a["id"]])
        a["keys"] = keys
        a["path_links"] = [(i, links[i][1], links[i][2]) if i in links else (i, i, None) for i in a["path"]]
        a["href"] = links[a["id"]][2] if a["id"] in links else entity_href(
            f"{a['kind']}:{a['id']}", drawing.pages, drawing.page_query)
        a["source_pages"] = drawing.pages
        a["page_query"] = drawing.page_query
    return answers


def _fold_line(plan: FoldPlan) -> str:
    if plan.omitted:
        return f"  {plan.omitted:,} factories off the paths to findings are not drawn"
    if not plan.groups:
        return "  every factory drawn"
    return (f"  {plan.folded:,} factories without findings or agencies on the way to one, folded into "
            f"{len(plan.groups):,} nodes by tier and country (click one to draw its factories)")


def _add_groups(drawing: Drawing, plan: FoldPlan, key_of: dict[str, str], filters: ViewFilters, own: str) -> None:
    """A node for each folded group, in a column after its tier's factories, linked from the nodes its factories are reached from."""
    known = {n["id"] for n in drawing.nodes}
    for group in plan.groups.values():
        sources = sorted({s for s in (p if p.startswith(FOLD_PREFIX) else key_of.get(p) for p in group.parents)
                          if s is not None and (s in known or s.startswith(FOLD_PREFIX))},
                         key=lambda s: (not s.startswith(FOLD_PREFIX), s))
        drawn = f"; {FOLD_LINKS} of those links drawn" if len(sources) > FOLD_LINKS else ""
        drawing.nodes.append({
            "id": group.key, "label": group.label, "group": "fold", "level": 3.5 + group.tier, "sg_type": "fold",
            "sg_tier": group.tier, "sg_country": group.country, "sg_count": len(group.factories),
            "title": f"{group.label}, reached from {len(sources):,} nodes{drawn}: click to draw them one by one",
            "sg_href": f"/ui/exposure/affiliate/{quote(own, safe='')}{filters.expanded(group.name)}",
        })
        drawing.edges.extend({"from": s, "to": group.key, "dashes": [5, 3]} for s in sources[:FOLD_LINKS])
