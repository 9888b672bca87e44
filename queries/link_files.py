"""The link index of one generation as files: numpy arrays (.npy) and Arrow tables (.arrow, IPC, uncompressed),
memory-mapped by every process that reads them, so a new process or API worker answers at once and several
workers share the pages instead of each holding a copy.

A folder holds the index of exactly one generation (or one completed Neo4j load): `stamp.json`, written last,
names it with the format and the size of every file. A folder whose stamp names another generation or format,
or whose files are missing or of another size, is not read (the caller builds the index again). A folder is
published whole: written beside its place and renamed there, so a reader never sees half of one.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

FORMAT = 2  # the layout of the files (2: supply links in queries/link_order.py's order); another is built again
STAMP = "stamp.json"

Part = Any  # a numpy array (.npy) or an Arrow table (.arrow)


def write_parts(folder: Path, parts: Mapping[str, Part], generation: str, linked: Mapping[str, Path] | None = None) -> bool:
    """Publish `parts` as the index of `generation` in `folder`, with the files `linked` (file name -> a file of
    the same content in another generation's folder) hard-linked in; False if it could not be written (or another
    process published it first: then its folder stays)."""
    partial = folder.with_name(f"{folder.name}.{os.getpid()}.part")
    try:
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        sizes = {}
        for file, original in (linked or {}).items():
            os.link(original, partial / file)
            sizes[file] = (partial / file).stat().st_size
        for name, part in parts.items():
            path = partial / (f"{name}.npy" if isinstance(part, np.ndarray) else f"{name}.arrow")
            if isinstance(part, np.ndarray):
                np.save(path, part, allow_pickle=False)
            else:
                with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, part.schema) as writer:
                    writer.write_table(part)
            sizes[path.name] = path.stat().st_size
        (partial / STAMP).write_text(json.dumps({"format": FORMAT, "generation": generation, "files": sizes}))
        os.rename(partial, folder)  # fails if another process published the folder first
        return True
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)
        return False


def stamped_files(folder: Path, generation: str) -> dict[str, int] | None:
    """file name -> size of every file of `generation`'s index in `folder`; None when the folder is missing, of
    another generation or format, or a file is missing or of another size."""
    try:
        stamp = json.loads((folder / STAMP).read_text())
        if stamp.get("format") != FORMAT or stamp.get("generation") != generation:
            return None
        files = {str(file): int(size) for file, size in stamp["files"].items()}
        if any((folder / file).stat().st_size != size for file, size in files.items()):
            return None
        return files
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def read_parts(folder: Path, generation: str) -> dict[str, Part] | None:
    """The parts of `generation`'s index in `folder`, memory-mapped; None when the folder is missing, of another
    generation or format, or damaged."""
    files = stamped_files(folder, generation)
    if files is None:
        return None
    try:
        parts: dict[str, Part] = {}
        for file in files:
            path = folder / file
            name, suffix = file.rsplit(".", 1)
            if suffix == "npy":
                parts[name] = np.load(path, mmap_mode="r", allow_pickle=False).view(np.ndarray)
            else:
                parts[name] = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
        return parts
    except (OSError, ValueError, KeyError, TypeError, AttributeError, pa.ArrowInvalid):
        return None


def remove_stale(folder: Path) -> None:
    """Take a folder that cannot be read out of the way, so that a new one can be published in its place (readers
    that mapped its files keep them: a file removed while mapped stays until it is unmapped)."""
    aside = folder.with_name(f"{folder.name}.{os.getpid()}.stale")
    try:
        os.rename(folder, aside)
    except OSError:
        return
    shutil.rmtree(aside, ignore_errors=True)
