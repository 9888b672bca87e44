"""What the finding-centred view says about one finding: what was found, where, by whom, when, its status,
and its sources with title, URL and date."""

from __future__ import annotations

from datetime import date
from typing import Any

from supplygraph.graph.errors import NotFound
from supplygraph.graph.stores.protocol import Store
from supplygraph.queries.entity_cypher import SOURCES_BY_ID

FINDING_CARD = (
    "MATCH (fi:Finding {id: $id}) RETURN fi.id AS id, fi.category AS category, fi.severity AS severity,"
    " fi.status AS status, fi.subject_type AS subject_type, fi.subject_id AS subject_id, fi.monitor AS monitor,"
    " fi.summary AS summary, fi.reported_on AS reported_on, fi.closed_on AS closed_on, fi.source_ids AS sources"
)


def _text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def finding_card(store: Store, finding_id: str, sources_allowed: set[str] | None = None) -> dict[str, Any]:
    """The finding's properties and its own sources (only those in `sources_allowed`, when given)."""
    rows = store.run(FINDING_CARD, {"id": finding_id})
    if not rows:
        raise NotFound(f"no finding with id {finding_id!r}")
    row = {k: _text(v) for k, v in rows[0].items()}
    ids = sorted(s for s in (row.pop("sources") or []) if sources_allowed is None or s in sources_allowed)
    found = {r["id"]: {k: _text(v) for k, v in r.items()} for r in store.run(SOURCES_BY_ID, {"ids": ids})} if ids else {}
    row["sources"] = [found.get(s, {"id": s}) for s in ids]
    row["subject"] = {"type": row.pop("subject_type"), "id": row.pop("subject_id")}
    return row
