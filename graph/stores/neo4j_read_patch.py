"""A kept bulk read brought up to date by the rows a delta can change, instead of read again whole.

For a read of one node label (`MATCH (n:L) RETURN ..., n.id AS x, ...`) or of one relationship type between
two labels (`MATCH (a:L1)-[r:T]->(b:L2) RETURN ..., a.id AS x, b.id AS y, ...`; no WHERE, nothing else), a row
can change only if a node at one of its ends is written, deleted, or has relationships of its own created or
deleted by the delta: every row of the new graph whose end is such a node is read again (an index seek per
id), every kept row whose end is one is dropped, and the rest of the kept rows stay. Reads of any other shape
are read again whole (graph/stores/neo4j_delta_reads.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.graph.delta import GraphDelta
from supplygraph.graph.stores.neo4j_pages import PAGE_IDS

ONE_HOP = re.compile(r"^MATCH \((\w+):(\w+)\)-\[\w+:\w+\]->\((\w+):(\w+)\)(\s+RETURN\s.+)$", re.DOTALL)
ONE_NODE = re.compile(r"^MATCH \((\w+):(\w+)\)(\s+RETURN\s.+)$", re.DOTALL)
OTHER_IDS = "supplygraph_patch_ids"  # PAGE_IDS names the first list: a query with it is not paged again

ReadArrow = Callable[[str, dict[str, Any]], pa.Table]


def changed_ids(delta: GraphDelta) -> dict[str, set[str]]:
    """Label -> ids of the nodes a delta writes, deletes, or creates or deletes relationships at."""
    ids: dict[str, set[str]] = {}
    for label, table in delta.nodes.items():
        ids.setdefault(label, set()).update(table.column("id").to_pylist())
    for found in (delta.gone, delta.touched):
        for label, some in found.items():
            ids.setdefault(label, set()).update(some)
    for part in (*delta.rels, *delta.unlinked):
        ids.setdefault(part.source, set()).update(part.table.column("from").to_pylist())
        if "to" in part.table.column_names:
            ids.setdefault(part.target, set()).update(part.table.column("to").to_pylist())
    return ids


def id_column(var: str, returned: str) -> str | None:
    found = re.search(rf"\b{re.escape(var)}\.id\s+AS\s+(\w+)", returned)
    return found.group(1) if found else None


def patched(cypher: str, kept: pa.Table, ids: dict[str, set[str]], read: ReadArrow) -> pa.Table | None:
    """`kept` (the read's answer before the delta) made the answer after it, or None when `cypher` has
    another shape. `read(cypher, params)` reads the graph after the delta."""
    hop, node = ONE_HOP.match(cypher), ONE_NODE.match(cypher)
    if hop:
        (a, la, b, lb, returned), pattern = hop.groups(), cypher[: hop.start(5)]
        ends = [(a, ids.get(la, set())), (b, ids.get(lb, set()))]
    elif node:
        (a, la, returned), pattern = node.groups(), cypher[: node.start(3)]
        ends = [(a, ids.get(la, set()))]
    else:
        return None
    columns = [id_column(var, returned) for var, _ in ends]
    if any(c is None or c not in kept.column_names for c in columns):
        return None
    try:
        return _patch(kept, pattern, returned, ends, [str(c) for c in columns], read)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None  # kept and new rows that do not combine: read again whole


def _patch(
    kept: pa.Table, pattern: str, returned: str, ends: list[tuple[str, set[str]]], columns: list[str], read: ReadArrow
) -> pa.Table:
    a = ends[0][0]
    drop = pc.is_in(kept.column(columns[0]), pa.array(sorted(ends[0][1]), pa.string()))
    parts = [read(f"{pattern} WHERE {a}.id IN ${PAGE_IDS}{returned}", {PAGE_IDS: sorted(ends[0][1])})]
    if len(ends) == 2:
        b = ends[1][0]
        drop = pc.or_(drop, pc.is_in(kept.column(columns[1]), pa.array(sorted(ends[1][1]), pa.string())))
        parts.append(
            read(
                f"{pattern} WHERE {b}.id IN ${OTHER_IDS} AND NOT {a}.id IN ${PAGE_IDS}{returned}",
                {PAGE_IDS: sorted(ends[0][1]), OTHER_IDS: sorted(ends[1][1])},
            )
        )
    stay = kept.filter(pc.invert(pc.fill_null(drop, False)))
    return pa.concat_tables([stay, *parts], promote_options="permissive").select(kept.column_names)
