"""The lock one load holds from reading the bundles it keeps until its graph is swapped in.

A load reads the set of bundles already loaded, merges its own into it and writes the result: two loads
doing this at once would each keep only what they read, and one would be lost. So the whole
read-modify-write runs under one lock per store; a load that finds it held fails at once with
LoadLocked (exit 75, HTTP 409) and writes nothing. The lock is re-entrant in the thread holding it
(`load_bundles` holds it around `Store.replace`, which takes it again when called on its own).

`stage_hooks` are called with the name of each stage a load reaches (STAGES); tests use them to make
two loads overlap in every order, without sleeps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

SOURCES_READ = "sources read"  # inputs read and checked; the lock is not taken yet
KEPT_READ = "kept read"  # lock held; the bundles already loaded were read
WRITING = "writing"  # lock held; part of the new graph is written
WRITTEN = "written"  # lock held; the new graph is written but not yet swapped in
STAGES = (SOURCES_READ, KEPT_READ, WRITING, WRITTEN)

stage_hooks: list[Callable[[str], None]] = []


def reached(stage: str) -> None:
    for hook in list(stage_hooks):
        hook(stage)


class LoadLock:
    """Holds a store's load lock for the current thread; `take()` locks or raises LoadLocked, returning
    the function that unlocks."""

    def __init__(self, take: Callable[[], Callable[[], None]]) -> None:
        self._take = take
        self._local = threading.local()

    @contextmanager
    def held(self) -> Iterator[None]:
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth = depth
            return
        release = self._take()
        self._local.depth = 1
        try:
            yield
        finally:
            self._local.depth = 0
            release()
