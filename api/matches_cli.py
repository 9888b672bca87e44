"""`supplygraph matches list|show|accept|reject`: the review queue of entity resolution (graph/resolve.py).

Decisions are stored beside the data (matches.json) and the graph is rebuilt from its stored records at once,
so an accepted pair is one node and a rejected pair two from now on, on this and every later load.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import pyarrow.compute as pc
import typer

from api import render
from api.terminal import data, json_text, plain_console, visible
from graph.errors import NotFound
from graph.loading import load_bundles
from graph.resolve import Decisions, matches_file
from graph.stores import open_store
from queries.items import item_and_product

matches_app = typer.Typer(help="Work the entity-resolution review queue.", no_args_is_help=True)
out = plain_console()
Db = Annotated[Path | None, typer.Option("--db", help="Data folder of the embedded store")]
Neo = Annotated[str | None, typer.Option("--neo4j", help="Neo4j URI [env NEO4J_URI]")]


def _decisions(db: Path | None, neo4j: str | None) -> tuple[Decisions, object]:
    store = open_store(db, neo4j)
    return Decisions.load(matches_file(store)), store


@matches_app.command("list")
def list_matches(
    db: Db = None,
    neo4j: Neo = None,
    decided: Annotated[bool, typer.Option("--decided")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Pairs waiting for review (score 0.5-0.8, or several candidates), best first; --decided for decisions.
    Label `Item`: a contract item (a) and a product (b) its description may name."""
    decisions, _ = _decisions(db, neo4j)
    rows = list(decisions.decided.values()) if decided else decisions.queue
    if as_json:
        sys.stdout.write(json_text(rows) + "\n")
        return
    table = render.data_table("id", "label", "score", "a", "b", "names", *(["decision"] if decided else []))
    for m in rows:
        extra = [data(m["decision"])] if decided else []
        table.add_row(
            data(m["id"]), data(m["label"]), f"{m['score']:.2f}", data(m["a"]), data(m["b"]),
            render.joined(m["names"], " / "), *extra,
        )
    out.print(table)


@matches_app.command("show")
def show(match_id: str, db: Db = None, neo4j: Neo = None) -> None:
    """One pair with both records' properties."""
    decisions, store = _decisions(db, neo4j)
    found = next((m for m in decisions.queue if m["id"] == match_id), None) or decisions.decided.get(match_id)
    if found is None:
        raise NotFound(f"no match {match_id!r}; see `supplygraph matches list`")
    records = {}
    if found["label"] == "Item":  # a contract item and a candidate product: both from the graph
        records = item_and_product(store, found["a"], found["b"])
    for bundle in store.bundles() if found["label"] != "Item" else []:  # type: ignore[attr-defined]
        for table in bundle.tables.values():
            if "id" not in table.column_names:
                continue
            wanted = pc.is_in(table.column("id"), value_set=pa.array([found["a"], found["b"]]))
            for row in table.filter(wanted).to_pylist():
                records.setdefault(row["id"], {}).update({k: v for k, v in row.items() if v is not None})
    sys.stdout.write(json_text({**found, "records": records}) + "\n")


def _decide(match_id: str, decision: str, db: Path | None, neo4j: str | None) -> None:
    decisions, store = _decisions(db, neo4j)
    try:
        entry = decisions.decide(match_id, decision)
    except KeyError:
        raise NotFound(f"no match {match_id!r}; see `supplygraph matches list`") from None
    decisions.save()
    report = load_bundles(store, [])  # type: ignore[arg-type]
    out.print(visible(f"{decision}ed {entry['a']} ~ {entry['b']}; graph rebuilt: {report.nodes:,} nodes"))


@matches_app.command("accept")
def accept(match_id: str, db: Db = None, neo4j: Neo = None) -> None:
    """The two records are one thing: merge them, now and on every later load."""
    _decide(match_id, "accept", db, neo4j)


@matches_app.command("reject")
def reject(match_id: str, db: Db = None, neo4j: Neo = None) -> None:
    """The two records are different things: never merge them."""
    _decide(match_id, "reject", db, neo4j)
