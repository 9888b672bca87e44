"""The files of an embedded generation besides its database: the canonical records of its bundles (Arrow IPC
files and a manifest), and the fsyncs that make a generation durable before it becomes current."""

from __future__ import annotations

import json
import os
from pathlib import Path

from supplygraph.graph.arrow_files import read_arrow_file, write_arrow_file
from supplygraph.graph.stores.protocol import LoadedBundle


def write_bundles(
    folder: Path, bundles: list[LoadedBundle], linked_from: Path | None = None, unchanged: set[str] | None = None
) -> None:
    """The bundles' records as Arrow files and the manifest; those of the `unchanged` bundles hard-linked from
    generation `linked_from` (its files are never written again), not copied. Each table written is swapped, in
    the bundle, for the same table memory-mapped from its file, so that what the load read no longer takes heap
    while the graph is copied."""
    entries = []
    before = {}
    if linked_from is not None:
        before = {e["name"]: e["folder"] for e in json.loads((linked_from / "manifest.json").read_text())["bundles"]}
    for i, bundle in enumerate(bundles):
        sub = f"{i:02d}-{bundle.name}"
        (folder / "bundles" / sub).mkdir(parents=True)
        old = (
            linked_from / "bundles" / before[bundle.name] if linked_from and bundle.name in (unchanged or ()) else None
        )
        for table_name, table in bundle.tables.items():
            target = folder / "bundles" / sub / f"{table_name}.arrow"
            if old is not None and (old / target.name).exists():
                os.link(old / target.name, target)
            else:
                write_arrow_file(str(target), table)
            bundle.tables[table_name] = read_arrow_file(target)
        entries.append({"name": bundle.name, "folder": sub, "rows": {k: t.num_rows for k, t in bundle.tables.items()}})
    (folder / "manifest.json").write_text(json.dumps({"bundles": entries}, indent=2))


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    for dirpath, _dirs, files in os.walk(folder):
        for f in files:
            with open(os.path.join(dirpath, f), "rb") as fh:
                os.fsync(fh.fileno())
        fsync_dir(Path(dirpath))
