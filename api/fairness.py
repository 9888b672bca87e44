"""Per-key fairness: a bounded number of expensive requests in flight per API key and in all.

Expensive requests are those that compute: an exposure answer not yet cached, reverse exposure,
shortest paths, named queries and researcher Cypher. Each takes a slot of its key for as long as
its work runs. Admission fails fast: a key already holding `per_key` slots waits at most `wait_s`
(in the event loop, holding no thread) for one of them to be given back, then is answered 429 Too
Many Requests; when an executor's slots are all taken the answer is 503 at once; both say
Retry-After. The short wait lets a client's small burst through, and slows a client that retries
at once in a loop to one request per `wait_s` per connection.

Admitted work runs on executors of its own, apart from the thread pool that answers cheap
requests (/healthz, entity pages, searches), and cached exposure answers are sent from the event
loop without any thread, so neither waits behind expensive work:
- `walkers` (`total` processes, api/walkers.py): exposure walks, out of the server's interpreter;
- `threads` (`total` threads): reverse exposure, paths and named queries;
- `sandbox` (one thread per sandbox worker): waiting for a researcher query's worker process
  (api/sandbox/), whose own slots are taken without waiting too.

A refusal names only the caller's own bound, never what other keys are doing.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, TypeVar

from supplygraph.api import walkers
from supplygraph.api.keys import Principal
from supplygraph.graph.errors import StoreUnavailable, SupplygraphError
from supplygraph.graph.settings import Settings

T = TypeVar("T")


def cpu_count() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's count, where known)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


class TooManyRequests(SupplygraphError):
    http_status = 429
    exit_code = 75
    title = "Too many requests"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after_s)}


class ServerBusy(StoreUnavailable):
    title = "Server busy"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after_s)}


class Fairness:
    """Slots for expensive requests per key and per executor, and the executors their work runs on."""

    def __init__(
        self, per_key: int, total: int, retry_after_s: int, sandbox_threads: int, wait_s: float = 0.0
    ) -> None:
        self.per_key = max(1, per_key)
        self.retry_after_s = max(1, retry_after_s)
        self.wait_s = max(0.0, wait_s)
        self.bounds = {"walkers": max(1, total), "threads": max(1, total), "sandbox": max(1, sandbox_threads)}
        self._executors: dict[str, Executor] = {}  # made on first use, again after close() or a dead worker
        self._held: dict[str, int] = {}
        self._busy = dict.fromkeys(self.bounds, 0)
        self._freed: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}  # keys with requests waiting
        self._lock = threading.Lock()

    def held(self, key_id: str) -> int:
        with self._lock:
            return self._held.get(key_id, 0)

    def take(self, key_id: str, executor: str) -> Executor:
        """Take a slot for `key_id` on `executor` now, or refuse: 429 past the key's bound, 503 past the executor's."""
        with self._lock:
            return self._take(key_id, executor)

    def _take(self, key_id: str, executor: str) -> Executor:
        if self._held.get(key_id, 0) >= self.per_key:
            raise TooManyRequests(
                f"this key already has {self.per_key} expensive requests running, the most one key may have "
                f"at once; retry when one of them has ended (Retry-After: {self.retry_after_s} s)",
                self.retry_after_s,
            )
        if self._busy[executor] >= self.bounds[executor]:
            what = "every sandbox worker is busy" if executor == "sandbox" else "the server is busy"
            raise ServerBusy(f"{what}; retry in {self.retry_after_s} s", self.retry_after_s)
        self._held[key_id] = self._held.get(key_id, 0) + 1
        self._busy[executor] += 1
        if executor not in self._executors:
            bound = self.bounds[executor]
            made = walkers.pool(bound) if executor == "walkers" else ThreadPoolExecutor(bound)
            self._executors[executor] = made
        return self._executors[executor]

    async def admit(self, key_id: str, executor: str) -> Executor:
        """take(), but a key at its bound waits up to `wait_s` in the event loop (no thread) for one of its
        own slots to be given back before it is refused (429); a full executor is refused at once (503)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_s
        while True:
            with self._lock:
                try:
                    return self._take(key_id, executor)
                except TooManyRequests:
                    if loop.time() >= deadline:
                        raise
                    freed = self._freed.setdefault(key_id, (loop, asyncio.Event()))[1]
            try:
                await asyncio.wait_for(freed.wait(), deadline - loop.time())
            except TimeoutError:
                pass

    def give_back(self, key_id: str, executor: str) -> None:
        with self._lock:
            left = self._held.get(key_id, 0) - 1
            if left > 0:
                self._held[key_id] = left
            else:
                self._held.pop(key_id, None)
            self._busy[executor] -= 1
            waiting = self._freed.pop(key_id, None)
        if waiting is not None:
            try:
                waiting[0].call_soon_threadsafe(waiting[1].set)
            except RuntimeError:
                pass  # the event loop is closed: nobody waits any more

    def _drop(self, executor: str, broken: Executor) -> None:
        with self._lock:
            if self._executors.get(executor) is broken:
                del self._executors[executor]
        broken.shutdown(wait=False, cancel_futures=True)

    def start(
        self, pool: Executor, caller: Principal, executor: str, work: Callable[..., T], *args: Any, **kwargs: Any
    ) -> asyncio.Future[T]:
        """`work(*args, **kwargs)` on `pool`, under the slot of the caller's key that admit() took for it,
        given back when the work ends (not when the client goes away: the executor is busy until then).
        Never queued: the executor has a worker for every slot. A worker process that died is answered
        503, and the next request gets a new pool. Call it from the event loop."""
        try:
            done = pool.submit(work, *args, **kwargs)
        except BaseException:
            self.give_back(caller.key_id, executor)
            if isinstance(pool, ProcessPoolExecutor):
                self._drop(executor, pool)
            raise
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[T] = loop.create_future()

        def settle(failure: BaseException | None) -> None:
            if answer.done():
                return
            if done.cancelled():
                answer.cancel()
            elif failure is not None:
                answer.set_exception(failure)
            else:
                answer.set_result(done.result())

        def finished(_done: Future[T]) -> None:
            self.give_back(caller.key_id, executor)
            failure = None if done.cancelled() else done.exception()
            if isinstance(failure, BrokenExecutor):
                self._drop(executor, pool)
                failure = ServerBusy(f"a worker stopped; retry in {self.retry_after_s} s", self.retry_after_s)
            try:
                loop.call_soon_threadsafe(settle, failure)
            except RuntimeError:
                pass  # the event loop is closed: nobody waits any more

        done.add_done_callback(finished)
        return answer

    async def run(
        self, caller: Principal, work: Callable[..., T], *args: Any, executor: str = "threads", **kwargs: Any
    ) -> T:
        """`work(*args, **kwargs)` under a slot of the caller's key: admit(), then start()."""
        pool = await self.admit(caller.key_id, executor)
        return await self.start(pool, caller, executor, work, *args, **kwargs)

    def close(self) -> None:
        with self._lock:
            pools, self._executors = self._executors, {}
        for pool in pools.values():
            pool.shutdown(wait=False, cancel_futures=True)


def fairness_for(settings: Settings) -> Fairness:
    """The bounds the settings give; `expensive_total` 0 means one per CPU, and one more than a key's at least."""
    per_key = max(1, settings.expensive_per_key)
    total = settings.expensive_total or max(cpu_count(), per_key + 1)
    wait_s = settings.slot_wait_ms / 1000
    return Fairness(per_key, total, settings.retry_after_s, settings.cypher_workers, wait_s)
