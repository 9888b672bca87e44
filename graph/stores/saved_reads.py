"""Bulk reads of a server store kept as Arrow files per load id, so the link index is rebuilt from disk."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
from supplygraph.graph.private_files import make_private_folder
from supplygraph.graph.stores.protocol import ArrowReader

INDEX_CACHE_KEEP = 4  # loads whose saved index reads are kept


class SavedReads:
    """`run_arrow` of a store whose answers are kept as Arrow files in `folder`, one per query.

    The folder is named by the load id, and a load id names one graph (writes by other means than
    a load are not seen, as with the link index): the files never go stale, and a restarted
    process reads them in milliseconds instead of re-reading a million links over Bolt. Folders
    of older loads are removed; a folder that cannot be written only means no saving.
    """

    def __init__(self, store: ArrowReader, folder: Path, keep: int = INDEX_CACHE_KEEP) -> None:
        self.store, self.folder, self.keep = store, folder, keep

    def run_arrow(self, cypher: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        key = hashlib.sha256(repr((cypher, sorted((params or {}).items()))).encode()).hexdigest()[:24]
        path = self.folder / f"{key}.arrow"
        try:
            with pa.OSFile(str(path)) as source:
                return pa.ipc.open_file(source).read_all()
        except (OSError, pa.ArrowInvalid):
            pass
        table = self.store.run_arrow(cypher, params)
        try:
            make_private_folder(self.folder)
            partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
            with pa.OSFile(str(partial), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
            partial.replace(path)
            self._drop_old()
        except OSError:
            pass
        return table

    def _drop_old(self) -> None:
        others = [p for p in self.folder.parent.iterdir() if p.is_dir() and p != self.folder]
        others.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for old in others[self.keep - 1 :]:
            shutil.rmtree(old, ignore_errors=True)
