"""A drawing as files: GraphML (Gephi, networkx), JSON, and one standalone HTML page that works offline;
and the template environment of the pages."""

from __future__ import annotations

import io
import json

import networkx as nx
from fastapi.responses import Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from supplygraph.api.entity_ids import urlencode_all
from supplygraph.api.ui.network import SEVERITY_COLOURS, STATIC, TEMPLATES, VIS_CSS, VIS_JS, Drawing, script_json
from supplygraph.graph.errors import NotFound


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


EXPORTS = {"graphml": "application/graphml+xml", "json": "application/json", "html": "text/html"}


def export_response(drawing: Drawing, fmt: str, stem: str) -> Response:
    """The drawing as a download in `fmt` (graphml, json or html); NotFound for another format."""
    if fmt not in EXPORTS:
        raise NotFound("no such export format")
    if fmt == "graphml":
        body = to_graphml(drawing)
    elif fmt == "json":
        body = to_json(drawing)
    else:
        body = standalone_html(drawing).encode()
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)
    headers = {"Content-Disposition": f'attachment; filename="{safe}.{fmt}"', "Cache-Control": "no-store"}
    return Response(body, media_type=EXPORTS[fmt], headers=headers)
