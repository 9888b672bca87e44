"""What changed between two answers to one watched question, as change events with stable ids.

A watch asks either an affiliate's exposure (queries/exposure.py) or who is exposed to a factory,
agency or finding (queries/reverse.py); `watch_answer` asks it through those engines and keeps a
snapshot: per section, each item's id with what a change is about (tier, basis, severity, status) and
its path and sources. `changes` compares two snapshots item by item:

- factories: `factory_added` / `factory_removed` (with the tier), `tier_changed`;
- agencies: `agency_added` / `agency_removed`;
- findings: `finding_exposed`, `finding_no_longer_open` (closed or remediated on the day, as the
  finding's own dates and status say; or not yet reported on an earlier day), `finding_unexposed` (still open, no longer on a path),
  `severity_changed`;
- gaps (products bought with no active assembly): `gap_added` / `gap_removed`;
- reverse watches: `affiliate_added` / `affiliate_removed`, `tier_changed` (factories);
- any of them: `basis_changed`.

An event's id is a hash of the watch, the snapshot it was compared with, and the change itself
(type, item, before, after): computing the same change again gives the same id, however often and
whatever caused the computation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from supplygraph.graph.stores.protocol import Store
from supplygraph.queries.exposure import exposure_for_affiliate
from supplygraph.queries.reverse import exposed_affiliates
from supplygraph.queries.steps import CypherSteps

WATCH_KINDS = ("affiliate", "factory", "agency", "finding")
SEVERITIES = ("low", "medium", "high", "critical")
FINDING_STATES = (
    "MATCH (fi:Finding) WHERE fi.id IN $ids "
    "RETURN fi.id AS id, fi.status AS status, fi.closed_on AS closed_on, fi.reported_on AS reported_on"
)
# What each section's items are compared on (the rest of an item is carried along, not compared).
COMPARED = {
    "factories": ("tier", "basis"),
    "agencies": ("basis",),
    "findings": ("severity", "basis"),
    "gaps": (),
    "affiliates": ("tier", "basis"),
}
SINGULAR = {
    "factories": "factory",
    "agencies": "agency",
    "findings": "finding",
    "gaps": "gap",
    "affiliates": "affiliate",
}

Snapshot = dict[str, dict[str, dict[str, Any]]]  # section -> item id -> what is kept of it


@dataclass(frozen=True)
class Question:
    """What a watch asks: `kind` is affiliate (its exposure) or factory/agency/finding (who is exposed)."""

    kind: str
    target: str
    depth: int = 4
    min_basis: str | None = None
    min_severity: str | None = None


def watch_answer(store: Store, question: Question, day: date, *, steps: CypherSteps | None = None) -> Snapshot:
    """The watch's answer on `day` as a snapshot, from the exposure engine (no walk of its own)."""
    if question.kind == "affiliate":
        answer = exposure_for_affiliate(
            store, question.target, day, question.depth, steps=steps, min_basis=question.min_basis
        ).as_json()
        return {
            "factories": _items(answer["factories"], ("name", "country", "tier", "basis")),
            "agencies": _items(answer["agencies"], ("name", "country", "basis")),
            "findings": _items(answer["findings"], ("category", "severity", "status", "subject", "basis")),
            "gaps": _items(answer["gaps"], ("model", "brand", "item", "brand_list"), paths=False),
        }
    reverse = exposed_affiliates(
        store, question.kind, question.target, day, question.depth, min_basis=question.min_basis
    )
    return {"affiliates": _items(reverse.affiliates, ("name", "tier", "basis"))}


def _items(
    items: Iterable[Mapping[str, Any]], keep: tuple[str, ...], *, paths: bool = True
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        if item["id"] in out:  # a gap per product: the first item names it
            continue
        kept = {k: item.get(k) for k in keep if item.get(k) is not None}
        if paths:
            kept["path"], kept["sources"] = list(item["path"]), list(item["sources"])
        out[item["id"]] = kept
    return out


def encoded(snapshot: Snapshot) -> tuple[bytes, str]:
    """A snapshot as JSON, and its fingerprint: the same answer gives the same bytes (its items come in the
    answer's own order), so the same digest."""
    data = json.dumps(snapshot, ensure_ascii=False, separators=(",", ":")).encode()
    return data, hashlib.sha256(data).hexdigest()


def finding_states(store: Store, ids: Iterable[str], day: date) -> dict[str, dict[str, Any]]:
    """For findings that left an answer: those no longer open on `day`, with their status and closing day."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    closed: dict[str, dict[str, Any]] = {}
    for row in store.run(FINDING_STATES, {"ids": wanted}):
        state = finding_state(row, day)
        if state != "open":
            closed[row["id"]] = {"status": row["status"], "closed_on": _iso(row["closed_on"]), "state": state}
    return closed


def finding_state(row: Mapping[str, Any], day: date) -> str:
    """open; closed (its closing day has come); remediated (no closing day, status remediated); or
    not_yet_reported (reported after `day`: a watch asked about an earlier day)."""
    reported_on, closed_on = _day(row.get("reported_on")), _day(row.get("closed_on"))
    if reported_on is not None and reported_on > day:
        return "not_yet_reported"
    if closed_on is not None:
        return "closed" if closed_on <= day else "open"
    return "remediated" if row.get("status") == "remediated" else "open"


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _iso(value: Any) -> str | None:
    found = _day(value)
    return None if found is None else found.isoformat()


def changes(
    watch_id: str,
    before: Snapshot | None,
    after: Snapshot,
    *,
    baseline: str = "none",
    closed: Mapping[str, Mapping[str, Any]] | None = None,
    min_severity: str | None = None,
) -> list[dict[str, Any]]:
    """The change events from `before` to `after` (none when there is no `before`: the first answer is
    the baseline). `baseline`: the digest of `before` (`encoded`), part of each event's id. `closed`:
    findings no longer open, from `finding_states`. Sorted by section, item, type."""
    if before is None:
        return []
    closed = closed or {}
    events = []
    for section in sorted(set(before) | set(after)):
        old, new = before.get(section, {}), after.get(section, {})
        for item_id in sorted(set(old) | set(new)):
            for kind, was, now in _item_changes(section, item_id, old.get(item_id), new.get(item_id), closed):
                if section == "findings" and not _severe_enough(was, now, min_severity):
                    continue
                item = now if now is not None else was
                assert item is not None
                event = {
                    "type": kind,
                    "item": {"type": SINGULAR[section], "id": item_id},
                    "before": _compared(section, was),
                    "after": dict(closed[item_id]) if kind == "finding_no_longer_open" else _compared(section, now),
                    "path": list(item.get("path", [])),
                    "sources": list(item.get("sources", [])),
                    "details": {k: v for k, v in item.items() if k not in ("path", "sources")},
                }
                event["id"] = event_id(watch_id, baseline, event)
                events.append(event)
    return events


Change = tuple[str, dict[str, Any] | None, dict[str, Any] | None]  # type, the item before, the item after


def _item_changes(
    section: str,
    item_id: str,
    was: dict[str, Any] | None,
    now: dict[str, Any] | None,
    closed: Mapping[str, Any],
) -> list[Change]:
    noun = SINGULAR[section]
    if was is None and now is not None:
        return [("finding_exposed" if section == "findings" else f"{noun}_added", None, now)]
    if now is None and was is not None:
        if section == "findings":
            return [("finding_no_longer_open" if item_id in closed else "finding_unexposed", was, None)]
        return [(f"{noun}_removed", was, None)]
    assert was is not None and now is not None
    found: list[Change] = []
    if section in ("factories", "affiliates") and was.get("tier") != now.get("tier"):
        found.append(("tier_changed", was, now))
    if section == "findings" and was.get("severity") != now.get("severity"):
        found.append(("severity_changed", was, now))
    if was.get("basis") != now.get("basis"):
        found.append(("basis_changed", was, now))
    return found


def _compared(section: str, item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {k: item.get(k) for k in COMPARED[section]}


def _severe_enough(was: dict[str, Any] | None, now: dict[str, Any] | None, minimum: str | None) -> bool:
    """A finding's event counts when the finding meets `minimum` before or after the change."""
    if minimum is None:
        return True
    least = SEVERITIES.index(minimum)
    ranks = [SEVERITIES.index(s) for s in ((was or {}).get("severity"), (now or {}).get("severity")) if s in SEVERITIES]
    return bool(ranks) and max(ranks) >= least


def event_id(watch_id: str, baseline: str, event: Mapping[str, Any]) -> str:
    """The same change of the same watch from the same recorded answer: the same id."""
    what = [watch_id, baseline, event["type"], event["item"], event["before"], event["after"]]
    text = json.dumps(what, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "ev_" + hashlib.sha256(text.encode()).hexdigest()[:32]
