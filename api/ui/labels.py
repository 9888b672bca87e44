"""Names and labels of the ids a drawing shows, and the sources they cite."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.stores.protocol import Store
from supplygraph.queries import entity_cypher as q
from supplygraph.queries.entity_cypher import fill

from . import cypher as ui_cypher


def labels_of(
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


def source_rows(store: Store, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {r["id"]: {k: (v.isoformat() if isinstance(v, date) else v) for k, v in r.items()}
            for r in store.run(q.SOURCES_BY_ID, {"ids": wanted})}


def short(text: str, width: int = 28) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
