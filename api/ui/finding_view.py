"""The finding-centred view, /ui/exposure/finding/{id}: the finding (what, where, who reported it, when, its
status and sources) and the affiliates exposed to it, drawn as the network of their paths and listed with
their contract and every entity on the path linked.

An affiliate's key opens it only for a finding of its own exposure answer (else 404, as an unknown id),
and then sees only its own path, and only the finding's sources its own answer names. Its export is the
exposure view's (/ui/exposure/finding/{id}/export.html), which `supplygraph viz finding ID` writes too.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from supplygraph.api.keys import Principal, Role
from supplygraph.api.visible import Visible
from supplygraph.queries.finding_card import finding_card
from supplygraph.queries.reverse import exposed_affiliates

from . import network, own_pages, pages
from .exposure_routes import cached_exposure_drawing
from .guard import guarded, parse_day, parse_int
from .overview import cached, money

router = APIRouter()


def path_links(keys: list[str], visible: Visible | None) -> list[dict[str, Any]]:
    """Each node of a drawn path ('Label:id') with its entity page, where the caller may open it (`visible`:
    an affiliate key's set, api/ui/own_pages.py; None: every page)."""
    out = []
    for key in keys:
        label, _, node_id = key.partition(":")
        out.append({"type": label.lower(), "id": node_id, "href": visible is None or visible.has(label, node_id)})
    return out


@router.get("/exposure/finding/{id_:entity_id}")
def finding_page(request: Request, id_: str, as_of: str | None = None, depth: str | None = None) -> Response:
    def work(caller: Principal) -> Response:
        drawing = cached_exposure_drawing(request, caller, "finding", id_, as_of, depth)  # 404 to a key not exposed
        day = parse_day(as_of)
        d = parse_int(depth, 4, "depth", 1, pages.app_state(request).settings.max_depth)
        own = caller.affiliate_id if caller.role == Role.affiliate else None
        allowed: set[str] | None = None
        if own is not None:  # the finding's sources its own answer names
            mine = cached_exposure_drawing(request, caller, "affiliate", own, as_of, depth)
            allowed = {s["id"] for a in mine.answers if a["kind"] == "finding" and a["id"] == id_ for s in a["sources"]}
        card, reverse = cached(request, caller, ("finding", id_, day, d, own), lambda store: (
            finding_card(store, id_, allowed),
            exposed_affiliates(store, "finding", id_, day, d, only=own).as_json()))
        keys = {a["id"]: a.get("keys", []) for a in drawing.answers if a["kind"] == "affiliate"}
        visible = own_pages.own_visible(own_pages.own_graph_of(request, caller, day.isoformat())) if own else None
        page_query = f"?as_of={day.isoformat()}" if own else ""  # its pages open what its answer that day names
        exposed = [{**a, "links": path_links(keys.get(a["id"], []), visible)} for a in reverse["affiliates"]]
        return pages.page(request, "finding.html", caller, drawing=drawing, finding=card, exposed=exposed,
                          leverage=reverse["leverage"], day=day.isoformat(), depth=d, item_id=id_, money=money,
                          page_query=page_query,
                          query=f"?as_of={day.isoformat()}&depth={d}", **network.legend())

    return guarded(request, work)
