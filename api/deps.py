"""What every request needs: the store (safe to share between threads), the caller's key, its role.

The embedded store: one LadybugStore object per generation, pinned to it, shared by every request.
A request takes the store of the generation CURRENT names when it starts, and keeps it to its end;
when a load replaces CURRENT, the next request opens the new generation (and builds its exposure
index once) while requests still running finish on the old one, which is closed when the last of
them ends. A pinned store never switches generations by itself, so no request can close a
connection another is using. LadybugDB connections take concurrent queries (the test suite checks).

Neo4j: one store for the app; the driver is thread-safe and every call opens its own session.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from supplygraph.api.fairness import Fairness
from supplygraph.api.keys import Keys, Principal, Role
from supplygraph.api.problems import forbidden, unauthorized
from supplygraph.api.sandbox import Sandbox
from supplygraph.graph.errors import EmptyGraph
from supplygraph.graph.settings import Settings
from supplygraph.graph.stores.protocol import Store
from supplygraph.queries.steps import steps_for


@dataclass
class _Pinned:
    store: Store
    users: int = 0
    retired: bool = False


@dataclass
class StoreAccess:
    """Hands out the store for one request: `with access.use() as store: ...`."""

    store: Store
    _generations: dict[str | None, _Pinned] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def root(self) -> Path | None:
        return self.store.data_folder

    def current_generation(self) -> str | None:
        return self.store.generation

    async def generation_now(self) -> str | None:
        """current_generation() for the event loop: the embedded store's stat() here, a server's query on a pool thread."""
        if self.store.embedded:
            return self.current_generation()
        return await run_in_threadpool(self.current_generation)

    @contextmanager
    def use(self) -> Iterator[Store]:
        if not self.store.embedded:
            yield self.store
            return
        with self._lock:
            name = self.current_generation()  # always the latest complete load
            entry = self._generations.get(name)
            if entry is None:
                entry = self._generations[name] = _Pinned(self.store.pinned(name))
                for other, old in self._generations.items():
                    if other != name:
                        old.retired = True
            entry.users += 1
        try:
            yield entry.store
        finally:
            with self._lock:
                entry.users -= 1
                for other, old in list(self._generations.items()):
                    if old.retired and old.users == 0:
                        del self._generations[other]
                        old.store.close()

    def warm(self) -> None:
        """Open the current generation and build its exposure index now rather than on the first request."""
        try:
            with self.use() as store:
                steps_for(store)
        except EmptyGraph:
            pass

    def close(self, *, store: bool = True) -> None:
        """Close the generations opened for requests, and the store itself unless store=False."""
        with self._lock:
            for entry in self._generations.values():
                entry.store.close()
            self._generations.clear()
        if store:
            self.store.close()


class ExposureCache:
    """Encoded exposure answers of immutable generations, least recently used out first, bounded in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        # Answers being computed, by the same key: requests for one of them wait for it (in the event loop)
        # instead of computing it again.
        self.computing: dict[tuple[Any, ...], asyncio.Future[bytes]] = {}
        self._items: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], value: bytes) -> None:
        if len(value) > self.max_bytes // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes += len(value) - (len(old) if old is not None else 0)
            self._items[key] = value
            while self._bytes > self.max_bytes and self._items:
                _key, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)


@dataclass
class AppState:
    settings: Settings
    access: StoreAccess
    keyring: Keys
    sandbox: Sandbox
    exposure_cache: ExposureCache
    fairness: Fairness  # the API's expensive requests (api/fairness.py)


async def state(request: Request) -> AppState:
    return request.app.state.supplygraph  # type: ignore[no-any-return]


State = Annotated[AppState, Depends(state)]


bearer = HTTPBearer(auto_error=False, description="an API key, sg_...: `supplygraph keys create --role ROLE`")


async def principal(
    request: Request,
    app_state: State,
    _documented: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
) -> Principal:
    header = request.headers.get("authorization")
    if not header:
        raise unauthorized("send an API key as 'Authorization: Bearer KEY' (supplygraph keys create)")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise unauthorized("the Authorization header must be 'Bearer KEY'", invalid=True)
    found = app_state.keyring.lookup(key.strip())
    if found is None:
        raise unauthorized("unknown or revoked API key", invalid=True)
    request.state.principal = found  # for api/problems.py: 404s to affiliate keys echo no id
    return found


Caller = Annotated[Principal, Depends(principal)]


def require(role: Role) -> Any:
    """A dependency refusing (403) callers whose role is below `role`; affiliate keys are below every other."""

    async def check(caller: Caller) -> Principal:
        if caller.role != role and not caller.at_least(role):
            raise forbidden(f"this needs a key of role {role.value} or above; yours is {caller.role.value}")
        return caller

    return Depends(check)


Investigator = Annotated[Principal, require(Role.investigator)]
Researcher = Annotated[Principal, require(Role.researcher)]
Admin = Annotated[Principal, require(Role.admin)]
