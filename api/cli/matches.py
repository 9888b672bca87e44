"""`supplygraph matches list|show|accept|reject|split|move`: the review queue of entity resolution
(loaders/resolve/) and corrections of merged nodes.

Decisions are stored beside the data (matches.json) and the graph is rebuilt from its stored records at once,
so an accepted entry is one node and a rejected one several from now on, on this and every later load; a split
or moved record stays where it was put, an automatic merge included.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from supplygraph.api import render
from supplygraph.api.cli.base import DbOption, Neo4jOption, out
from supplygraph.api.terminal import data, json_text, visible
from supplygraph.graph.errors import NotFound
from supplygraph.graph.stores import open_store
from supplygraph.graph.stores.protocol import Store
from supplygraph.loaders import review
from supplygraph.loaders.pipeline import LoadReport
from supplygraph.loaders.resolve import Decisions, matches_file
from supplygraph.queries.items import item_and_product

matches_app = typer.Typer(
    help="Work the entity-resolution review queue; split or move merged records.", no_args_is_help=True
)
SIDE_BY_SIDE = review.SIDE_BY_SIDE


def _decisions(db: Path | None, neo4j: str | None) -> tuple[Decisions, Store]:
    store = open_store(db, neo4j)
    return Decisions.load(matches_file(store)), store


MatchId = Annotated[str, typer.Argument(help="The entry's id, as `supplygraph matches list` shows it")]


@matches_app.command("list")
def list_matches(
    db: DbOption = None,
    neo4j: Neo4jOption = None,
    decided: Annotated[bool, typer.Option("--decided", help="Decisions taken instead of the queue", metavar="")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table", metavar="")] = False,
) -> None:
    """Entries waiting for review, best first: a pair scored 0.5-0.8, or a record with every cluster it matches
    when those clusters are not one thing. --decided lists accepts, rejects, splits and moves.
    Label `Item`: a contract item (a) and a product (b) its description may name."""
    decisions, _ = _decisions(db, neo4j)
    rows = list(decisions.decided.values()) if decided else decisions.queue
    if as_json:
        sys.stdout.write(json_text(rows) + "\n")
        return
    if not rows:  # an empty table would print only its header
        out.print("no decisions taken" if decided else "nothing waits for review")
        return
    table = render.data_table("id", "label", "score", "records", "names", *(["decision"] if decided else []))
    for m in rows:
        members = m.get("members") or m.get("records") or [m.get("a"), m.get("b")]
        score = f"{m['score']:.2f}" if "score" in m else ""
        extra = [data(m["decision"])] if decided else []
        table.add_row(
            data(m["id"]), data(m["label"]), score, render.joined(members, " "),
            render.joined(m.get("names") or [], " / "), *extra,
        )  # fmt: skip
    out.print(table)


@matches_app.command("show")
def show(match_id: MatchId, db: DbOption = None, neo4j: Neo4jOption = None) -> None:
    """One entry: its records side by side (name, address, city, country, ids, coordinates), the score of the
    first record with each other one and what drove it (each comparison's evidence in bits)."""
    decisions, store = _decisions(db, neo4j)
    found = next((m for m in decisions.queue if m["id"] == match_id), None) or decisions.decided.get(match_id)
    if found is None:
        raise NotFound(f"no match {match_id!r}; see `supplygraph matches list`")
    if found["label"] == "Item":  # a contract item and a candidate product: both from the graph
        found = {**found, "records": item_and_product(store, found["a"], found["b"])}
    if not sys.stdout.isatty() or "members" not in found or not isinstance(found.get("records"), dict):
        sys.stdout.write(json_text(found) + "\n")
        return
    members = found["members"]
    table = render.data_table("", *members, title=f"{found['label']} {found['id']}: score {found['score']:.2f}")
    for field in SIDE_BY_SIDE:
        values = [data(found["records"].get(m, {}).get(field, "")) for m in members]
        if any(v.plain for v in values):
            table.add_row(field, *values)
    for pair in found.get("pairs", []):
        drivers = ", ".join(f"{k} {v}" for k, v in pair["evidence"].items())
        table.add_row(
            data(f"vs {pair['a']}"),
            *[data("" if m != pair["b"] else f"{pair['score']:.2f}: {drivers}") for m in members],
        )
    out.print(table)


def _rebuild(report: LoadReport, message: str) -> None:
    out.print(visible(f"{message}; graph rebuilt: {report.nodes:,} nodes"))


def _decide(match_id: str, decision: str, db: Path | None, neo4j: str | None) -> None:
    entry, report = review.decide(open_store(db, neo4j), match_id, decision)
    _rebuild(report, f"{decision}ed {' ~ '.join(entry.get('members') or [entry['a'], entry['b']])}")


@matches_app.command("accept")
def accept(match_id: MatchId, db: DbOption = None, neo4j: Neo4jOption = None) -> None:
    """The entry's records are one thing: merge them all, now and on every later load."""
    _decide(match_id, "accept", db, neo4j)


@matches_app.command("reject")
def reject(match_id: MatchId, db: DbOption = None, neo4j: Neo4jOption = None) -> None:
    """The entry's first record is none of the others: never merge it with them."""
    _decide(match_id, "reject", db, neo4j)


@matches_app.command("split")
def split(
    node: Annotated[str, typer.Argument(help="Id of a merged node (its merged_ids list its records)")],
    records: Annotated[list[str], typer.Argument(help="Original ids to take out of it")],
    db: DbOption = None,
    neo4j: Neo4jOption = None,
) -> None:
    """Take records out of a merged node, an automatic merge included: they never join its other records
    again, on this and every later load (each may still merge with something else)."""
    label, report = review.split(open_store(db, neo4j), node, records)
    _rebuild(report, f"split {', '.join(records)} out of {label} {node}")


@matches_app.command("move")
def move(
    record: Annotated[str, typer.Argument(help="Original id of a record (a node's id or one of its merged_ids)")],
    to: Annotated[str, typer.Option("--to", help="Id of the node the record belongs to")],
    db: DbOption = None,
    neo4j: Neo4jOption = None,
) -> None:
    """Move a record into another node: out of the node it is merged into (if any), into node --to, on this
    and every later load."""
    label, report = review.move(open_store(db, neo4j), record, to)
    _rebuild(report, f"moved {record} to {label} {to}")
