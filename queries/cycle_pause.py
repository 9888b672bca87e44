"""The cyclic garbage collector paused while exposure walks run.

A walk makes hundreds of thousands of short-lived tuples, lists and dicts and no reference cycles, so reference
counting frees all of it; the cyclic collector would only walk them again and again while they are built (a
fifth of a large walk's time). Several threads may walk at once: the collector runs again when the last one ends.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_lock = threading.Lock()
_running = 0
_was_enabled = False


def cycles_paused(function: Callable[P, T]) -> Callable[P, T]:
    @functools.wraps(function)
    def paused(*args: P.args, **kwargs: P.kwargs) -> T:
        global _running, _was_enabled
        with _lock:
            if _running == 0:
                _was_enabled = gc.isenabled()
                gc.disable()
            _running += 1
        try:
            return function(*args, **kwargs)
        finally:
            with _lock:
                _running -= 1
                if _running == 0 and _was_enabled:
                    gc.enable()

    return paused
