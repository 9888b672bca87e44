"""In-memory indexes of the wide links, for a graph that does not change between loads.

An embedded generation is immutable, so its supply links, placements, factory details and
findings can be read once (by named Cypher, see queries/cypher.py) into arrays and answered
from memory: LadybugDB evaluates `id IN $list` by scanning, which at 100k factories costs
hundreds of milliseconds per exposure step. Date filters run vectorised over the arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

EPOCH = date(1970, 1, 1)
NEVER_BEFORE = np.iinfo(np.int32).min
NEVER_AFTER = np.iinfo(np.int32).max


def _days(column: pa.ChunkedArray | pa.Array, missing: int) -> np.ndarray:
    if pa.types.is_null(column.type) or pa.types.is_string(column.type):  # no dates at all
        return np.full(len(column), missing, dtype=np.int32)
    as_int = pc.cast(column, pa.int32()) if pa.types.is_date(column.type) else column
    return np.asarray(pc.fill_null(as_int, missing).to_numpy(zero_copy_only=False), dtype=np.int32)


class LinkTable:
    """Links grouped by their `key` end, with validity days and source ids."""

    def __init__(self, table: pa.Table, key: str, other: str) -> None:
        encoded = pc.dictionary_encode(table.column(key).combine_chunks())
        codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        self.index = {k: i for i, k in enumerate(encoded.dictionary.to_pylist())}
        self.order = np.argsort(codes, kind="stable")
        counts = np.bincount(codes, minlength=len(self.index))
        self.offsets = np.concatenate([[0], np.cumsum(counts)])
        # Arrow arrays, not numpy object arrays: a million Python strings held in containers would
        # make every full garbage collection walk them.
        self.keys = table.column(key).combine_chunks()
        self.others = table.column(other).combine_chunks()
        self.sources = table.column("sources").combine_chunks()
        self.valid_from = _days(table.column("valid_from"), NEVER_BEFORE)
        self.valid_to = _days(table.column("valid_to"), NEVER_AFTER)

    def active(self, keys: Sequence[str], as_of: date) -> list[tuple[str, str, Any]]:
        idx = np.array([self.index[k] for k in keys if k in self.index], dtype=np.int64)
        if not len(idx):
            return []
        starts, ends = self.offsets[idx], self.offsets[idx + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if not total:
            return []
        shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        edges = self.order[shift + np.arange(total)]
        day = (as_of - EPOCH).days
        edges = edges[(self.valid_from[edges] <= day) & (self.valid_to[edges] >= day)]
        take = pa.array(edges)
        columns = (self.keys.take(take), self.others.take(take), self.sources.take(take))
        return list(zip(*(c.to_pylist() for c in columns), strict=True))


class LinkIndex:
    """Everything the exposure walk reads in bulk, for one immutable generation."""

    def __init__(
        self,
        supply: pa.Table,
        placements: pa.Table,
        agency_links: pa.Table,
        factories: pa.Table,
        agencies: pa.Table,
        findings: pa.Table,
    ) -> None:
        self.suppliers = LinkTable(supply, "buyer", "supplier")
        self.placements = LinkTable(placements, "factory", "agency")
        self.subagents = LinkTable(agency_links, "agency", "subagent")
        self.factories = {row["id"]: row for row in factories.to_pylist()}
        self.agencies = {row["id"]: row for row in agencies.to_pylist()}
        self.findings: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in findings.to_pylist():
            self.findings.setdefault((row["subject_type"], row["subject_id"]), []).append(row)

    def open_findings(self, subject_type: str, ids: Sequence[str], as_of: date) -> list[dict[str, Any]]:
        out = []
        for subject in ids:
            for row in self.findings.get((subject_type, subject), ()):
                if finding_open(row, as_of):
                    out.append(row)
        return out


def finding_open(row: dict[str, Any], as_of: date) -> bool:
    """The spec's 'open on day D' (the same predicate as cypher.FINDING_OPEN)."""
    reported, closed = row["reported_on"], row["closed_on"]
    if reported is not None and reported > as_of:
        return False
    if closed is not None:
        return bool(closed > as_of)
    return row["status"] != "remediated"
