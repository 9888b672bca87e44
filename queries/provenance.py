"""Where the facts of an exposure answer came from: a pass over an answer already computed.

Every node stores its `origins` (one per input record it was built from, e.g.
`acme/factories.csv:3 (bundle, loaded 2026-11-27)` or
`tenders/contracts.csv:17 (ocds tenders.jsonl:17#/awards/0, loaded 2026-11-27)`, see
graph/tables.py) and every relationship its `origin` (for a relationship made from a reference
column, the origins of the record holding the column, joined by "|"; for one made from a row of a link
file, the row's origin without its line, which is in `origin_line`: answers show the two joined,
graph/origins.py `full_origin`).

`add_origins` gives each factory, agency and finding of an answer its node's `origins`, and adds
`provenance`: every other node on the answer's paths (affiliate, contracts, products, companies)
with its origins, and every link on the paths once, in path order, with the origins of the
relationships behind it. Parallel
relationships between the same two nodes are one link whose origins are all of theirs; on the
days-bound steps (assembly, supply, placements, sub-agents) only the relationships active on the
answer's day count, as in the walk. Every list of link origins is sorted, so both stores answer
the same JSON.

Answers have them only when asked (exposure_for_affiliate(provenance=True), API `provenance=true`,
CLI `--provenance`), because they make an answer much larger (docs/benchmarks.md).

The origins are read in bulk (named Cypher, queries/cypher.py) once per exposure index, i.e. once
per generation or Neo4j load, and answered from memory: node origins on the first answer that asks,
link origins (a million supply links at 100k factories) likewise. They
are read from the store as it is when first asked: on the embedded store, the current generation
(a load that swaps generations between an answer's walk and that first read, a window of one
answer, would make that answer's origins the newer generation's); on Neo4j, the live database,
which may be half-way through a load.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.graph.origins import full_origin
from supplygraph.queries.link_index import EPOCH, NEVER_AFTER, NEVER_BEFORE, day_numbers, gather, grouped_order
from supplygraph.queries.steps import CypherSteps

if TYPE_CHECKING:
    from supplygraph.queries.exposure import Exposure

# Each step of an exposure path, (label, next label), and the relationship behind it:
# (type, its start label, its end label, whether it runs against the path).
STEPS: dict[tuple[str, str], tuple[str, str, str, bool]] = {
    ("Affiliate", "Contract"): ("HOLDS", "Affiliate", "Contract", False),
    ("Contract", "Contract"): ("CALL_OFF_OF", "Contract", "Contract", True),  # framework -> its call-off
    ("Contract", "Product"): ("INCLUDES", "Contract", "Product", False),
    ("Product", "Factory"): ("ASSEMBLED_AT", "Product", "Factory", False),
    ("Factory", "Factory"): ("SUPPLIES", "Factory", "Factory", True),  # buyer -> its supplier
    ("Factory", "Agency"): ("PLACES_WORKERS_AT", "Agency", "Factory", True),
    ("Agency", "Agency"): ("RECRUITS_THROUGH", "Agency", "Agency", False),
    ("Factory", "Company"): ("OPERATED_BY", "Factory", "Company", False),
    ("Product", "Company"): ("BRANDED_BY", "Product", "Company", False),
    ("Contract", "Item"): ("HAS_ITEM", "Contract", "Item", False),
    ("Company", "Factory"): ("LISTS_SITE", "Company", "Factory", False),  # a brand's published list
    ("Item", "Company"): ("ITEM_BRAND", "Item", "Company", False),  # the item's brand: a property, no relationship
    ("Factory", "Finding"): ("CONCERNS", "Finding", "Factory", True),
    ("Agency", "Finding"): ("CONCERNS", "Finding", "Agency", True),
    ("Company", "Finding"): ("CONCERNS", "Finding", "Company", True),
}
DATED = {"ASSEMBLED_AT", "SUPPLIES", "PLACES_WORKERS_AT", "RECRUITS_THROUGH", "LISTS_SITE"}  # the walk's active-on-the-day steps
ITEMS = (("factories", "Factory"), ("agencies", "Agency"), ("findings", "Finding"))
PATH_LABELS = ("Affiliate", "Contract", "Product", "Item", "Company")  # the path nodes that are not items


def split_origins(values: Sequence[str | None]) -> list[str]:
    """Relationship origins (each possibly "|"-joined) as one sorted list without repeats."""
    return sorted({o for value in values if value for o in value.split("|") if o})


class NodeOrigins:
    """The origins of every node of one label, by id, as tuples of strings: the collector stops tracking
    those, and an answer copies them into lists (a fraction of the cost of taking them out of Arrow)."""

    def __init__(self, table: pa.Table) -> None:
        ids, origins = table.column("id").to_pylist(), table.column("origins").to_pylist()
        self.origins: dict[str, tuple[str, ...]] = {i: tuple(o or ()) for i, o in zip(ids, origins, strict=True)}

    def of(self, ids: Sequence[str]) -> list[list[str]]:
        get = self.origins.get
        return [list(get(i, ())) for i in ids]


class LinkOrigins:
    """The origins of every relationship of one type between two labels, found by its two ends."""

    def __init__(self, table: pa.Table) -> None:
        ends = pa.concat_arrays([table.column(c).combine_chunks().cast(pa.string()) for c in ("from_id", "to_id")])
        ids = pc.unique(ends)
        self.code = {node: i for i, node in enumerate(ids.to_pylist())}
        codes = [
            np.asarray(pc.index_in(table.column(c), value_set=ids).to_numpy(zero_copy_only=False), dtype=np.int64)
            for c in ("from_id", "to_id")
        ]
        self.to = codes[1]
        self.order, self.offsets = grouped_order(codes[0], len(self.code))
        self.valid_from = day_numbers(table.column("valid_from"), NEVER_BEFORE)
        self.valid_to = day_numbers(table.column("valid_to"), NEVER_AFTER)
        self.origin = table.column("origin").combine_chunks()
        self.origin_line = table.column("origin_line").combine_chunks()

    def of(self, pairs: Sequence[tuple[str, str]], as_of: date | None) -> list[list[str]]:
        """The sorted origins of the relationships from a to b, for each (a, b); only those active on
        `as_of` unless it is None."""
        code = self.code
        wanted = [(code.get(a, -1), code.get(b, -1)) for a, b in pairs]
        known = np.array([i for i, (a, b) in enumerate(wanted) if a >= 0 and b >= 0], dtype=np.int64)
        if not len(known):
            return [[] for _ in pairs]
        found: list[list[str | None]] = [[] for _ in pairs]
        starts = np.array([wanted[i][0] for i in known.tolist()], dtype=np.int64)
        ends = np.array([wanted[i][1] for i in known.tolist()], dtype=np.int64)
        edges, position = gather(self.offsets, self.order, starts)
        keep = self.to[edges] == ends[position]
        if as_of is not None:
            day = (as_of - EPOCH).days
            keep &= (self.valid_from[edges] <= day) & (self.valid_to[edges] >= day)
        edges, position = edges[keep], position[keep]
        taken = pa.array(edges)
        origins, lines = self.origin.take(taken).to_pylist(), self.origin_line.take(taken).to_pylist()
        for pair, origin, line in zip(known[position].tolist(), origins, lines, strict=True):
            found[pair].append(full_origin(origin, line))
        return [split_origins(values) for values in found]


class Provenance:
    """The origins of one graph (one exposure index), each table read on first use."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.nodes: dict[str, NodeOrigins] = {}
        self.links: dict[tuple[str, str, str], LinkOrigins] = {}

    def node_origins(self, steps: CypherSteps, label: str) -> NodeOrigins:
        with self.lock:
            if label not in self.nodes:
                self.nodes[label] = NodeOrigins(steps.node_origins(label))
            return self.nodes[label]

    def link_origins(self, steps: CypherSteps, key: tuple[str, str, str]) -> LinkOrigins:
        with self.lock:
            if key not in self.links:
                self.links[key] = LinkOrigins(steps.link_origins(key))
            return self.links[key]


_kept: weakref.WeakKeyDictionary[Any, Provenance] = weakref.WeakKeyDictionary()
_kept_lock = threading.Lock()


def provenance_for(steps: CypherSteps) -> Provenance:
    """The origins kept beside the steps' exposure index (they go with it); fresh ones for plain
    Cypher steps, which read a graph that may change at any time."""
    index = steps.index
    if index is None:
        return Provenance()
    with _kept_lock:
        kept = _kept.get(index)
        if kept is None:
            kept = _kept[index] = Provenance()
        return kept


def add_origins(answer: Exposure, steps: CypherSteps) -> Exposure:
    """`answer` with its items' origins and its paths' other nodes and links (in place)."""
    known = provenance_for(steps)
    for kind, label in ITEMS:
        items = getattr(answer, kind)
        if items:
            origins = known.node_origins(steps, label).of([item["id"] for item in items])
            for item, found in zip(items, origins, strict=True):
                item["origins"] = found
    answer.provenance = path_provenance(answer, steps, known)
    return answer


def path_labels(answer: Exposure) -> list[tuple[list[str], list[str]]]:
    """Each item's path with the label of each of its nodes, read from the answer's shape: a factory
    of tier t ends in t factories after its product, an agency's path is a factory's path then
    agencies, a finding's path is its subject's path then the finding (a company's: a factory's or
    a product's path, then the company)."""
    factory_paths = {f["id"]: f["path"] for f in answer.factories}
    agency_paths = {a["id"]: a["path"] for a in answer.agencies}

    def product_route(path: list[str]) -> list[str]:  # affiliate, one or two contracts, the product
        return ["Affiliate", *["Contract"] * (len(path) - 2), "Product"]

    tiers = {f["id"]: f["tier"] for f in answer.factories}
    listed = {f["id"]: f["listed"] for f in answer.factories if f.get("listed")}

    def item_route(path: list[str]) -> list[str]:  # affiliate, one or two contracts, the item, its brand
        return ["Affiliate", *["Contract"] * (len(path) - 3), "Item", "Company"]

    def factory_route(factory: str) -> list[str]:
        path = factory_paths[factory]
        if factory in listed:  # through a brand's list: ..., item, brand, then factories
            at = path.index(listed[factory]["item"])
            return [*item_route(path[: at + 2]), *["Factory"] * (len(path) - at - 2)]
        tier = tiers[factory]
        return [*product_route(path[:-tier]), *["Factory"] * tier]

    def agency_route(agency: str) -> list[str]:
        path = agency_paths[agency]
        for k in range(len(path) - 2, 0, -1):
            if factory_paths.get(path[k]) == path[: k + 1]:
                return [*factory_route(path[k]), *["Agency"] * (len(path) - k - 1)]
        raise ValueError(f"agency path without a factory: {path}")

    out = [(f["path"], factory_route(f["id"])) for f in answer.factories]
    out += [(a["path"], agency_route(a["id"])) for a in answer.agencies]
    for finding in answer.findings:
        path, subject = finding["path"], finding["subject"]
        if subject["type"] == "factory":
            labels = factory_route(path[-2])
        elif subject["type"] == "agency":
            labels = agency_route(path[-2])
        elif len(path) > 3 and factory_paths.get(path[-3]) == path[:-2]:
            labels = [*factory_route(path[-3]), "Company"]
        elif finding.get("basis") == "brand_list":  # a brand found from the item's brand_name, text or supplier
            labels = item_route(path[:-1])
        else:
            labels = [*product_route(path[:-2]), "Company"]
        out.append((path, [*labels, "Finding"]))
    return out


def path_provenance(answer: Exposure, steps: CypherSteps, known: Provenance) -> dict[str, Any]:
    """Every node on the answer's paths that is not an item, and every link on them, with origins."""
    nodes: dict[str, set[str]] = {label: set() for label in PATH_LABELS}
    steps_seen: dict[tuple[str, str, str, str], tuple[str, str, str, bool]] = {}
    for path, labels in path_labels(answer):
        if len(path) != len(labels):
            raise ValueError(f"path {path} read as {labels}")
        for node, label in zip(path, labels, strict=True):
            if label in nodes:
                nodes[label].add(node)
        for i in range(len(path) - 1):
            steps_seen.setdefault((labels[i], path[i], labels[i + 1], path[i + 1]), STEPS[labels[i], labels[i + 1]])
    by_key: dict[tuple[str, str, str], list[tuple[str, str, str, str]]] = {}
    for seen, (rel, start, end, _) in steps_seen.items():
        by_key.setdefault((rel, start, end), []).append(seen)
    links = []
    for key, seen_links in by_key.items():
        if key[0] == "ITEM_BRAND":  # no relationship: the item's own records say which brand
            for _, a, _, b in seen_links:
                links.append({"from": a, "to": b, "type": key[0], "origins": known.node_origins(steps, "Item").of([a])[0]})
            continue
        stored = [(b, a) if STEPS[la, lb][3] else (a, b) for la, a, lb, b in seen_links]
        as_of = answer.as_of if key[0] in DATED else None
        for (_, a, _, b), origins in zip(seen_links, known.link_origins(steps, key).of(stored, as_of), strict=True):
            links.append({"from": a, "to": b, "type": key[0], "origins": origins})
    links.sort(key=lambda link: (link["from"], link["to"], link["type"]))
    path_nodes = []
    for label in PATH_LABELS:
        ids = sorted(nodes[label])
        for node, origins in zip(ids, known.node_origins(steps, label).of(ids), strict=True):
            path_nodes.append({"id": node, "label": label, "origins": origins})
    return {"nodes": path_nodes, "links": links}
