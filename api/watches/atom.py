"""A watch's change events as an Atom feed (RFC 4287), newest first.

Feed readers send no bearer key, so the feed is served at a secret URL (api/routers/watches.py);
what it shows is exactly what GET /v1/watches/{id}/changes shows to the watch's owner.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from supplygraph.api.watches.model import Watch

ATOM = "http://www.w3.org/2005/Atom"
WORDS = {
    "factory_added": "newly exposed factory",
    "factory_removed": "factory no longer exposed",
    "tier_changed": "tier changed",
    "agency_added": "newly exposed agency",
    "agency_removed": "agency no longer exposed",
    "finding_exposed": "newly exposed finding",
    "finding_no_longer_open": "finding no longer open",
    "finding_unexposed": "finding no longer exposed",
    "severity_changed": "severity changed",
    "gap_added": "new disclosure gap",
    "gap_removed": "disclosure gap closed",
    "affiliate_added": "newly exposed affiliate",
    "affiliate_removed": "affiliate no longer exposed",
    "basis_changed": "basis changed",
}


def title_of(event: dict[str, Any]) -> str:
    """One line saying what changed, e.g. "newly exposed factory FA-1 (tier 2)"."""
    words = f"{WORDS.get(event['type'], event['type'])} {event['item']['id']}"
    before, after = event.get("before") or {}, event.get("after") or {}
    if event["type"] in ("tier_changed", "severity_changed", "basis_changed"):
        field = event["type"].split("_")[0]
        return f"{words}: {before.get(field)} -> {after.get(field)}"
    if event["type"] == "finding_no_longer_open":
        return f"{words} ({after.get('state')})"
    if (after or before).get("tier") is not None:
        return f"{words} (tier {(after or before)['tier']})"
    return words


def feed_xml(watch: Watch, events: list[dict[str, Any]], self_url: str) -> bytes:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "id", f"urn:supplygraph:watch:{watch.id}")
    _text(feed, "title", f"supplygraph watch {watch.id}: {watch.kind} {watch.target}")
    _text(feed, "updated", _stamp(events[0]) if events else watch.created)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_url)
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", "supplygraph")
    for event in events:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", f"urn:supplygraph:event:{event['id']}")
        _text(entry, "title", title_of(event))
        _text(entry, "updated", _stamp(event))
        path = " -> ".join(event.get("path", []))
        sources = ", ".join(event.get("sources", [])) or "none"
        summary = f"{title_of(event)} on {event.get('as_of')}; path {path}; sources {sources}"
        _text(entry, "summary", summary)
        content = ET.SubElement(entry, f"{{{ATOM}}}content", type="application/json")
        content.text = json.dumps(event, ensure_ascii=False, sort_keys=True)
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))


def _text(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}{tag}").text = text


def _stamp(event: dict[str, Any]) -> str:
    return str(event.get("recorded") or f"{event.get('as_of')}T00:00:00Z")
