"""Exposure drawings of immutable generations, kept per app (a generation never changes): the next request
for the same view, day, depth and visibility, its answer pages and its exports skip the walk."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from fastapi import Request

from . import network
from .pages import app_state


class DrawingCache:
    """Exposure drawings of immutable generations, least recently used out first.

    Bounded by an estimate of the memory they hold: twice their page JSON plus 2 kB an answer (a
    2,025-node drawing with 1,984 answers holds 5.3 MB, estimated 4.9 MB), at most half the API's
    exposure_cache_mb.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[Any, ...], tuple[network.Drawing, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> network.Drawing | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: tuple[Any, ...], drawing: network.Drawing) -> None:
        size = 2 * len(drawing.script_data()) + 2048 * len(drawing.answers)
        if size > self.max_bytes // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes += size - (old[1] if old is not None else 0)
            self._items[key] = (drawing, size)
            while self._bytes > self.max_bytes and self._items:
                _key, (_drawing, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped


_cache_lock = threading.Lock()


def drawings(request: Request) -> DrawingCache:
    state = request.app.state
    with _cache_lock:
        cache = getattr(state, "ui_drawings", None)
        if cache is None:
            cache = state.ui_drawings = DrawingCache(app_state(request).settings.exposure_cache_mb * 2**19)
    return cache  # type: ignore[no-any-return]
