"""The link index files a generation made by an incremental load takes over from the generation it was copied
from: those of every group of parts (queries/link_index.py GROUP_READS) whose bulk reads touch none of the tables
the change wrote (graph/stores/generation_hooks.py GenerationChange). Such a group reads, in the copy, exactly
the rows it read before, so its files would be written byte for byte the same; they are hard-linked instead.

Only files of the generation the change was made from, as its stamp names them and with the sizes it records
(queries/link_files.py), are taken over; when that folder is missing or damaged every group is built.
"""

from __future__ import annotations

import re
from pathlib import Path

from supplygraph.graph.stores.generation_hooks import GenerationChange
from supplygraph.queries.link_files import stamped_files
from supplygraph.queries.link_index import GROUP_READS, part_group

TABLE_NAME = re.compile(r"[(\[]\w*:(\w+)")  # the label of a node pattern, the type of a relationship pattern


def tables_read(cypher: str) -> frozenset[str]:
    """The node labels and relationship types a (bulk read's) Cypher statement reads."""
    return frozenset(TABLE_NAME.findall(cypher))


def unchanged_groups(change: GenerationChange) -> set[str]:
    """The groups of parts whose bulk reads read none of the tables the change wrote."""
    return {group for group, reads in GROUP_READS.items() if not any(tables_read(q) & change.tables for q in reads)}


def reusable_files(folder_before: Path | None, change: GenerationChange) -> dict[str, Path]:
    """file name -> the file in the previous generation's index folder, for every file of the unchanged groups;
    empty when that folder is not the previous generation's whole index."""
    files = None if folder_before is None else stamped_files(folder_before, change.previous)
    if files is None or folder_before is None:
        return {}
    unchanged = unchanged_groups(change)
    return {file: folder_before / file for file in files if part_group(file.rsplit(".", 1)[0]) in unchanged}


def groups_to_build(linked: dict[str, Path], updated: set[str] | None = None) -> set[str] | None:
    """The groups whose parts are not among the `linked` files nor `updated` otherwise (None: every group)."""
    if not linked and not updated:
        return None
    return set(GROUP_READS) - {part_group(file.rsplit(".", 1)[0]) for file in linked} - (updated or set())
