"""Finding and source details of exposure answers, kept per store and generation.

Both stores change their graph only by whole loads, so the details of a finding or source read once for a
generation stay true while that generation is the one answered from: each answer reads only the ids no earlier
answer of the same generation asked for (ids without a node are remembered as missing).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from supplygraph.graph.stores.protocol import ArrowReader, Store
from supplygraph.queries.exposure_summary import finding_details, source_details

Details = dict[str, dict[str, Any]]
MISSING: dict[str, Any] = {}  # read, and no such node

_caches: weakref.WeakKeyDictionary[Store, tuple[object, DetailCache]] = weakref.WeakKeyDictionary()
_guard = threading.Lock()


class DetailCache:
    """The details of one generation's findings and sources, read by id as answers name them."""

    def __init__(self, store: Store, reads: ArrowReader | None) -> None:
        self.store, self.reads = store, reads
        self.known: dict[str, Details] = {"finding": {}, "source": {}}

    def _read(self, kind: str, ids: Iterable[str], read: Callable[..., Details]) -> Details:
        known = self.known[kind]
        missing = sorted({i for i in ids if i not in known})
        if missing:
            found = read(self.store, missing, self.reads)
            known.update({i: found.get(i, MISSING) for i in missing})
        return {i: d for i in ids if (d := known[i]) is not MISSING}

    def findings(self, ids: Iterable[str]) -> Details:
        return self._read("finding", list(ids), finding_details)

    def sources(self, ids: Iterable[str]) -> Details:
        """Copies: an answer's `sources` are its own to change."""
        return {i: dict(d) for i, d in self._read("source", list(ids), source_details).items()}


def detail_cache(store: Store, generation_index: object, reads: ArrowReader | None) -> DetailCache:
    """The cache of `store` for the generation whose link index is `generation_index` (a new one when it changed)."""
    with _guard:
        held = _caches.get(store)
        if held is None or held[0] is not generation_index:
            held = _caches[store] = (generation_index, DetailCache(store, reads))
        return held[1]
