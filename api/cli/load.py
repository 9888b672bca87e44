"""`supplygraph load`: read, validate, resolve and load bundles and source files, with progress bars."""

from __future__ import annotations

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
from supplygraph.api.cli.base import (
    DbOption,
    Neo4jOption,
    app,
    err,
    open_cli_store,
    out,
)
from supplygraph.api.terminal import visible, visible_lines
from supplygraph.graph.errors import InvalidParameter
from supplygraph.graph.stores.protocol import Store
from supplygraph.loaders.pipeline import load_bundles


class _Amount(ProgressColumn):
    """done/total and the rate: MB and MB/s while reading JSON, rows and rows/s otherwise."""

    def render(self, task: Any) -> Text:
        scale, unit = (2**20, "MB") if task.fields.get("unit") == "bytes" else (1, "rows")
        if not task.total and not task.completed:
            return Text("")
        done = f"{task.completed / scale:,.0f}" + (f"/{task.total / scale:,.0f}" if task.total else "")
        rate = f", {task.speed / scale:,.1f} {unit}/s" if task.speed else ""
        return Text(f"{done} {unit}{rate}")


def open_bulk_store(neo4j: str | None, home: Path | None) -> Store | None:
    """The Neo4j store whose first load is a neo4j-admin import, when a local server's home is known."""
    from supplygraph.graph.settings import Neo4jSettings

    settings = Neo4jSettings()
    home = home or settings.home
    uri = neo4j or settings.uri
    if home is None or not uri:
        return None
    from supplygraph.loaders.neo4j_bulk import Neo4jBulkStore

    return Neo4jBulkStore(uri, settings.user, settings.password, settings.database, home=home,
                          admin=settings.admin, control=settings.control)  # fmt: skip


@app.command()
def load(
    bundles: Annotated[
        list[Path],
        typer.Argument(help="Bundle folders or .zip files, OCDS or FtM .json/.jsonl, Open Supply Hub .csv, .xlsx"),
    ],
    db: DbOption = None,
    neo4j: Neo4jOption = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Drop every bundle loaded before", metavar="")] = False,
    rebuild: Annotated[
        bool,
        typer.Option("--rebuild", metavar="", help="Rebuild the whole graph even when only what changes could be written"),
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report; write nothing", metavar="")] = False,
    format: Annotated[
        str | None, typer.Option("--format", help="bundle, ocds, oshub, ftm or xlsx (default: from each input)")
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid",
            metavar="",
            help="Load every valid record; set invalid ones (and records referring to them) aside in rejects.jsonl "
            "next to the data (file, line or JSON pointer, column, problem, the raw record)",
        ),
    ] = False,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="Read JSON and CSV inputs in this encoding, e.g. iso-8859-1")
    ] = None,
    name: Annotated[
        list[str] | None,
        typer.Option(
            "--name",
            help="The name to load an input under, once per input in order (default: its folder "
            "or file name); loading under a name already loaded replaces that bundle",
        ),
    ] = None,
    neo4j_home: Annotated[
        Path | None,
        typer.Option(
            "--neo4j-home",
            help="Home of a local Neo4j (env NEO4J_HOME): a load into its empty database "
            "stops the server, runs neo4j-admin database import and starts it again (docs/neo4j.md)",
        ),
    ] = None,
) -> None:
    """Validate bundles and load them into the graph, all or nothing.

    A bundle loaded again under the same name (its folder or zip name, or --name) replaces its earlier
    load; other bundles stay (`supplygraph bundles list`, `bundles remove NAME`). A bad bundle is reported with file, line and column, and nothing is written
    (with --skip-invalid the valid records are loaded and the others reported in rejects.jsonl).

    Incremental by default: a bundle of sources, findings and link files (supply, assembly, placements, agency
    links, brand sites) that is small beside the graph (at most 50,000 rows and a quarter of those loaded) is
    added, or replaces its earlier load, by writing only what it changes; any other load rebuilds the whole graph
    and the output says why. Both give the same graph. --rebuild always rebuilds; --fresh starts from nothing.
    """
    if name and len(name) != len(bundles):
        raise InvalidParameter("--name", f"give one --name per input: {len(bundles)} inputs, {len(name)} names")
    store = open_bulk_store(neo4j, neo4j_home) or open_cli_store(db, neo4j)
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
            names=name or None,
            incremental=False if rebuild else None,
        )
    for warning in report.warnings:
        err.print(visible_lines(f"warning: {warning}"))
    if report.rejects:
        from supplygraph.loaders.quarantine import write_rejects

        files = ", ".join(str(p) for p in write_rejects(report.rejects, bundles))
        err.print(
            visible_lines(f"skipped {report.skipped:,} invalid records ({len(report.rejects):,} problems); see {files}")
        )
    if dry_run:  # the counts are the whole graph's, with these inputs in it: say so
        out.print(
            f"validated (dry run, nothing written): {visible(', '.join(report.bundles))} — {report.rows_read:,} rows "
            f"read; with them the graph would have {report.nodes:,} nodes and {report.relationships:,} relationships "
            f"({report.seconds:.1f} s)",
            highlight=False,
        )
        return
    verb = "loaded"
    how = "incremental" if not report.rebuilt_because else f"full rebuild: {report.rebuilt_because}"
    if rebuild:
        how = "full rebuild: --rebuild"
    out.print(
        f"{verb}: {visible(', '.join(report.bundles))} — {report.rows_read:,} rows → {report.nodes:,} nodes, "
        f"{report.relationships:,} relationships in {report.seconds:.1f} s ({report.rows_per_second:,.0f} rows/s; "
        f"{visible(how)})",
        highlight=False,
    )
