"""The cyclic garbage collector paused while exposure walks run.

A walk makes hundreds of thousands of short-lived tuples, lists and dicts and no reference cycles, so reference
counting frees all of it; the cyclic collector would only walk them again and again while they are built (a
fifth of a large walk's time). Several threads may walk at once: the collector runs again when the last one ends,
and while walks overlap without a pause, one walk in every FULL_EVERY_S seconds collects at its end, so that
cycles other code makes meanwhile do not pile up.
"""

from __future__ import annotations

import functools
import gc
import threading
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

FULL_EVERY_S = 5.0

_lock = threading.Lock()
_running = 0
_was_enabled = False
_collected_at = 0.0


def cycles_paused(function: Callable[P, T]) -> Callable[P, T]:
    @functools.wraps(function)
    def paused(*args: P.args, **kwargs: P.kwargs) -> T:
        global _running, _was_enabled, _collected_at
        with _lock:
            if _running == 0:
                _was_enabled = gc.isenabled()
                _collected_at = time.monotonic()
                gc.disable()
            _running += 1
        try:
            return function(*args, **kwargs)
        finally:
            collect = False
            with _lock:
                _running -= 1
                if _running == 0 and _was_enabled:
                    gc.enable()
                elif _was_enabled and time.monotonic() - _collected_at > FULL_EVERY_S:
                    _collected_at, collect = time.monotonic(), True
            if collect:
                gc.collect()

    return paused
