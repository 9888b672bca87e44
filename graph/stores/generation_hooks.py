"""Work done for every new generation before readers can see it, registered by the layers above: the link index of
queries/ registers the writing of its files here (queries/link_cache.py). graph/ calls what it is given and
imports none of them.

A hook is called with a store that reads the new generation and the generation's name. A hook that fails with
OSError (a full disk, a folder it may not write) does not fail the load: what it writes is only a cache that
readers build again when it is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

GenerationHook = Callable[[Any, str], None]  # (store reading the new generation, its name)

_hooks: list[GenerationHook] = []


def on_generation_built(hook: GenerationHook) -> None:
    """Call `hook` for every generation built from now on in this process (once, however often registered)."""
    if hook not in _hooks:
        _hooks.append(hook)


def generation_built(store: Any, generation: str) -> None:
    for hook in list(_hooks):
        try:
            hook(store, generation)
        except OSError:
            pass
