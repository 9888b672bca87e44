"""The graph as files: `export` (neo4j-admin CSV, GraphML) and `viz` (one standalone HTML drawing)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from supplygraph.api.cli.base import (
    AsOfOption,
    DbOption,
    DepthOption,
    Neo4jOption,
    app,
    err,
    named_as_options,
    open_cli_store,
    out,
    parse_as_of,
)
from supplygraph.api.terminal import visible_lines
from supplygraph.graph.errors import InvalidParameter, SupplygraphError


@app.command()
def export(
    target: Annotated[Path, typer.Argument(help="Output folder (neo4j-import) or file (graphml)")],
    format: Annotated[str, typer.Option("--format", help="neo4j-import or graphml")] = "graphml",
    db: DbOption = None,
    neo4j: Neo4jOption = None,
) -> None:
    """Export the whole graph: CSV files for `neo4j-admin database import`, or GraphML for Gephi and networkx."""
    from supplygraph.loaders.exporters import export_graphml, export_neo4j_import, graph_tables

    if format not in ("neo4j-import", "graphml"):
        raise InvalidParameter("--format", f"must be neo4j-import or graphml, got {format!r}")
    tables = graph_tables(open_cli_store(db, neo4j))
    if format == "graphml":
        written = [export_graphml(tables, target)]
    else:
        written = export_neo4j_import(tables, target)
    out.print(
        f"exported {tables.node_count:,} nodes and {tables.rel_count:,} relationships to {len(written)} file(s) in "
        f"{target}" + ("; run import.sh there against a stopped Neo4j" if format == "neo4j-import" else ""),
        highlight=False,
    )



@app.command()
def viz(
    kind: Annotated[str, typer.Argument(help="affiliate, factory, agency or finding")],
    item_id: Annotated[str, typer.Argument(metavar="ID", help="Its id")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .html file to write")],
    as_of: AsOfOption = None,
    depth: DepthOption = 4,
    db: DbOption = None,
    neo4j: Neo4jOption = None,
) -> None:
    """Write the exposure view of the browser (/ui) as one standalone HTML file that works offline (for a finding:
    the affiliates exposed to it and their paths, as in /ui/exposure/finding/ID)."""
    from supplygraph.api.ui.exports import standalone_html
    from supplygraph.api.ui.exposure_view import exposure_drawing

    try:
        if not output.parent.is_dir():  # checked before the work, not after it
            raise InvalidParameter("--output", f"folder {output.parent} does not exist")
        day = parse_as_of(as_of)
        store = open_cli_store(db, neo4j)
        try:
            with named_as_options():
                drawing = exposure_drawing(store, kind, item_id, day, depth)
        finally:
            store.close()
        try:
            output.write_text(standalone_html(drawing), encoding="utf-8")
        except OSError as exc:
            raise InvalidParameter("--output", f"cannot write {output}: {exc.strerror or exc}") from None
    except SupplygraphError as exc:
        err.print(visible_lines(f"error: {exc}"))
        raise SystemExit(exc.exit_code) from None
    err.print(f"{output}: {len(drawing.nodes)} nodes, {len(drawing.answers)} answers as of {day}", highlight=False)
