"""Old generations taken out of the way at once and removed by a process of their own, so that a load does not wait
for the file system to free gigabytes (unlinking a 2 GB database file takes a large part of a second).

A folder is renamed into the data folder's `trash/` (an atomic rename on the same file system: it is out of
`generations/` at once), then a detached child process removes everything in `trash/`. A child that is killed, or
never starts, leaves folders there; the next load's child removes them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

REMOVE = "import shutil, sys, pathlib; [shutil.rmtree(p, True) for p in pathlib.Path(sys.argv[1]).iterdir()]"


def discard(folders: Iterable[Path], trash: Path) -> None:
    """Move `folders` into `trash` and start removing everything there without waiting for it."""
    trash.mkdir(exist_ok=True)
    for folder in folders:
        try:
            os.rename(folder, trash / folder.name)
        except OSError:
            continue  # gone already, or taken by another load: nothing to remove
    if not any(trash.iterdir()):
        return
    try:
        subprocess.Popen(
            [sys.executable, "-c", REMOVE, str(trash)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # not killed with the load's process group, not waited for
        )
    except OSError:
        pass  # the next load's child removes them
