"""Values read from one small file (keys, UI sessions), kept in memory until the file changes.

Any write to the file (a key created or revoked, a login or logout, in this process or another) changes
its (mtime, size, inode) stamp, and the next lookup then forgets everything: so most lookups cost one
stat() call, and none sees a value the file no longer holds. Misses are not kept (anyone may send any
number of unknown keys), and at most `limit` values are.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Generic, TypeVar

Value = TypeVar("Value")
Stamp = tuple[int, int, int]


class FileCache(Generic[Value]):
    def __init__(self, path: Path, limit: int = 10_000) -> None:
        self.path = path
        self.limit = limit
        self._values: dict[str, Value] = {}
        self._stamp: Stamp | None = None
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[Stamp | None, Value | None]:
        """(the file's stamp, None when there is no file; the value kept for `key`, if any)."""
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return None, None
        stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
        with self._lock:
            if stamp != self._stamp:
                self._values.clear()
                self._stamp = stamp
            return stamp, self._values.get(key)

    def put(self, key: str, value: Value, stamp: Stamp) -> None:
        """Keeps a value read from the file when it had `stamp`, unless the file has changed since."""
        with self._lock:
            if self._stamp == stamp and len(self._values) < self.limit:
                self._values[key] = value

    def drop(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)
