"""The link index of a store's generation: memory-mapped from its files when they are there and belong to that
generation, else built from the store's bulk reads and its files written for the next reader
(queries/link_files.py). The embedded store writes them when it builds a generation (the hooks registered here:
from the graph tables of a full load, else read back from the new generation);
a Neo4j server's are written by the first reader of a load, beside the load's saved reads."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from supplygraph.graph.stores.generation_hooks import GenerationChange, on_generation_built, on_tables_built
from supplygraph.graph.stores.protocol import Store
from supplygraph.queries.link_delta import updated_groups
from supplygraph.queries.link_files import read_parts, remove_stale, write_parts
from supplygraph.queries.link_index import LinkIndex, link_parts
from supplygraph.queries.link_reuse import groups_to_build, reusable_files
from supplygraph.queries.link_tables import TableReads


def link_index_of(store: Store, generation: str) -> LinkIndex:
    """The index of `generation` of `store` (its files mapped, or built and written)."""
    folder = store.link_index_folder(generation)
    if folder is not None:
        parts = read_parts(folder, generation)
        if parts is not None:
            return LinkIndex(parts)
    built = _built(store, generation)
    if folder is None or store.generation != generation:  # a load came in between: the next call builds that one
        return LinkIndex(built)
    if folder.exists():
        remove_stale(folder)
    if write_parts(folder, built, generation) or folder.exists():
        mapped = read_parts(folder, generation)
        if mapped is not None:
            return LinkIndex(mapped)  # the pages are shared with other readers; the built copy goes
    return LinkIndex(built)


def write_link_files(store: Store, generation: str, change: GenerationChange | None = None) -> None:
    """Write the index files of a new `generation`, read through `store` (called before readers can see it); those
    a `change` left as they were are hard-linked from the generation before (queries/link_reuse.py), the supply
    walk's updated from the change's rows where it can be."""
    folder = store.link_index_folder(generation)
    if folder is None or read_parts(folder, generation) is not None:
        return
    before = None if change is None else store.link_index_folder(change.previous)
    linked = {} if change is None else reusable_files(before, change)
    updated, also_linked, groups = updated_groups(before, change)  # from the change's rows (queries/link_delta.py)
    to_build = groups_to_build(linked | also_linked, groups)
    write_parts(folder, link_parts(store.link_reads(), to_build) | updated, generation, linked | also_linked)


def write_table_link_files(store: Store, generation: str, tables: Any) -> None:
    """Write the index files of a new `generation` of a full load from the graph `tables` it is built from
    (queries/link_tables.py), before they are written to the database; the generation hook then finds them (or, where
    the tables could not answer a read, reads the new generation back)."""
    folder = store.link_index_folder(generation)
    if folder is None or read_parts(folder, generation) is not None:
        return
    try:
        parts = link_parts(TableReads(tables))
    except (KeyError, pa.ArrowException):
        return
    write_parts(folder, parts, generation)


def _built(store: Store, generation: str) -> dict[str, Any]:
    """The parts, read from exactly `generation` where the store can pin one."""
    pinned = store.pinned(generation)
    try:
        return link_parts(pinned.link_reads())
    finally:
        if pinned is not store:
            pinned.close()


on_generation_built(write_link_files)
on_tables_built(write_table_link_files)
