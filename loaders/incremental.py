"""Incremental loads: what adding (or replacing) a small bundle changes in the graph, computed from the few rows
it touches, so that a store writes only that (GraphDelta) instead of rebuilding the whole graph.

The result is the graph a full load of the same bundles builds, because only bundles whose rows do not take
part in entity resolution or item matching go this way: sources, findings and link files (supply, assembly,
placements, agency links, brand sites). Such rows cannot change which records are one thing (no record of a
company, factory, agency, affiliate or product is added or removed, so resolution, the listings and the item
matches of the other bundles stay as they are), and every id they refer to must already be a node of the graph
(an id merged away, or unknown, sends the load the full way, which resolves or reports it). A bundle with other
files, one that removes a source, or (by default) one that is not small beside the graph is loaded by a full
rebuild; `plan_incremental` says why in the string it returns instead of a delta.

How the delta is made: the touched ids are those of the sources and findings of the new bundle and of the
bundle it replaces. graph.tables builds the graph of a small cut of the bundles, every bundle's rows of the
touched ids (so that a node's merged row is whole) plus the new bundles' links, with a bare row for every node
they refer to; its nodes of the touched ids, their reference relationships and the links are the delta.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.graph.delta import GraphDelta, own_references
from supplygraph.graph.errors import BundleError
from supplygraph.graph.relationships import RelPart, link_rels
from supplygraph.graph.schema import SCHEMA, arrow_type
from supplygraph.graph.stores.protocol import LoadedBundle, Progress, Store, ident
from supplygraph.graph.tables import build_tables

NODE_TABLES = {"sources": "Source", "findings": "Finding"}  # node tables an incremental load may touch
INCREMENTAL_TABLES = frozenset({*NODE_TABLES, *(name for name in SCHEMA.links if name != "contract_items")})
AUTO_ROWS = 50_000  # by default a bundle (with the one it replaces) of at most this many rows is added incrementally,
AUTO_SHARE = 0.25  # when it is at most this share of the rows loaded
GRAPH = "(graph)"  # the name of the cut's bundle of bare rows for the nodes referred to


def plan_incremental(
    store: Store, loaded: list[LoadedBundle], new: list[LoadedBundle], *, auto: bool = True
) -> GraphDelta | str:
    """The change that makes the store's graph (of `loaded`) that of `loaded` with `new` added or replacing the
    bundles of their names; or why it must be rebuilt instead. `auto`: only when the change is small."""
    refused = refusal(loaded, new, auto=auto)
    if refused:
        return refused
    if _links_without_lines(store):
        return "the graph's links were loaded before they kept their line in origin_line"
    names = {b.name for b in new}
    removed = [b for b in loaded if b.name in names]
    kept = [b for b in loaded if b.name not in names]
    changed = removed + new
    touched = {
        stem: _unique(b.tables[stem].column("id") for b in changed if stem in b.tables)
        for stem in NODE_TABLES
        if any(stem in b.tables for b in changed)
    }
    cut = _cut([*kept, *new], {b.name for b in new}, touched)
    defined = {NODE_TABLES[stem]: _unique(t.column("id") for _n, ts in cut if (t := ts.get(stem)) is not None)
               for stem in touched}  # fmt: skip
    gone = {NODE_TABLES[stem]: pc.filter(ids, pc.invert(pc.is_in(ids, value_set=defined[NODE_TABLES[stem]])))
            for stem, ids in touched.items()}  # fmt: skip
    unlinked = _unlinked(removed)
    ends = {name: pa.table({"from_id": p.table["from"], "to_id": p.table["to"]}) for name, p in unlinked.items()}
    referred = _referred([*cut, ("", ends)])  # the replaced links' ends too: they are found by their start
    dropped = gone.get("Source", pa.array([], pa.string()))
    if len(dropped):
        cited = _cited([*kept, *new], referred.get("Source"))
        if pc.any(pc.is_in(dropped, value_set=cited)).as_py():
            return "a source no bundle describes any more is still cited (the full load reports it)"
    bare: dict[str, pa.Array] = {}
    for label, ids in referred.items():
        stem = SCHEMA.nodes[label].stem
        if not any(stem in b.tables for b in [*kept, *new]):
            return f"references to {label.lower()} ids, and no bundle has {SCHEMA.nodes[label].file} (bare nodes)"
        own = defined.get(label, pa.array([], pa.string()))
        outside = pc.filter(ids, pc.invert(pc.is_in(ids, value_set=own)))
        found = _existing(store, label, outside)
        missing = pc.filter(outside, pc.invert(pc.is_in(outside, value_set=found)))
        if len(missing):
            return f"{label.lower()} id {missing[0].as_py()!r} is not a node of the graph (unknown, or merged into another)"
        bare[label] = outside
    try:
        tables = build_tables([(GRAPH, _bare_tables(bare)), *cut])
    except BundleError:
        return "the new rows have problems (the full load reports them)"
    ids = {NODE_TABLES[stem]: pc.unique(ids) for stem, ids in touched.items()}
    nodes = {label: _keep(tables.nodes[label], "id", ids[label]) for label in ids}
    return GraphDelta(
        nodes={label: t for label, t in nodes.items() if t.num_rows},
        touched={label: v.to_pylist() for label, v in ids.items()},
        gone={label: v.to_pylist() for label, v in gone.items() if len(v)},
        rels=_delta_rels(tables.rels, ids),
        unlinked=list(unlinked.values()),
        removed=[b.name for b in removed],
        kept=[b.name for b in kept],
    )


def refusal(loaded: list[LoadedBundle], new: list[LoadedBundle], *, auto: bool) -> str:
    """Why `new` cannot be added to `loaded` incrementally, from the bundles' names, files and sizes alone; empty
    when it may be (plan_incremental then looks at the rows)."""
    if not loaded:
        return "no graph loaded yet"
    if not new:  # a rebuild of what is loaded, as after a review decision: resolution runs again
        return "nothing new to add: the graph is rebuilt from what is loaded"
    names = {b.name for b in new}
    changed = [b for b in loaded if b.name in names] + new
    for bundle in changed:
        other = sorted(name for name in bundle.tables if name not in INCREMENTAL_TABLES)
        if other:
            return f"{bundle.name} has {', '.join(other)}: records that entity resolution or item matching takes in"
        if "/" in bundle.name:
            return f"the bundle name {bundle.name!r} has a '/'"
    if auto:
        rows = _rows(changed)
        total = _rows(loaded)
        if rows > AUTO_ROWS or rows > AUTO_SHARE * total:
            return f"{rows:,} rows to change is not small beside the {total:,} rows loaded"
    return ""


def _links_without_lines(store: Store) -> bool:
    """Whether the graph was loaded when a link's `origin` held its line (no `origin_line`): its links could
    not be found by origin and line, so it is rebuilt once."""
    for link in SCHEMA.links.values():
        ends = f"(:{ident(link.source.node)})-[r:{ident(link.rel)}]->(:{ident(link.target.node)})"
        found = store.run(f"MATCH {ends} RETURN r LIMIT 1")
        if found and dict(found[0]["r"]).get("origin_line") is None:
            return True
    return False


def _rows(bundles: list[LoadedBundle]) -> int:
    return sum(b.rows() for b in bundles)


def _unique(columns: Iterable[pa.ChunkedArray | pa.Array]) -> pa.Array:
    chunks = [c for col in columns for c in (col.chunks if isinstance(col, pa.ChunkedArray) else [col])]
    if not chunks:
        return pa.array([], pa.string())
    return pc.unique(pa.chunked_array(chunks, pa.string()).combine_chunks().drop_null())


def _keep(table: pa.Table, column: str, ids: pa.Array) -> pa.Table:
    return table.filter(pc.is_in(table.column(column), value_set=ids))


def _cut(bundles: list[LoadedBundle], new: set[str], touched: dict[str, pa.Array]) -> list[tuple[str, dict]]:
    """Every bundle's rows of the touched ids, in load order, and the new bundles' links."""
    cut = []
    for bundle in bundles:
        tables = {}
        for stem, ids in touched.items():
            if stem in bundle.tables:
                rows = _keep(bundle.tables[stem], "id", ids)
                if rows.num_rows:
                    tables[stem] = rows
        if bundle.name in new:
            tables.update({n: t for n, t in bundle.tables.items() if n in SCHEMA.links and t.num_rows})
        cut.append((bundle.name, tables))
    return cut


def _unlinked(removed: list[LoadedBundle]) -> dict[str, RelPart]:
    """link file -> the link relationships of the replaced bundles, as a load writes them (start, end, origin and
    origin line, properties: the link index updates itself from them, queries/link_delta.py)."""
    links = {name: t for b in removed for name, t in b.tables.items() if name in SCHEMA.links and t.num_rows}
    if not links:
        return {}
    cut = [(b.name, {n: t for n, t in b.tables.items() if n in links and t.num_rows}) for b in removed]
    built = {part.type: part for part in link_rels(cut) if part.table.num_rows}
    return {name: built[link.rel] for name, link in SCHEMA.links.items() if link.rel in built}


def _cited(bundles: list[LoadedBundle], referred: pa.Array | None) -> pa.Array:
    """Every source id cited by the bundles' findings and links, and `referred`."""
    cited = [] if referred is None else [referred]
    for bundle in bundles:
        for name, table in bundle.tables.items():
            if (name == "findings" or name in SCHEMA.links) and "source_ids" in table.column_names:
                cited.append(pc.list_flatten(table.column("source_ids").combine_chunks()))
    return _unique(cited)


def _referred(cut: list[tuple[str, dict[str, pa.Table]]]) -> dict[str, pa.Array]:
    """label -> every id the cut's rows refer to (reference columns, link ends, cited sources)."""
    found: dict[str, list[pa.Array]] = {}

    def add(label: str, values: pa.Array | pa.ChunkedArray) -> None:
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if pa.types.is_list(values.type):
            values = pc.list_flatten(values)
        found.setdefault(label, []).append(values.cast(pa.string()))

    for _name, tables in cut:
        for stem, label in NODE_TABLES.items():
            table = tables.get(stem)
            if table is None:
                continue
            for ref in own_references(label):
                if ref.column not in table.column_names:
                    continue
                rows = table if ref.when is None else table.filter(pc.equal(table.column("subject_type"), ref.when))
                add(ref.target, rows.column(ref.column))
        for name, link in SCHEMA.links.items():
            table = tables.get(name)
            if table is None:
                continue
            add(link.source.node, table.column("from_id"))
            add(link.target.node, table.column("to_id"))
            if "source_ids" in table.column_names:
                add("Source", table.column("source_ids"))
    return {label: _unique(arrays) for label, arrays in found.items()}


def _existing(store: Store, label: str, ids: pa.Array) -> pa.Array:
    """Those of `ids` that are nodes of the store's graph (a look-up by key, on both stores)."""
    if not len(ids):
        return pa.array([], pa.string())
    rows = store.run(f"UNWIND $ids AS x MATCH (n:{ident(label)} {{id: x}}) RETURN n.id AS id", {"ids": ids.to_pylist()})
    return pa.array([r["id"] for r in rows], pa.string())


def _bare_tables(bare: dict[str, pa.Array]) -> dict[str, pa.Table]:
    """A canonical table per label with one row of nulls per id: nodes the cut refers to, to check against."""
    out = {}
    for label, ids in bare.items():
        spec = SCHEMA.nodes[label]
        columns = {"id": ids, **{p.name: pa.nulls(len(ids), arrow_type(p)) for p in spec.properties}}
        columns["_line"] = pa.array([0] * len(ids), pa.int32())
        out[spec.stem] = pa.table(columns)
    return out


def _delta_rels(parts: list[RelPart], touched: dict[str, pa.Array]) -> list[RelPart]:
    """The reference relationships of the touched nodes, and the links (the cut holds only the new bundles')."""
    out = []
    by_ends = {}
    for label in touched:
        for ref in own_references(label):
            ends = (ref.rel, ref.target, ref.node) if ref.reverse else (ref.rel, ref.node, ref.target)
            by_ends[ends] = ("to" if ref.reverse else "from", touched[label])
    links = {link.rel for link in SCHEMA.links.values()}
    for part in parts:
        found = by_ends.get((part.type, part.source, part.target))
        if found is not None:
            table = _keep(part.table, *found)
        elif part.type in links:
            table = part.table
        else:
            continue
        if table.num_rows:
            out.append(RelPart(part.type, part.source, part.target, table))
    return out


def load_incrementally(
    store: Store, loaded: list[LoadedBundle], new: list[LoadedBundle], *, auto: bool, progress: Progress | None
) -> tuple[int, int] | str:
    """Add `new` to the store's graph by a delta, under the caller's load lock: (nodes, relationships) of the
    graph after it; or why it is to be rebuilt instead (nothing written then)."""
    if not refusal(loaded, new, auto=auto):
        store.prepare_delta()  # the database copy runs while the change is planned
    delta = plan_incremental(store, loaded, new, auto=auto)
    if isinstance(delta, str):
        return delta
    store.apply_delta([*[b for b in loaded if b.name in delta.kept], *new], delta, progress)
    nodes = sum(store.run(f"MATCH (n:{ident(label)}) RETURN count(n) AS n")[0]["n"] for label in SCHEMA.nodes)
    rels = sum(store.run(f"MATCH ()-[r:{ident(t)}]->() RETURN count(r) AS n")[0]["n"] for t in SCHEMA.rel_types)
    return nodes, rels
