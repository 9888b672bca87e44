"""Temporary folders of loads and uploads, named after the process that owns them, so that the folders a
crashed or killed process left behind can be found and removed by the next load or server start.

Names: <tmp>/supplygraph-<kind>-<pid>-<random>. A folder is stale when no process with that pid runs
(a pid reused by another process keeps it until that one ends too). Folders of the older unnamed form
(supplygraph-<kind>-<random>) are removed once they are a day old.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

KINDS = ("upload", "tables", "spill")
NAMED = re.compile(r"^supplygraph-(?:upload|tables|spill)-(\d+)-[A-Za-z0-9_]+$")
UNNAMED = re.compile(r"^supplygraph-(?:upload|tables|spill)-[A-Za-z0-9_]+$")
UNNAMED_AGE_S = 24 * 3600


def make_temp_folder(kind: str) -> Path:
    """A new private temporary folder for `kind` (one of KINDS), named after this process."""
    assert kind in KINDS
    return Path(tempfile.mkdtemp(prefix=f"supplygraph-{kind}-{os.getpid()}-"))


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_temp_folders(root: Path | None = None) -> list[Path]:
    """Remove this user's temporary folders whose process has ended; returns what was removed."""
    root = Path(root or tempfile.gettempdir())
    removed: list[Path] = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for entry in entries:
        named = NAMED.match(entry.name)
        if not named and not UNNAMED.match(entry.name):
            continue
        try:
            info = entry.lstat()
        except FileNotFoundError:
            continue
        if info.st_uid != os.getuid() or not entry.is_dir() or entry.is_symlink():
            continue
        if named:
            pid = int(named.group(1))
            if pid == os.getpid() or process_alive(pid):
                continue
        elif time.time() - info.st_mtime < UNNAMED_AGE_S:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed
