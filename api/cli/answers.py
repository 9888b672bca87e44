"""The questions: `exposure`, `exposed-affiliates`, the named `queries` and `query`, researchers' `cypher`, `info`."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text
from supplygraph.api import render
from supplygraph.api.cli.base import (
    AsOfOption,
    DbOption,
    DepthOption,
    JsonOption,
    MinBasisOption,
    Neo4jOption,
    app,
    named_as_options,
    open_cli_store,
    out,
    parse_as_of,
    print_json,
)
from supplygraph.api.terminal import visible
from supplygraph.graph.errors import InvalidParameter
from supplygraph.graph.settings import Settings
from supplygraph.queries.registry import QUERIES, get_query


@app.command()
def exposure(
    affiliate_id: Annotated[str, typer.Argument(help="The affiliate's id")],
    as_of: AsOfOption = None,
    depth: DepthOption = 4,
    as_json: JsonOption = False,
    provenance: Annotated[
        bool, typer.Option("--provenance", help="Name the input records behind every item, node and link on the paths", metavar="")
    ] = False,
    min_basis: MinBasisOption = None,
    category: Annotated[
        str | None, typer.Option("--category", help="Only findings of this category, e.g. recruitment_fees")
    ] = None,
    min_severity: Annotated[
        str | None,
        typer.Option("--min-severity", help="Only findings at least this severe: low, medium, high or critical "
                     "(a finding without a severity is left out)"),
    ] = None,
    export: Annotated[
        str | None,
        typer.Option("--format", help="table, json, csv or xlsx (one row per item) (default: from the -o file's "
                     "suffix, else table; json with --json)"),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (required for xlsx) (default: stdout)")
    ] = None,
    db: DbOption = None,
    neo4j: Neo4jOption = None,
) -> None:
    """What an affiliate is exposed to: a summary (counts by severity, category, tier, country, basis), then
    open findings (most severe, then most recently reported, first), factories by tier, agencies and
    disclosure gaps, each with its path and sources (and with --provenance the input records, file,
    format, record and day loaded, behind each)."""
    from supplygraph.api.cli.exposure_output import write_exposure

    params = {"affiliate_id": affiliate_id, "as_of": parse_as_of(as_of), "depth": depth, "provenance": provenance}
    params["min_basis"] = min_basis
    with named_as_options():
        answer = get_query("exposure").run(open_cli_store(db, neo4j), params)
    write_exposure(answer, export or ("json" if as_json else None), output, category, min_severity)


@app.command("exposed-affiliates")
def exposed_affiliates_cmd(
    kind: Annotated[str, typer.Argument(help="factory, agency or finding")],
    item_id: Annotated[str, typer.Argument(help="The factory's, agency's or finding's id")],
    as_of: AsOfOption = None,
    depth: DepthOption = 4,
    as_json: JsonOption = False,
    min_basis: MinBasisOption = None,
    db: DbOption = None,
    neo4j: Neo4jOption = None,
) -> None:
    """Which affiliates are exposed to a factory, an agency or a finding, through which path, and their leverage."""
    params = {"kind": kind, "item_id": item_id, "as_of": parse_as_of(as_of), "depth": depth, "min_basis": min_basis}
    with named_as_options():
        answer = get_query("exposed_affiliates").run(open_cli_store(db, neo4j), params)
    if as_json:
        print_json(answer)
    else:
        render.exposed_affiliates_table(out, answer)


@app.command("queries")
def list_queries(as_json: JsonOption = False) -> None:
    """List the named queries and their parameters."""
    described = [q.describe() for q in QUERIES.values()]
    if as_json:
        print_json({"count": len(described), "queries": described})
        return
    width = max(40, (out.width or 100) - 4)
    for q in described:
        params = " ".join(f"{p['name']}=<{p['type']}>" + ("" if p["required"] else "?") for p in q["params"])
        out.print(Text.assemble((q["name"], "bold"), f" {params}"), soft_wrap=True)
        text = textwrap.fill(f"{q['title']}: {q['description']}", width, initial_indent="    ", subsequent_indent="    ")
        out.print(Text(text), soft_wrap=True)  # wrapped here, indented: rich would wrap to column 0


@app.command("query")
def run_query(
    name: Annotated[str, typer.Argument(help="A named query (see `supplygraph queries`)")],
    params: Annotated[list[str] | None, typer.Argument(help="Parameters as key=value")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
    neo4j: Neo4jOption = None,
) -> None:
    """Run a named query with key=value parameters."""
    query = get_query(name)
    raw: dict[str, str] = {}
    for item in params or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidParameter(item, "expected key=value")
        raw[key] = value
    answer = query.run(open_cli_store(db, neo4j), raw)
    if as_json:
        print_json(answer)
    elif name == "exposure":
        render.exposure_tables(out, answer)
    elif name == "exposed_affiliates":
        render.exposed_affiliates_table(out, answer)
    else:
        render.rows_table(out, answer["columns"], [list(r.values()) for r in answer["rows"]], title=query.title)


@app.command()
def cypher(
    query: Annotated[str, typer.Argument(help="A read-only Cypher query")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="A $parameter as key=value")] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Seconds before the query is stopped, more than 0 (default and maximum: the "
                     "query_timeout_s setting, SUPPLYGRAPH_QUERY_TIMEOUT_S, 10 s unless set)"),
    ] = None,
    max_rows: Annotated[
        int | None,
        typer.Option("--max-rows", help="Rows returned at most, 1 or more (default and maximum: the max_rows setting, "
                     "SUPPLYGRAPH_MAX_ROWS, 10,000 unless set)"),
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
    neo4j: Neo4jOption = None,
) -> None:
    """Run read-only Cypher (for researchers) with a timeout and a row cap.

    The same sandbox as the API's POST /v1/cypher: the query must pass a clause allowlist (MATCH,
    OPTIONAL MATCH, WHERE, WITH, UNWIND, RETURN, ORDER BY, SKIP, LIMIT, UNION; no writes, files,
    procedures or settings), and runs in a separate process with CPU, memory and time limits,
    in Neo4j's read access mode or on LadybugDB opened read-only. Parameters are strings."""
    from supplygraph.api.sandbox import Sandbox

    settings = Settings()
    if timeout is not None and not 0 < timeout <= settings.query_timeout_s:
        raise InvalidParameter("--timeout", f"must be more than 0 and at most {settings.query_timeout_s:g} s, got {timeout:g}")
    if max_rows is not None and not 1 <= max_rows <= settings.max_rows:
        raise InvalidParameter("--max-rows", f"must be between 1 and {settings.max_rows:,}, got {max_rows:,}")
    params = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidParameter(item, "expected key=value")
        params[key] = value
    store = open_cli_store(db, neo4j)
    sandbox = Sandbox(
        store.worker_config(),
        workers=1,
        memory_bytes=settings.cypher_memory_mb * 2**20,
        buffer_pool_bytes=settings.cypher_buffer_pool_mb * 2**20,
        max_bytes=settings.cypher_max_bytes,
        spare=False,
    )
    try:
        answer = sandbox.run(
            query,
            params,
            timeout_s=settings.query_timeout_s if timeout is None else timeout,
            max_rows=settings.max_rows if max_rows is None else max_rows,
            generation=store.generation,
        )
    finally:
        sandbox.close()
    columns, rows, truncated = answer["columns"], answer["rows"], answer["truncated"]
    if as_json:
        print_json({"columns": columns, "count": len(rows), "truncated": truncated, "rows": rows})
        return
    render.rows_table(out, columns, rows)
    out.print(f"{len(rows):,} row{'' if len(rows) == 1 else 's'}" + (" (truncated: more rows exist; use --max-rows)" if truncated else ""))


@app.command()
def info(db: DbOption = None, neo4j: Neo4jOption = None) -> None:
    """Where the graph lives, which bundles it was built from, and how many nodes of each label it has."""
    store = open_cli_store(db, neo4j)
    where = store.data_folder or getattr(store, "uri", None)
    out.print(f"store: {store.dialect}  data: {visible(str(where or '-'))}  generation: {visible(store.generation or '-')}")
    for bundle in store.bundles():
        rows = sum(t.num_rows for t in bundle.tables.values())
        out.print(f"  bundle {visible(bundle.name)}: {rows:,} rows in {len(bundle.tables)} files")
    answer = get_query("node_counts").run(store, {})
    render.rows_table(out, answer["columns"], [list(r.values()) for r in answer["rows"]])
