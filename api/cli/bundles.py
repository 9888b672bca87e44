"""`supplygraph bundles list|remove`: which bundles built the graph, and taking one out again."""

from __future__ import annotations

from typing import Annotated

import typer
from supplygraph.api import render
from supplygraph.api.cli.base import DbOption, JsonOption, Neo4jOption, open_cli_store, out, print_json
from supplygraph.api.terminal import visible
from supplygraph.loaders.pipeline import remove_bundle

bundles_app = typer.Typer(help="The bundles the graph is built from: list them, or remove one.", no_args_is_help=True)


@bundles_app.command("list")
def list_bundles(as_json: JsonOption = False, db: DbOption = None, neo4j: Neo4jOption = None) -> None:
    """Every bundle loaded, in load order, with its rows per file."""
    loaded = open_cli_store(db, neo4j).bundles()
    listed = [
        {"name": b.name, "rows": sum(t.num_rows for t in b.tables.values()),
         "files": {k: t.num_rows for k, t in sorted(b.tables.items())}}
        for b in loaded
    ]
    if as_json:
        print_json({"count": len(listed), "bundles": listed})
        return
    rows = [[b["name"], b["rows"], ", ".join(f"{k} {n:,}" for k, n in b["files"].items())] for b in listed]
    render.rows_table(out, ["bundle", "rows", "tables"], rows, title="Bundles loaded")


@bundles_app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The bundle's name, as `bundles list` shows it")],
    db: DbOption = None,
    neo4j: Neo4jOption = None,
) -> None:
    """Rebuild the graph from every other bundle, all or nothing (exit 3 if no bundle has that name)."""
    report = remove_bundle(open_cli_store(db, neo4j), name)
    out.print(
        f"removed: {visible(name)} — the graph now has {report.nodes:,} nodes, {report.relationships:,} relationships"
        f" ({report.seconds:.1f} s)",
        highlight=False,
    )
