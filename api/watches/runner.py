"""Answering every watch again after a load and when the day changes, and recording what changed.

`evaluate_watches` answers each watch for a day on one generation of the graph (one exposure index
for all of them), compares the answer with the watch's last recorded one (queries/changes.py), and
records the new answer with its change events and webhook deliveries in one transaction. A watch
already answered for that generation and day is skipped, so running it again after a crash does
only what is left, and the events it records again have the same ids (recorded once).

In the server, api/watches/service.py runs it whenever the current generation or the day changes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from supplygraph.api.watches.store import WatchStore
from supplygraph.graph.errors import NotFound, SupplygraphError
from supplygraph.graph.stores.protocol import Store
from supplygraph.queries.changes import Snapshot, changes, encoded, finding_states, watch_answer
from supplygraph.queries.steps import steps_for

logger = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """What one pass did: watches answered, skipped (already answered), failed; events recorded."""

    answered: int = 0
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    events: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU time: what the pass costs on a machine with nothing else to do

    def as_json(self) -> dict[str, Any]:
        return {
            "answered": self.answered,
            "skipped": self.skipped,
            "failed": self.failed,
            "events": self.events,
            "seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
        }


def evaluate_watches(
    store: Store, watches: WatchStore, day: date, *, only: list[str] | None = None, tenants: set[str] | None = None
) -> Evaluation:
    """Answers every watch (or those in `only`; of `tenants`, when given: api/watch_access.live_tenants) for
    `day` on the store's generation and records changes.

    The cause written on each event: the load (generation) when the generation differs from the one
    last answered, else the day."""
    started, cpu = time.perf_counter(), time.process_time()
    done = Evaluation()
    with watches.kept_open():
        _evaluate(store, watches, day, only, tenants, done)
    done.seconds, done.cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return done


def _evaluate(
    store: Store, watches: WatchStore, day: date, only: list[str] | None, tenants: set[str] | None, done: Evaluation
) -> None:
    generation = store.generation
    steps = steps_for(store)
    answered = watches.answered()
    for watch in watches.watches():
        if (only is not None and watch.id not in only) or (tenants is not None and watch.tenant not in tenants):
            continue
        if answered.get(watch.id) == (generation, day.isoformat()):
            done.skipped += 1
            continue
        last = watches.last_answer(watch.id)
        try:
            snapshot = _answer(store, watch.question, day, steps)
            answer = encoded(snapshot)
            events = []
            if last is not None and last.digest != answer[1]:  # the same answer has no changes
                before = last.snapshot
                left = set(before.get("findings", {})) - set(snapshot.get("findings", {}))
                events = changes(
                    watch.id,
                    before,
                    snapshot,
                    baseline=last.digest,
                    closed=finding_states(store, left, day),
                    min_severity=watch.min_severity,
                )
        except SupplygraphError as exc:
            done.failed[watch.id] = str(exc)
            logger.warning("watch %s could not be answered: %s", watch.id, exc)
            continue
        if last is None or last.generation != generation:
            cause = {"kind": "load", "generation": generation}
        else:
            cause = {"kind": "day", "day": day.isoformat(), "previous_day": last.day}
        for event in events:
            event.update(watch=watch.id, as_of=day.isoformat(), cause=cause)
        done.events += watches.record(watch.id, answer, generation, day.isoformat(), events)
        done.answered += 1


def _answer(store: Store, question: Any, day: date, steps: Any) -> Snapshot:
    """The watch's answer; a target no longer in the graph has an empty answer (everything removed)."""
    try:
        return watch_answer(store, question, day, steps=steps)
    except NotFound:
        if question.kind == "affiliate":
            return {"factories": {}, "agencies": {}, "findings": {}, "gaps": {}}
        return {"affiliates": {}}
