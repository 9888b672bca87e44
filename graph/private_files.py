"""Files and folders only their owner may read: the data folder and the API keys file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


def make_private_folder(path: Path) -> None:
    """Create `path` (and missing parents) readable by its owner only; a folder that exists is left as it is
    (it may be shared on purpose), only the ones created here are 0700."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            os.mkdir(folder, PRIVATE_FOLDER)
        except FileExistsError:
            continue
        os.chmod(folder, PRIVATE_FOLDER)  # mkdir's mode is narrowed by the umask, never widened: set it exactly


def readable_by_others(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def make_private_file(path: Path) -> bool:
    """Make an existing file 0600; True if it was readable or writable by others before."""
    was_open = readable_by_others(path)
    os.chmod(path, PRIVATE_FILE)
    return was_open
