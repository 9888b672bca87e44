"""Work done for every new generation before readers can see it, registered by the layers above: the link index of
queries/ registers the writing of its files here (queries/link_cache.py). graph/ calls what it is given and
imports none of them.

A hook is called with a store that reads the new generation, the generation's name and, for a generation made by
changing a copy of the one before (an incremental load), what changed: the tables that stay as they were there
need not be read again. A hook that fails with
OSError (a full disk, a folder it may not write) does not fail the load: what it writes is only a cache that
readers build again when it is missing.

A full load also calls the hooks registered for its graph tables, with the tables it is about to write into the new
generation: what a hook makes from them (the link index files) need not be read back from the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from supplygraph.graph.delta import GraphDelta


@dataclass(frozen=True)
class GenerationChange:
    """A generation made from a copy of `previous` by writing `delta`: only the node labels and relationship types
    of `tables` were written (every other table reads as in `previous`)."""

    previous: str
    delta: GraphDelta  # what was written, for what can be updated from its rows

    @property
    def tables(self) -> frozenset[str]:
        return self.delta.tables


GenerationHook = Callable[[Any, str, GenerationChange | None], None]  # (store reading the new generation, its name, change)

TablesHook = Callable[[Any, str, Any], None]  # (store writing the new generation, its name, its GraphTables)

_hooks: list[GenerationHook] = []
_tables_hooks: list[TablesHook] = []


def on_generation_built(hook: GenerationHook) -> None:
    """Call `hook` for every generation built from now on in this process (once, however often registered)."""
    if hook not in _hooks:
        _hooks.append(hook)


def generation_built(store: Any, generation: str, change: GenerationChange | None = None) -> None:
    for hook in list(_hooks):
        try:
            hook(store, generation, change)
        except OSError:
            pass


def on_tables_built(hook: TablesHook) -> None:
    """Call `hook` with the graph tables of every full load from now on in this process, before they are written."""
    if hook not in _tables_hooks:
        _tables_hooks.append(hook)


def tables_built(store: Any, generation: str, tables: Any) -> None:
    for hook in list(_tables_hooks):
        try:
            hook(store, generation, tables)
        except OSError:
            pass
