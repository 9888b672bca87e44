"""Bulk reads of Neo4j in pages, each page its own bounded query, with an exact result.

A bulk read (`Neo4jStore.run_arrow`) collects its rows into one record on the server; the ten million supply
links of a 1M-factory graph do not fit in a transaction's memory that way. A read whose query starts with
`MATCH (v:Label)` (a schema label, whose `id` has a uniqueness constraint) and returns one row per match (no
WITH, DISTINCT, aggregation, ORDER BY, SKIP or LIMIT) is therefore read in pages of `page_size` nodes `v`:

    MATCH (v:Label) WHERE v.id IN $ids MATCH (v)<rest of the pattern> ... RETURN ...

The ids of the label are read first (one list), sorted here and cut into pages: ids are unique, so each node,
and so each match row, is in exactly one page (an index seek per id; no order of an unordered MATCH is relied
on, no SKIP/LIMIT). Nodes whose id is missing or not a string (a load writes none) are read by one more page.
Ranges (`v.id >= $low AND v.id < $high`) were not used: Neo4j's index orders strings by code point while `<`
compares UTF-16 units, so ids with characters beyond U+FFFF fall outside every range. Ids are $parameters,
the label comes from the schema.

The pages of one read are separate transactions: a caller that needs them from one load reads them where no
load can write in between (a load holding its load lock) or checks the load state before and after the whole
read (graph/stores/neo4j_snapshots.py), as it did for the single query.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.stores.protocol import ident

DEFAULT_PAGE = 10_000  # anchor nodes a page: at ~10 supply links a factory, ~100k rows a page (docs/neo4j.md)
ANCHOR = re.compile(r"^\s*MATCH\s+\((\w+):(\w+)\)")
NOT_PER_MATCH = re.compile(
    r"\b(WITH|DISTINCT|ORDER\s+BY|SKIP|LIMIT|UNION|CALL|OPTIONAL|UNWIND|count|collect|sum|avg|min|max)\b", re.IGNORECASE
)
IDS = "MATCH (n:{label}) WHERE n.id IS :: STRING NOT NULL RETURN collect(n.id) AS ids"
OTHER_IDS = "MATCH (n:{label}) WHERE n.id IS NULL OR NOT n.id IS :: STRING RETURN count(n) AS n"
PAGE_IDS = "supplygraph_page_ids"

Page = tuple[str, dict[str, Any]]


def page_setting() -> int:
    """Anchor nodes a page: SUPPLYGRAPH_NEO4J_READ_PAGE, or DEFAULT_PAGE."""
    return max(1, int(os.environ.get("SUPPLYGRAPH_NEO4J_READ_PAGE") or DEFAULT_PAGE))


def anchor(cypher: str) -> tuple[str, str] | None:
    """(variable, label) a read can be paged over, or None when it must be read whole."""
    found = ANCHOR.match(cypher)
    if found is None or found.group(2) not in SCHEMA.nodes or NOT_PER_MATCH.search(cypher):
        return None
    if len(re.findall(r"\bMATCH\b", cypher, re.IGNORECASE)) != 1:
        return None
    return found.group(1), found.group(2)


def pages(
    cypher: str, params: Mapping[str, Any] | None, page_size: int, run: Callable[[str, dict[str, Any]], list[dict[str, Any]]]
) -> list[Page]:
    """The queries and parameters of the pages of `cypher` (one page, the query itself, when it cannot be paged
    or its label has at most `page_size` nodes). `run` answers a read query's rows."""
    params = dict(params or {})
    found = anchor(cypher)
    if found is None or PAGE_IDS in params:
        return [(cypher, params)]
    var, label = found
    ids = sorted(run(IDS.format(label=ident(label)), {})[0]["ids"])
    others = run(OTHER_IDS.format(label=ident(label)), {})[0]["n"]
    if len(ids) <= page_size and not others:
        return [(cypher, params)]
    v, rest = ident(var), cypher[ANCHOR.match(cypher).end() :]  # type: ignore[union-attr]  # anchor() matched
    head, tail = f"MATCH ({v}:{ident(label)}) WHERE ", f" MATCH ({v})" + rest
    out: list[Page] = [
        (head + f"{v}.id IN ${PAGE_IDS}" + tail, params | {PAGE_IDS: ids[i : i + page_size]})
        for i in range(0, len(ids), page_size)
    ]
    if others:
        out.append((head + f"{v}.id IS NULL OR NOT {v}.id IS :: STRING" + tail, params))
    return out

