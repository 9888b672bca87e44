"""What a person decides about resolution and item matching, for every front end (`supplygraph matches`, the
/ui/review pages): accept or reject a queued entry, split records out of a merged node, move a record into
another node. Each decision is written to the store's decision file (loaders/resolve/decisions.py) and the
graph rebuilt from its stored records at once, both under the store's load lock, so a decision taken while a
load runs is neither lost nor half-applied; every later load re-applies it."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.graph.errors import InvalidParameter, NotFound
from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.stores.protocol import Store, ident
from supplygraph.loaders.pipeline import LoadReport, load_bundles
from supplygraph.loaders.resolve import Decisions, matches_file
from supplygraph.loaders.resolve.nodes import MERGEABLE, check_split, node_members

SIDE_BY_SIDE = ("name", "address", "city", "country", "lat", "lng", "os_id", "lei", "identifier_scheme",
                "identifier_id", "registration_numbers", "license_no", "source_format")  # fmt: skip


def entry(store: Store, match_id: str) -> dict[str, Any]:
    """A queued or decided entry by id; NotFound if there is none."""
    decisions = Decisions.load(matches_file(store))
    found = next((m for m in decisions.queue if m["id"] == match_id), None) or decisions.decided.get(match_id)
    if found is None:
        raise NotFound(f"no match {match_id!r}; see `supplygraph matches list`")
    return found


def decide(store: Store, match_id: str, decision: str) -> tuple[dict[str, Any], LoadReport]:
    """Accept or reject a queued entry as a whole, and rebuild the graph."""
    with store.load_lock():
        decisions = Decisions.load(matches_file(store))
        try:
            taken = decisions.decide(match_id, decision)
        except KeyError:
            raise NotFound(f"no match {match_id!r}; see `supplygraph matches list`") from None
        decisions.save()
        return taken, load_bundles(store, [])


def split(store: Store, node: str, records: list[str]) -> tuple[str, LoadReport]:
    """Take records out of a merged node (an automatic merge too), and rebuild; returns the node's label."""
    with store.load_lock():
        label, members = node_members(store, node)
        check_split(node, members, records)
        decisions = Decisions.load(matches_file(store))
        decisions.split(label, node, members, records)
        decisions.save()
        return label, load_bundles(store, [])


def move(store: Store, record: str, to: str) -> tuple[str, LoadReport]:
    """Move a record (a node's id or one of its merged ids) into node `to`, and rebuild; returns the label."""
    with store.load_lock():
        label, target = node_members(store, to)
        if record in target:
            raise InvalidParameter("RECORD", f"{record} is already in {to}")
        holding = nodes_holding(store, label, record)
        if not holding:
            raise NotFound(f"no {label.lower()} record {record!r}")
        current = node_members(store, holding[0])[1]
        decisions = Decisions.load(matches_file(store))
        decisions.split(label, holding[0], current, [record], to=to)
        decisions.save()
        return label, load_bundles(store, [])


def nodes_holding(store: Store, label: str, record: str) -> list[str]:
    """The nodes of `label` whose id is `record` or whose merged ids list it."""
    if label not in MERGEABLE:
        raise NotFound(f"no {label.lower()} node merges records")
    rows = store.run(
        f"MATCH (n:{ident(label)}) WHERE n.id = $id OR n.merged_ids = $id OR n.merged_ids STARTS WITH $head "
        "OR n.merged_ids ENDS WITH $tail OR n.merged_ids CONTAINS $middle RETURN n.id AS id",
        {"id": record, "head": record + "|", "tail": "|" + record, "middle": "|" + record + "|"},
    )
    return [r["id"] for r in rows]


def member_records(store: Store, label: str, members: list[str]) -> dict[str, dict[str, Any]]:
    """Each original record merged into a node as its inputs gave it (the last non-empty value of each field
    shown side by side), read from the stored bundles."""
    stem = SCHEMA.nodes[label].file.removesuffix(".csv")
    wanted = pa.array(members, pa.string())
    out: dict[str, dict[str, Any]] = {m: {} for m in members}
    for bundle in store.bundles():
        table = bundle.tables.get(stem)
        if table is None:
            continue
        rows = table.filter(pc.is_in(table.column("id"), value_set=wanted))
        columns = [c for c in SIDE_BY_SIDE if c in rows.column_names]
        for row in rows.select(["id", *columns]).to_pylist():
            out[row["id"]].update({k: v for k, v in row.items() if k != "id" and v is not None})
            out[row["id"]].setdefault("bundle", bundle.name)
    return out
