"""An entity's page: its properties, sources and findings, its neighbourhood drawing, neighbour pages, and
search by name or id."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from supplygraph.api.ui.entity_links import property_links, web_url
from supplygraph.api.ui.labels import short, source_rows
from supplygraph.api.ui.network import (
    ENTITY_NODE_BUDGET,
    NEIGHBOUR_CAP,
    STYLE,
    Drawing,
    NetworkBuilder,
    finding_style,
    network_options,
)
from supplygraph.graph.errors import InvalidParameter, NotFound
from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.stores.protocol import Store
from supplygraph.queries import entity_cypher as q
from supplygraph.queries.entities import entity_node, for_dialect, linked_source_ids
from supplygraph.queries.entity_cypher import fill
from supplygraph.queries.link_index import finding_open
from supplygraph.queries.search import search as search_nodes

from . import cypher as ui_cypher

LABELS = {label.lower(): label for label in SCHEMA.nodes}


def entity_detail(store: Store, type_: str, id_: str, hidden: list[str], redacted: set[str]) -> dict[str, Any]:
    label = LABELS.get(type_)
    if label is None:
        raise NotFound(f"no {type_} with id {id_!r}")
    node = {k: v for k, v in entity_node(store, label, id_, type_).items() if k not in redacted}
    display = SCHEMA.nodes[label].display
    source_ids = linked_source_ids(store, label, id_, node, hidden)
    sources = [{**s, "link": web_url(s.get("url"))} for s in source_rows(store, source_ids[:200]).values()]
    findings: list[dict[str, Any]] = []
    closed: list[dict[str, Any]] = []  # remediated, closed or not yet reported: listed muted
    if type_ in ("factory", "agency", "company"):
        today = date.today()
        for row in store.run(ui_cypher.FINDINGS_OF, {"id": id_, "subject_type": type_}):
            (findings if finding_open(row, today) else closed).append(
                {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()})
    return {
        "type": type_,
        "label": label,
        "id": id_,
        "name": str(node.get(display)) if display != "id" and node.get(display) is not None else id_,
        "properties": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in node.items()},
        "links": property_links(label, node),  # properties naming other entities: linked to their pages
        "web": {k: web_url(v) for k, v in node.items() if web_url(v)},  # http(s) URLs: linked
        "sources": sources,
        "findings": findings,
        "closed_findings": closed,
    }


def neighbours_page(
    store: Store, label: str, id_: str, hidden: list[str], offset: int = 0, limit: int = NEIGHBOUR_CAP
) -> tuple[list[dict[str, Any]], int]:
    params = {"id": id_, "hidden": hidden}
    total = store.run(fill(for_dialect(q.NEIGHBOUR_COUNT, store), label=label), params)[0]["n"]
    rows = store.run(fill(for_dialect(q.NEIGHBOURS, store), label=label), {**params, "skip": offset, "limit": limit})
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
        open_ = finding_open(finding, today)
        extra.update(finding_style(finding.get("severity"), open_), sg_severity=finding.get("severity"),
                     sg_muted=not open_)
        state = "open" if open_ else f"not open on {today.isoformat()}"
        title += f", severity {finding.get('severity')}, {finding.get('status')} ({state})"
    builder.node(key, kind, short(name or id_), title, sg_type=kind, sg_id=id_, sg_label=label, **extra)
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


def search(
    store: Store, needle: str, limit: int = 25, *, among: Any = None, type_: str | None = None,
    country: str | None = None,
) -> list[dict[str, Any]]:
    """Per type (factories first): the count of matches and the first `limit` of them with their country
    (queries/search.py: accents, case and word order ignored). `among`: see queries.search.search."""
    labels = [type_] if type_ else None
    groups = []
    for found in search_nodes(store, needle, labels, country, among):
        groups.append({"type": found.label.lower(), "label": found.label, "count": len(found.items),
                       "items": [{"id": i, "name": name, "country": c} for _l, i, name, c in found.items[:limit]]})
    return groups
