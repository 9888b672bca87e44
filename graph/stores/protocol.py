"""The interface both stores implement completely: callers never need to ask which store they hold."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, MutableMapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
from supplygraph.graph.delta import GraphDelta
from supplygraph.graph.tables import GraphTables

Row = dict[str, Any]
Progress = Callable[[str, int, int], None]  # (step, done, total)
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def ident(name: str) -> str:
    """A label, type or property name for Cypher text, quoted; refuses anything that is not an identifier.

    Only names from the schema, or extra-column names made safe by the loader, reach Cypher text.
    """
    if not IDENT.match(name):
        raise ValueError(f"not an identifier: {name!r}")
    return "`" + name + "`"


@dataclass(frozen=True)
class LoadedBundle:
    name: str
    tables: MutableMapping[str, pa.Table]  # a store may fetch a saved table when it is first used

    def rows(self) -> int:
        """Rows of every table (a saved table's count may be known without fetching it)."""
        count = getattr(self.tables, "num_rows", None)
        if count is not None:
            return sum(count(name) for name in self.tables)
        return sum(table.num_rows for table in self.tables.values())


class ArrowReader(Protocol):
    def run_arrow(self, cypher: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """A read query's rows as Arrow columns, for bulk reads."""


class TextDocument(Protocol):
    """A small text kept by a server store where every process using it sees it (graph/stores/neo4j_documents.py)."""

    def exists(self) -> bool: ...

    def read_text(self) -> str: ...

    def write_text(self, text: str) -> None: ...


class Store(Protocol):
    dialect: str  # "ladybug" or "neo4j": which text of a named query to run
    embedded: bool  # the graph is in a local folder: `generation` is a cheap file read

    def run_arrow(self, cypher: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """A read query's rows as Arrow columns, for bulk reads (a million links)."""

    def link_reads(self) -> ArrowReader:
        """Where the link index of the current generation reads its bulk tables from (queries/link_index.py)."""

    def link_index_folder(self, generation: str) -> Path | None:
        """Where the link index files of `generation` live (queries/link_files.py), None if not kept on disk."""

    def for_load(self) -> Store:
        """A store object for one load: its writes and its close touch no connection a reader is using."""

    def pinned(self, generation: str | None) -> Store:
        """A store that keeps reading `generation` whatever is loaded later (EmptyGraph if None and it matters)."""

    @property
    def data_folder(self) -> Path | None:
        """The folder the graph lives in (the embedded store), None for a server."""

    @property
    def decisions_file(self) -> Path | TextDocument:
        """Where this graph's review decisions live (loaders/resolve/decisions.py): a file, or in a server store."""

    def worker_config(self) -> dict[str, Any]:
        """How another process opens the same graph: `open_from_config` of graph/stores/ takes it."""

    def run(self, cypher: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run a read query and return its rows as dicts."""

    def run_readonly(
        self, cypher: str, params: Mapping[str, Any] | None, *, timeout_s: float, max_rows: int
    ) -> tuple[list[str], list[list[Any]], bool]:
        """Run untrusted read-only Cypher with a timeout: (columns, rows, truncated)."""

    def bundles(self, *, lazy: bool = False) -> list[LoadedBundle]:
        """The canonical records the current graph was built from, in load order (with `lazy`, a store may fetch
        each table when first used: only under the load lock, where nothing replaces them meanwhile)."""

    def load_lock(self) -> AbstractContextManager[None]:
        """The lock a load holds from reading `bundles()` to swapping its graph in (re-entrant in the thread
        holding it); raises LoadLocked if another load holds it (graph/stores/load_lock.py)."""

    def replace(self, bundles: list[LoadedBundle], tables: GraphTables, progress: Progress | None = None) -> None:
        """Make the graph exactly `tables` (built from `bundles`), all or nothing."""

    def apply_delta(self, bundles: list[LoadedBundle], delta: GraphDelta, progress: Progress | None = None) -> None:
        """Make the graph that of `bundles` by writing `delta` (loaders/incremental.py), all or nothing."""

    def prepare_delta(self) -> None:
        """Start, under the load lock, what the apply_delta expected next needs whatever the delta (the embedded
        store copies its database); nothing where nothing can start early."""

    @property
    def generation(self) -> str | None:
        """An id that changes whenever the graph changes; None if the store cannot tell."""

    def close(self) -> None: ...
