"""The copy of the current database that an incremental load writes its change into, started (in a thread: the
copy is the kernel's work) while the load still plans the change, so that the two overlap.

The copy goes into a new generation folder that is not current; if the load then rebuilds instead, or fails, or is
killed, that folder is removed like any other generation not kept (graph/stores/ladybug_store.py).
"""

from __future__ import annotations

import threading
from pathlib import Path

from supplygraph.graph.stores.ladybug_delta import copy_database


class EarlyCopy:
    """Copying generation `previous`'s database into `folder` (generation `name`)."""

    def __init__(self, previous: str, name: str, folder: Path, source: Path) -> None:
        self.previous, self.name, self.folder = previous, name, folder
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self.copy, args=(source, folder / "graph.lbug"), daemon=True)
        self.thread.start()

    def copy(self, source: Path, target: Path) -> None:
        try:
            copy_database(source, target)
        except BaseException as exc:  # raised where the copy is waited for
            self.error = exc

    def wait(self) -> None:
        """Until the copy is whole; its error, if it failed."""
        self.thread.join()
        if self.error is not None:
            raise self.error
