"""Loading bundles into a store: read and validate, merge with what is loaded, replace all or nothing."""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
from supplygraph.graph.errors import BundleError, NotFound, Problem
from supplygraph.graph.origins import LOADED
from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.stores.load_lock import KEPT_READ, SOURCES_READ, reached
from supplygraph.graph.stores.protocol import LoadedBundle, Progress, Store
from supplygraph.graph.tables import GraphTables, build_tables
from supplygraph.graph.temp_folders import remove_stale_temp_folders
from supplygraph.loaders import read_source
from supplygraph.loaders.bundle import Bundle, bundle_name
from supplygraph.loaders.contract_items import prepare_items
from supplygraph.loaders.incremental import load_incrementally
from supplygraph.loaders.resolve import Decisions, matches_file, resolve_entities
from supplygraph.loaders.zip_limits import ZipLimits


@dataclass
class LoadReport:
    bundles: list[str]
    rows_read: int
    nodes: int
    relationships: int
    seconds: float
    warnings: list[Problem] = field(default_factory=list)
    written: bool = True
    rejects: list[dict] = field(default_factory=list)  # records set aside by skip_invalid (loaders.quarantine)
    rebuilt_because: str = ""  # why the whole graph was built, when it was: empty for an incremental load

    @property
    def skipped(self) -> int:
        """How many input records were set aside as invalid."""
        return len({(r.get("input"), r["file"], r.get("line"), r.get("pointer")) for r in self.rejects})

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0


def load_bundles(
    store: Store,
    paths: Sequence[Path],
    *,
    fresh: bool = False,
    dry_run: bool = False,
    names: Sequence[str | None] | None = None,
    progress: Progress | None = None,
    format: str | None = None,
    skip_invalid: bool = False,
    encoding: str | None = None,
    limits: ZipLimits | None = None,
    incremental: bool | None = None,
) -> LoadReport:
    """Validate `paths` and make the store's graph hold them (replacing earlier loads of the same bundle names).

    `incremental`: None writes only what changes when that is possible and the inputs are small beside the graph,
    True whenever it is possible, False rebuilds the whole graph (loaders/incremental.py); the graph is the same.

    With `skip_invalid` every valid record is loaded and the invalid ones (and those referring to them) are
    returned in the report's `rejects` instead of refusing the load; `encoding` reads files that are not UTF-8."""
    started = time.perf_counter()
    remove_stale_temp_folders()  # left by loads and uploads that crashed or were killed
    problems: list[Problem] = []
    new: list[LoadedBundle] = []
    warnings: list[Problem] = []
    rejects: list[dict] = []
    rows = 0
    loaded_at = datetime.now(UTC).date().isoformat()  # a date: the same input read on one day gives one graph
    valid_parts: list[LoadedBundle] = []  # of the inputs with problems, what is valid: to check its references too
    for i, path in enumerate(paths):
        name = names[i] if names else None
        try:
            bundle = read_source(Path(path), name, format, progress, skip_invalid, encoding, limits)
        except BundleError as exc:
            problems.extend(exc.problems if len(paths) == 1 else _in_bundle(exc.problems, name or bundle_name(Path(path))))
            part = None if skip_invalid else _valid_part(Path(path), name, format, encoding, limits)
            if part is not None:
                valid_parts.append(LoadedBundle(part.name, {k: _stamp(t, loaded_at) for k, t in part.tables.items()}))
            continue
        new.append(LoadedBundle(bundle.name, {k: _stamp(t, loaded_at) for k, t in bundle.tables.items()}))
        warnings.extend(bundle.warnings)
        rejects.extend({"input": str(path), **r} for r in bundle.rejects)
        rows += bundle.rows
        bundle.tables.clear()  # the LoadedBundle holds them; dropped with it when the store maps its own copies
    if problems:  # every problem at once: also those of references, which are checked on the graph as a whole
        found = _reference_problems(store, new + valid_parts, fresh)
        raise BundleError(problems + _named_as_read(found, [b.name for b in new + valid_parts]))
    reached(SOURCES_READ)
    # The bundles kept are read under the load lock, held until the new graph is swapped in: a load that
    # ran meanwhile is either in what is read here, or this load fails with LoadLocked (graph/stores/load_lock.py).
    with nullcontext() if dry_run else store.load_lock():
        replaced = {b.name for b in new}
        loaded = [] if fresh else store.bundles(lazy=True)
        kept = [b for b in loaded if b.name not in replaced]
        merged = kept + new
        reached(KEPT_READ)
        added: tuple[int, int] | str = "a dry run" if dry_run else "asked to rebuild" if incremental is False else ""
        if not added:  # a small change goes by a delta (loaders/incremental.py), else the whole graph is rebuilt
            added = load_incrementally(store, loaded, new, auto=incremental is None, progress=progress)
        if isinstance(added, str):
            try:
                tables = _rebuild(store, merged, progress, write=not dry_run)
            except BundleError as exc:
                raise BundleError(_named_as_read(exc.problems, [b.name for b in new])) from None
            warnings.extend(tables.warnings)
    return LoadReport(
        bundles=[b.name for b in new],
        rows_read=rows,
        nodes=added[0] if isinstance(added, tuple) else tables.node_count,
        relationships=added[1] if isinstance(added, tuple) else tables.rel_count,
        seconds=time.perf_counter() - started,
        warnings=warnings,
        written=not dry_run,
        rejects=rejects,
        rebuilt_because=added if isinstance(added, str) else "",
    )


def _rebuild(store: Store, bundles: list[LoadedBundle], progress: Progress | None, *, write: bool) -> GraphTables:
    """Resolve, check and build the graph of `bundles` and (with `write`) make it the store's graph; under the
    load lock. Entity resolution (loaders/resolve/) rewrites the ids of one real thing to one and re-applies
    the review decisions; contract items get their ids, categories, brands and matches (and their queue)."""
    decisions = Decisions.load(matches_file(store))
    resolved, decisions.queue = resolve_entities([(b.name, dict(b.tables)) for b in bundles], decisions)
    item_warnings: list[Problem] = []
    resolved, item_queue = prepare_items(resolved, decisions, item_warnings)
    decisions.queue = sorted(decisions.queue + item_queue, key=lambda r: (-r["score"], r["id"]))
    if progress:
        progress("resolving and checking", 0, 0)
    tables = build_tables(resolved)
    tables.warnings[:0] = item_warnings
    del resolved  # not held while the store writes the graph
    if write:
        store.replace(bundles, tables, progress)
        decisions.save()
    return tables


def _named_as_read(problems: list[Problem], inputs: list[str]) -> list[Problem]:
    """Problems in the one input being loaded named by its file, as reading names them (`supply.csv`, not
    `<bundle>/supply.csv`); with several inputs, or in a bundle loaded before, the bundle stays in the name."""
    if len(inputs) != 1:
        return list(problems)
    prefix = inputs[0] + "/"
    return [
        Problem(p.file.removeprefix(prefix), p.line, p.column, p.message) if p.file.startswith(prefix) else p
        for p in problems
    ]


def _in_bundle(problems: list[Problem], bundle: str) -> list[Problem]:
    """Problems of one of several inputs loaded at once: a bundle file's name says which bundle (`<bundle>/supply.csv`),
    as the problems of references do."""
    return [Problem(f"{bundle}/{p.file}", p.line, p.column, p.message) if p.file in SCHEMA.files else p for p in problems]


def _valid_part(
    path: Path, name: str | None, format: str | None, encoding: str | None, limits: ZipLimits | None
) -> Bundle | None:
    """The valid records of an input that has problems (as --skip-invalid reads it), or None if none can be read."""
    try:
        return read_source(path, name, format, None, True, encoding, limits)
    except BundleError:
        return None


def _reference_problems(store: Store, new: list[LoadedBundle], fresh: bool) -> list[Problem]:
    """The problems of references in the graph the inputs' valid records would make with what is loaded; a record
    referring to an invalid one is not among them (it is set aside with it)."""
    if not new:
        return []
    replaced = {b.name for b in new}
    kept = [] if fresh else [b for b in store.bundles() if b.name not in replaced]
    try:
        _rebuild(store, kept + new, None, write=False)
    except BundleError as exc:
        return list(exc.problems)
    return []


def remove_bundle(store: Store, name: str, progress: Progress | None = None) -> LoadReport:
    """The graph rebuilt from every loaded bundle but `name`, all or nothing; NotFound if none is so named."""
    started = time.perf_counter()
    with store.load_lock():
        loaded = store.bundles()
        kept = [b for b in loaded if b.name != name]
        if len(kept) == len(loaded):
            names = ", ".join(sorted(b.name for b in loaded)) or "none"
            raise NotFound(f"no bundle named {name!r} is loaded (loaded: {names})")
        tables = _rebuild(store, kept, progress, write=True)
    return LoadReport([], 0, tables.node_count, tables.rel_count, time.perf_counter() - started, tables.warnings)


def _stamp(table: pa.Table, loaded_at: str) -> pa.Table:
    """The table with the time its bundle was read in every row (one byte a row: a dictionary column), kept with
    the bundle's records so that later loads still know it; graph.tables puts it into every origin."""
    if LOADED in table.column_names:
        return table
    day = pa.DictionaryArray.from_arrays(pa.array(np.zeros(table.num_rows, np.int8)), pa.array([loaded_at]))
    return table.append_column(LOADED, day)
