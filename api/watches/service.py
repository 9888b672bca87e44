"""The server's watch service: evaluation after each load and each day, in a worker process, and webhooks.

Every `every_s` a thread looks at the current generation and the day; when either changed since its
last pass, every watch is answered again (api/watches/runner.py) in a worker process of its own, started
at a lower CPU priority (as the exposure walkers, api/walkers.py), so that the evaluation of many
watches takes no time from the server's interpreter and its other answers. A pass that fails (the
worker died, the store went away) is tried again at the next look. Another thread sends the webhook
outbox (api/watches/webhooks.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict
from supplygraph.api import walkers
from supplygraph.api.keys import KeyRing, Keys
from supplygraph.api.watches.access import live_tenants
from supplygraph.api.watches.runner import Evaluation, evaluate_watches
from supplygraph.api.watches.store import WatchStore, watches_path
from supplygraph.api.watches.webhooks import Backoff, Deliverer
from supplygraph.graph.errors import SupplygraphError
from supplygraph.graph.stores import open_from_config

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
    buffer_pool_mb: int = 256  # LadybugDB buffer pool of the evaluating worker process


def evaluate_in_worker(
    config: Mapping[str, Any],
    generation: str | None,
    watch_file: str,
    day: date,
    keys_file: str | None = None,
    live: list[str] | None = None,
) -> Evaluation:
    """In a worker process: every watch (of a tenant with a live key in `keys_file`, or among `live`, when
    given) answered for `day` on `generation` of the graph `config` names."""
    store = open_from_config(config, generation, buffer_pool_size=int(config["buffer_pool_bytes"]))
    tenants = set(live) if live is not None else None if keys_file is None else live_tenants(KeyRing(Path(keys_file)))
    try:
        return evaluate_watches(store, WatchStore(Path(watch_file)), day, tenants=tenants)
    finally:
        store.close()


class WatchService:
    """The server's two background threads: evaluation on each new generation or day, and webhooks.
    `use_store` is a context manager giving the store of the current generation (api/deps.py)."""

    def __init__(
        self,
        watches: WatchStore,
        use_store: Callable[[], Any],
        *,
        settings: WatchSettings | None = None,
        today: Callable[[], date] = date.today,
        keys_file: Path | None = None,
        keyring: Keys | None = None,
    ) -> None:
        self.watches = watches
        self.keyring = keyring  # keys kept elsewhere (Neo4j: api/shared_keys.py); else those of keys_file
        self.use_store = use_store
        self.settings = settings = settings or WatchSettings()
        self.today = today
        backoff = Backoff(settings.retry_first_s, settings.retry_max_s, settings.give_up_h * 3600)
        self.keys_file = keys_file  # whose revoked keys pause their watches (api/watch_access.live_tenants)
        tenants = None if keys_file is None else lambda: live_tenants(KeyRing(keys_file))
        if keyring is not None:
            tenants = lambda: live_tenants(keyring)  # noqa: E731
        self.deliverer = Deliverer(watches, backoff, settings.webhook_timeout_s, tenants)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.seen: tuple[str | None, date] | None = None
        self.last: Evaluation | None = None
        self._pool: ProcessPoolExecutor | None = None

    def evaluate_now(self) -> Evaluation | None:
        """One pass, in the worker process, if the generation or the day changed since the last one."""
        with self.use_store() as store:
            now = (store.generation, self.today())
            if now == self.seen:
                return None
            if not self.watches.watches():  # nothing to answer: no worker, no exposure index
                self.seen = now
                return None
            config = walkers.walker_config(store, self.settings.buffer_pool_mb * 2**20)
        if self._pool is None:
            self._pool = walkers.pool(1)
        try:
            keys = None if self.keys_file is None else str(self.keys_file)
            live = None if self.keyring is None else sorted(live_tenants(self.keyring))
            self.last = self._pool.submit(
                evaluate_in_worker, config, now[0], str(self.watches.path), now[1], keys, live
            ).result()
        except Exception:
            self._pool.shutdown(wait=False, cancel_futures=True)  # a worker that died breaks its pool
            self._pool = None
            raise
        self.seen = now
        if self.last.failed:
            logger.warning("%d watches could not be answered: %s", len(self.last.failed), self.last.failed)
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
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        for thread in self._threads:
            thread.join(timeout=30)


def watch_service_for(keys_file: Any, use_store: Callable[[], Any], keyring: Keys | None = None) -> WatchService:
    """The server's service over `watches.sqlite` beside the key file; `keyring`: keys kept elsewhere (Neo4j)."""
    return WatchService(WatchStore(watches_path(keys_file)), use_store, keys_file=Path(keys_file), keyring=keyring)
