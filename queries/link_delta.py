"""Link index groups of an incremental load's generation updated from the previous generation's files and the
change's rows (queries/supply_delta.py), for the groups whose bulk reads would otherwise read a large table back:
the supply walk, whose SUPPLIES table is the graph's largest. A group is updated only when the change wrote, of
the tables it reads, nothing but the links it knows how to apply; every other group is taken over
(queries/link_reuse.py) or read back as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
from supplygraph.graph.delta import own_references
from supplygraph.graph.stores.generation_hooks import GenerationChange
from supplygraph.queries.link_files import read_parts
from supplygraph.queries.link_index import GROUP_READS, SUPPLY
from supplygraph.queries.link_reuse import tables_read
from supplygraph.queries.supply_delta import FACTORY_PARTS, updated_supply_parts

SUPPLIES = "SUPPLIES"
COLUMNS = {"to": "buyer", "from": "supplier", "valid_from": "valid_from", "valid_to": "valid_to", "source_ids": "sources"}


def updated_groups(folder_before: Path | None, change: GenerationChange | None) -> tuple[dict[str, Any], dict[str, Path], set[str]]:
    """(parts written anew, file name -> previous generation's file to hard-link, groups these make whole) for
    the groups updated from the change; nothing when none can be."""
    if change is None or folder_before is None or not _supply_links_only(change):
        return {}, {}, set()
    old = read_parts(folder_before, change.previous)
    if old is None:
        return {}, {}, set()
    added = _links(part.table for part in change.delta.rels if part.type == SUPPLIES)
    removed = _links(part.table for part in change.delta.unlinked if part.type == SUPPLIES)
    parts = updated_supply_parts(old, added, removed)
    if parts is None:
        return {}, {}, set()
    linked = {file: folder_before / file for file in _files(folder_before, old) if file.rsplit(".", 1)[0] in FACTORY_PARTS}
    return parts, linked, {SUPPLY}


def _supply_links_only(change: GenerationChange) -> bool:
    """Whether, of the tables the supply walk reads, the change wrote SUPPLIES only, by links added or removed."""
    read = set().union(*(tables_read(q) for q in GROUP_READS[SUPPLY]))
    by_references = {ref.rel for label in change.delta.touched for ref in own_references(label)}
    return change.tables & read == {SUPPLIES} and SUPPLIES not in by_references and not change.delta.gone.get("Factory")


def _links(tables: Any) -> pa.Table:
    """The links of the change's SUPPLIES parts with the columns of the supply walk's bulk read."""
    pieces = [pa.table({new: t.column(old) for old, new in COLUMNS.items()}) for t in tables]
    if not pieces:
        return pa.table({"buyer": pa.array([], pa.string()), "supplier": pa.array([], pa.string()),
                         "valid_from": pa.array([], pa.date32()), "valid_to": pa.array([], pa.date32()),
                         "sources": pa.array([], pa.string())})  # fmt: skip
    return pa.concat_tables(pieces, promote_options="default")


def _files(folder: Path, parts: dict[str, Any]) -> list[str]:
    return [f"{name}.npy" if (folder / f"{name}.npy").exists() else f"{name}.arrow" for name in parts]
