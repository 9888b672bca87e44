"""`supplygraph schema`: the labels, properties and relationship types to write Cypher with."""

from __future__ import annotations

from typing import Annotated

import typer
from supplygraph.api import render
from supplygraph.api.cli.base import JsonOption, app, out, print_json
from supplygraph.api.schema_description import describe_schema
from supplygraph.api.terminal import data


@app.command("schema")
def schema(
    as_json: JsonOption = False,
    label: Annotated[str | None, typer.Argument(help="Only this label or relationship type (e.g. Factory, SUPPLIES)")] = None,
) -> None:
    """Node labels with their properties and types, and relationship types with the labels they run between
    (from graph/schema.toml; the same on both stores). Example: supplygraph schema Factory"""
    described = describe_schema()
    if label:
        described = {
            "nodes": [n for n in described["nodes"] if n["label"].lower() == label.lower()],
            "relationships": [r for r in described["relationships"] if r["type"].lower() == label.lower()],
        }
    if as_json:
        print_json(described)
        return
    for node in described["nodes"]:
        rows = [[p["name"], p["type"], "yes" if p["required"] else "", ", ".join(p.get("values", ()))]
                for p in node["properties"]]
        render.rows_table(out, ["property", "type", "required", "values"], rows, title=f"(:{node['label']})")
    for rel in described["relationships"]:
        ends = ", ".join(f"(:{e['from']})-[:{rel['type']}]->(:{e['to']})" for e in rel["ends"])
        rows = [[p["name"], p["type"]] for p in rel["properties"]]
        out.print(data(ends), soft_wrap=True)
        render.rows_table(out, ["property", "type"], rows)
    if not described["nodes"] and not described["relationships"]:
        out.print(f"no label or relationship type {label!r}; `supplygraph schema` lists them all")
        raise typer.Exit(3)
