"""Answering every watch again after a load and when the day changes, and recording what changed.

`evaluate_watches` answers each watch for a day on one generation of the graph (one exposure index
for all of them), compares the answer with the watch's last recorded one (queries/changes.py), and
records the new answer with its change events and webhook deliveries in one transaction. A watch
already answered for that generation and day is skipped, so running it again after a crash does
only what is left, and the events it records again have the same ids (recorded once).

In the server, `WatchService` does this in a background thread whenever the current generation or
the day changes (checked every `every_s`), and sends webhooks from another thread (api/webhooks.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict
from supplygraph.api.watch_store import WatchStore, watches_path
from supplygraph.api.webhooks import Backoff, Deliverer
from supplygraph.graph.errors import NotFound, SupplygraphError
from supplygraph.graph.stores.protocol import Store
from supplygraph.queries.changes import Snapshot, changes, finding_states, watch_answer
from supplygraph.queries.steps import steps_for

logger = logging.getLogger(__name__)


class WatchSettings(BaseSettings):
    """SUPPLYGRAPH_WATCH_EVERY_S and so on: how often the server looks, and how webhooks are retried."""

    model_config = SettingsConfigDict(env_prefix="SUPPLYGRAPH_WATCH_", extra="ignore")

    every_s: float = 5.0  # how often the server checks for a new generation or a new day
    deliver_every_s: float = 1.0  # how often the outbox is looked at for due deliveries
    retry_first_s: float = 30.0  # the wait after a first failed delivery; it doubles after each
    retry_max_s: float = 3600.0  # the longest wait between two attempts
    give_up_h: float = 24.0  # no attempt later than this after the first
    webhook_timeout_s: float = 10.0  # a receiver's time to answer


@dataclass
class Evaluation:
    """What one pass did: watches answered, skipped (already answered), failed; events recorded."""

    answered: int = 0
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    events: int = 0
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "answered": self.answered,
            "skipped": self.skipped,
            "failed": self.failed,
            "events": self.events,
            "seconds": round(self.seconds, 3),
        }


def evaluate_watches(store: Store, watches: WatchStore, day: date, *, only: list[str] | None = None) -> Evaluation:
    """Answers every watch (or those in `only`) for `day` on the store's generation and records changes.

    The cause written on each event: the load (generation) when the generation differs from the one
    last answered, else the day."""
    started = time.perf_counter()
    generation = store.generation
    steps = steps_for(store)
    done = Evaluation()
    answered = watches.answered()
    for watch in watches.watches():
        if only is not None and watch.id not in only:
            continue
        if answered.get(watch.id) == (generation, day.isoformat()):
            done.skipped += 1
            continue
        last = watches.last_answer(watch.id)
        try:
            snapshot = _answer(store, watch.question, day, steps)
            before = None if last is None else last.snapshot
            left = set((before or {}).get("findings", {})) - set(snapshot.get("findings", {}))
            events = changes(
                watch.id,
                before,
                snapshot,
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
        done.events += watches.record(watch.id, snapshot, generation, day.isoformat(), events)
        done.answered += 1
    done.seconds = time.perf_counter() - started
    return done


def _answer(store: Store, question: Any, day: date, steps: Any) -> Snapshot:
    """The watch's answer; a target no longer in the graph has an empty answer (everything removed)."""
    try:
        return watch_answer(store, question, day, steps=steps)
    except NotFound:
        if question.kind == "affiliate":
            return {"factories": {}, "agencies": {}, "findings": {}, "gaps": {}}
        return {"affiliates": {}}


class WatchService:
    """The server's two background threads: evaluation on each new generation or day, and webhooks."""

    def __init__(
        self,
        watches: WatchStore,
        use_store: Callable[[], Any],
        *,
        settings: WatchSettings | None = None,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.watches = watches
        self.use_store = use_store  # a context manager giving the current generation's store
        self.settings = settings = settings or WatchSettings()
        self.today = today
        backoff = Backoff(settings.retry_first_s, settings.retry_max_s, settings.give_up_h * 3600)
        self.deliverer = Deliverer(watches, backoff, settings.webhook_timeout_s)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.seen: tuple[str | None, date] | None = None
        self.last: Evaluation | None = None

    def evaluate_now(self) -> Evaluation | None:
        """One pass if the generation or the day changed since the last one."""
        with self.use_store() as store:
            now = (store.generation, self.today())
            if now == self.seen:
                return None
            self.last = evaluate_watches(store, self.watches, now[1])
            self.seen = now
            return self.last

    def _evaluate_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.evaluate_now()
            except SupplygraphError:
                pass  # no graph yet, or the store is away: the next pass tries again
            except Exception:
                logger.exception("watch evaluation failed")
            self._stop.wait(self.settings.every_s)

    def start(self) -> None:
        self._threads = [
            threading.Thread(target=self._evaluate_loop, name="watch-evaluation", daemon=True),
            threading.Thread(
                target=self.deliverer.run,
                args=(self._stop, self.settings.deliver_every_s),
                name="webhooks",
                daemon=True,
            ),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


def watch_service_for(keys_file: Any, use_store: Callable[[], Any]) -> WatchService:
    """The server's service over `watches.sqlite` beside the key file."""
    return WatchService(WatchStore(watches_path(keys_file)), use_store)
