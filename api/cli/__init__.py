"""The `supplygraph` command: a thin shell over graph/, loaders/ and queries/."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text
from supplygraph.api import render
from supplygraph.api.cli.matches import matches_app
from supplygraph.api.cli.watch import changes as watch_changes
from supplygraph.api.cli.watch import watch_app
from supplygraph.api.terminal import json_text, plain_console, visible, visible_lines
from supplygraph.graph.errors import BundleError, InvalidParameter, SupplygraphError
from supplygraph.graph.settings import Settings
from supplygraph.graph.stores import open_store
from supplygraph.graph.stores.protocol import Store
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.registry import QUERIES, get_query

DEMO_BUNDLE = Path(__file__).resolve().parents[2] / "demo" / "bundle"

app = typer.Typer(
    help="supplygraph: which public buyers are exposed to which factories, recruitment agencies and findings.\n\n"
    "Data lives in the folder given by --db (or SUPPLYGRAPH_DB; default ./supplygraph-data). "
    "Set NEO4J_URI or pass --neo4j URI to use a Neo4j server instead.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(matches_app, name="matches")
app.add_typer(watch_app, name="watch")
app.command("changes")(watch_changes)
out = plain_console()  # data is printed verbatim: no markup or emoji codes, hidden characters escaped
err = plain_console(stderr=True)

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Data folder of the embedded store [env SUPPLYGRAPH_DB; default ./supplygraph-data]"),
]
Neo4jOption = Annotated[
    str | None, typer.Option("--neo4j", help="Neo4j URI, e.g. bolt://127.0.0.1:7687 [env NEO4J_URI]")
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Day the answer is true on, YYYY-MM-DD [default: today]")
]
DepthOption = Annotated[int, typer.Option("--depth", help="Supplier tiers to follow (1-8)")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")]
MinBasisOption = Annotated[
    str | None,
    typer.Option(
        "--min-basis",
        help="Weakest basis to list: disclosed, matched or brand_list (default: all; gaps are always listed)",
    ),
]


def _as_of(raw: str | None) -> date:
    if raw is None:
        return date.today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidParameter("--as-of", f"{raw!r} is not a date; expected YYYY-MM-DD") from None


def _store(db: Path | None, neo4j: str | None) -> Store:
    return open_store(db, neo4j)


def _print_json(data: Any) -> None:
    sys.stdout.write(json_text(data) + "\n")


class _Amount(ProgressColumn):
    """done/total and the rate: MB and MB/s while reading JSON, rows and rows/s otherwise."""

    def render(self, task: Any) -> Text:
        scale, unit = (2**20, "MB") if task.fields.get("unit") == "bytes" else (1, "rows")
        if not task.total and not task.completed:
            return Text("")
        done = f"{task.completed / scale:,.0f}" + (f"/{task.total / scale:,.0f}" if task.total else "")
        rate = f", {task.speed / scale:,.1f} {unit}/s" if task.speed else ""
        return Text(f"{done} {unit}{rate}")


@app.command()
def load(
    bundles: Annotated[
        list[Path],
        typer.Argument(help="Bundle folders or .zip files, OCDS or FtM .json/.jsonl, Open Supply Hub .csv, .xlsx"),
    ],
    db: DbOption = None,
    neo4j: Neo4jOption = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Drop every bundle loaded before")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report; write nothing")] = False,
    format: Annotated[
        str | None, typer.Option("--format", help="bundle, ocds, oshub, ftm or xlsx [default: from each input]")
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid",
            help="Load every valid record; set invalid ones (and records referring to them) aside in rejects.jsonl "
            "next to the data (file, line or JSON pointer, column, problem, the raw record)",
        ),
    ] = False,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="Read JSON and CSV inputs in this encoding, e.g. iso-8859-1")
    ] = None,
) -> None:
    """Validate bundles and load them into the graph, all or nothing.

    A bundle loaded again under the same name (its folder or zip name) replaces its earlier load;
    other bundles stay. A bad bundle is reported with file, line and column, and nothing is written
    (with --skip-invalid the valid records are loaded and the others reported in rejects.jsonl).
    """
    store = _store(db, neo4j)
    with Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        _Amount(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(step: str, done: int, total: int) -> None:
            unit = "bytes" if step.endswith(" (bytes)") else "rows"
            step = step.removesuffix(" (bytes)")
            kind = "writing" if not step.startswith(("reading", "resolving")) else step
            if kind not in tasks:
                tasks[kind] = bar.add_task(step, total=total or None, unit=unit)
            bar.update(tasks[kind], description=step, completed=done, total=total or None)

        report = load_bundles(
            store,
            bundles,
            fresh=fresh,
            dry_run=dry_run,
            progress=progress,
            format=format,
            skip_invalid=skip_invalid,
            encoding=encoding,
        )
    for warning in report.warnings:
        err.print(visible_lines(f"warning: {warning}"))
    if report.rejects:
        from supplygraph.loaders.quarantine import write_rejects

        files = ", ".join(str(p) for p in write_rejects(report.rejects, bundles))
        err.print(visible_lines(f"skipped {report.skipped:,} invalid records ({len(report.rejects):,} problems); see {files}"))
    verb = "validated (dry run, nothing written)" if dry_run else "loaded"
    out.print(
        f"{verb}: {visible(', '.join(report.bundles))} — {report.rows_read:,} rows → {report.nodes:,} nodes, "
        f"{report.relationships:,} relationships in {report.seconds:.1f} s ({report.rows_per_second:,.0f} rows/s)",
        highlight=False,
    )


@app.command()
def exposure(
    affiliate_id: Annotated[str, typer.Argument(help="The affiliate's id")],
    as_of: AsOfOption = None,
    depth: DepthOption = 4,
    as_json: JsonOption = False,
    provenance: Annotated[
        bool, typer.Option("--provenance", help="Name the input records behind every item, node and link on the paths")
    ] = False,
    min_basis: MinBasisOption = None,
    db: DbOption = None,
    neo4j: Neo4jOption = None,
) -> None:
    """What an affiliate is exposed to: factories by tier, agencies, open findings, disclosure gaps, with paths
    (and with --provenance the input records, file, format, record and day loaded, behind each)."""
    params = {"affiliate_id": affiliate_id, "as_of": _as_of(as_of), "depth": depth, "provenance": provenance}
    params["min_basis"] = min_basis
    answer = get_query("exposure").run(_store(db, neo4j), params)
    if as_json:
        _print_json(answer)
    else:
        render.exposure_tables(out, answer)


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
    answer = get_query("exposed_affiliates").run(
        _store(db, neo4j), {"kind": kind, "item_id": item_id, "as_of": _as_of(as_of), "depth": depth, "min_basis": min_basis}
    )
    if as_json:
        _print_json(answer)
    else:
        render.exposed_affiliates_table(out, answer)


@app.command("queries")
def list_queries(as_json: JsonOption = False) -> None:
    """List the named queries and their parameters."""
    described = [q.describe() for q in QUERIES.values()]
    if as_json:
        _print_json({"count": len(described), "queries": described})
        return
    for q in described:
        params = " ".join(f"{p['name']}=<{p['type']}>" + ("" if p["required"] else "?") for p in q["params"])
        out.print(Text.assemble((q["name"], "bold"), f" {params}\n    {q['title']}: {q['description']}"))


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
    answer = query.run(_store(db, neo4j), raw)
    if as_json:
        _print_json(answer)
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
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds before the query is stopped")] = None,
    max_rows: Annotated[int | None, typer.Option("--max-rows", help="Rows returned at most")] = None,
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
    params = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidParameter(item, "expected key=value")
        params[key] = value
    store = _store(db, neo4j)
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
            timeout_s=timeout or settings.query_timeout_s,
            max_rows=max_rows or settings.max_rows,
            generation=store.generation,
        )
    finally:
        sandbox.close()
    columns, rows, truncated = answer["columns"], answer["rows"], answer["truncated"]
    if as_json:
        _print_json({"columns": columns, "count": len(rows), "truncated": truncated, "rows": rows})
        return
    render.rows_table(out, columns, rows)
    out.print(f"{len(rows)} rows" + (" (truncated: more rows exist; use --max-rows)" if truncated else ""))


@app.command()
def info(db: DbOption = None, neo4j: Neo4jOption = None) -> None:
    """Where the graph lives, which bundles it was built from, and how many nodes of each label it has."""
    store = _store(db, neo4j)
    out.print(f"store: {store.dialect}  generation: {visible(store.generation or '-')}")
    for bundle in store.bundles():
        rows = sum(t.num_rows for t in bundle.tables.values())
        out.print(f"  bundle {visible(bundle.name)}: {rows:,} rows in {len(bundle.tables)} files")
    answer = get_query("node_counts").run(store, {})
    render.rows_table(out, answer["columns"], [list(r.values()) for r in answer["rows"]])


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
    tables = graph_tables(_store(db, neo4j))
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
def demo(
    db: DbOption = None,
    as_of: AsOfOption = None,
) -> None:
    """Build the fictional demo graph in the embedded store and show who is exposed to what."""
    from supplygraph.api.cli.demo import run_demo

    run_demo(out, open_store(db, None), DEMO_BUNDLE, _as_of(as_of), db or Settings().db)


def main() -> None:
    try:
        app()
    except BundleError as exc:
        err.print(visible_lines(f"error: {exc}"))
        raise SystemExit(exc.exit_code) from None
    except SupplygraphError as exc:
        err.print(visible_lines(f"error: {exc}"))
        raise SystemExit(exc.exit_code) from None


# ---------------------------------------------------------------- the HTTP API: serve, keys


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Server processes (each holds its own caches)")] = 1,
    db: DbOption = None,
    neo4j: Neo4jOption = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs). Keys: `supplygraph keys create`."""
    import os

    import uvicorn
    from supplygraph.api.app import create_app

    settings = Settings(db=db) if db is not None else Settings()
    err.print(f"supplygraph API on http://{host}:{port} (docs at /docs)", highlight=False)
    if workers <= 1:
        store = _store(db, neo4j)
        try:
            uvicorn.run(create_app(settings, store), host=host, port=port, log_level="warning")
        finally:
            store.close()
        return
    # Each worker process builds its own app from the environment (see create_app in api/app.py).
    if neo4j:
        os.environ["NEO4J_URI"] = neo4j
    elif db is not None:
        os.environ.pop("NEO4J_URI", None)
        os.environ["SUPPLYGRAPH_DB"] = str(db)
    uvicorn.run("supplygraph.api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="warning")


keys_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
KeysOption = Annotated[
    Path | None, typer.Option("--keys", help="Key file [env SUPPLYGRAPH_KEYS; default <db>/keys.sqlite]")
]


def _keyring(db: Path | None, keys: Path | None) -> Any:
    from supplygraph.api.keys import KeyRing, keys_path

    settings = Settings()
    return KeyRing(keys or keys_path(settings, db))


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option("--role", help="affiliate, investigator, researcher or admin")],
    affiliate: Annotated[str | None, typer.Option("--affiliate", help="The affiliate id (affiliate keys)")] = None,
    name: Annotated[str, typer.Option("--name", help="A label: who or what uses the key")] = "",
    keys: KeysOption = None,
    db: DbOption = None,
    neo4j: Neo4jOption = None,
) -> None:
    """Create a key and print it once (only its hash is kept)."""
    from supplygraph.api.keys import Role
    from supplygraph.queries import cypher as named

    if role not in Role.__members__:
        raise InvalidParameter("--role", f"must be one of {', '.join(Role.__members__)}, got {role!r}")
    if affiliate is not None:
        store = _store(db, neo4j)
        try:
            if not store.run(named.AFFILIATE, {"affiliate_id": affiliate}):
                from supplygraph.graph.errors import NotFound

                raise NotFound(f"no affiliate with id {affiliate!r} in the graph")
        finally:
            store.close()
    key, info = _keyring(db, keys).create(role, affiliate, name)
    err.print(
        f"created key {info.id} ({info.role}{' of ' + affiliate if affiliate else ''}); it is shown only this once:",
        highlight=False,
    )
    sys.stdout.write(key + "\n")


@keys_app.command("list")
def keys_list(keys: KeysOption = None, db: DbOption = None, as_json: JsonOption = False) -> None:
    """List keys (never the keys themselves)."""
    found = _keyring(db, keys).list()
    rows = [[k.id, k.role, k.affiliate_id or "", k.name, k.created, k.revoked or ""] for k in found]
    if as_json:
        _print_json(
            [dict(zip(["id", "role", "affiliate", "name", "created", "revoked"], r, strict=True)) for r in rows]
        )
        return
    render.rows_table(out, ["id", "role", "affiliate", "name", "created", "revoked"], rows, title="API keys")


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (k_...), from `keys list`")],
    keys: KeysOption = None,
    db: DbOption = None,
) -> None:
    """Revoke a key: it stops working at once."""
    from supplygraph.api.ui.sessions import revoke_sessions

    ring = _keyring(db, keys)
    info = ring.revoke(key_id)
    revoke_sessions(ring.path, key_id)  # its browser sessions end too
    out.print(f"revoked {info.id} ({info.role}) at {info.revoked}", highlight=False)



@app.command()
def viz(
    kind: Annotated[str, typer.Argument(help="affiliate, factory or agency")],
    item_id: Annotated[str, typer.Argument(metavar="ID", help="Its id")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .html file to write")],
    as_of: AsOfOption = None,
    depth: DepthOption = 4,
    db: DbOption = None,
    neo4j: Neo4jOption = None,
) -> None:
    """Write the exposure view of the browser (/ui) as one standalone HTML file that works offline."""
    from supplygraph.api.ui.views import exposure_drawing, standalone_html

    try:
        if not output.parent.is_dir():  # checked before the work, not after it
            raise InvalidParameter("--output", f"folder {output.parent} does not exist")
        day = _as_of(as_of)
        store = _store(db, neo4j)
        try:
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


