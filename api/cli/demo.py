"""`supplygraph demo`: load the fictional demo bundle and walk through its three stories."""

from __future__ import annotations

import os
import shutil
import sys
from collections import Counter
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table
from supplygraph.api import render
from supplygraph.api.cli.base import AsOfOption, DbOption, Neo4jOption, app, out, parse_as_of
from supplygraph.graph.settings import Settings
from supplygraph.graph.stores import open_store
from supplygraph.graph.stores.protocol import Store
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries import cypher
from supplygraph.queries.exposure import exposure_for_affiliate
from supplygraph.queries.reverse import exposed_affiliates

DEMO_BUNDLE = Path(__file__).resolve().parents[2] / "demo" / "bundle"
STORIES = (
    ("finding", "FI-101", "Student labour at a notebook and server assembly plant in China"),
    ("agency", "AG-MM2", "Recruitment fees charged by sub-agents in Myanmar, after the Thai agency was remediated"),
    ("finding", "FI-301", "Short-notice agency workers at a desktop plant in the Czech Republic"),
)


def command_name() -> str:
    """How to call supplygraph from this shell: its name when the shell finds it, else the path that ran it
    (`.venv/bin/supplygraph` after `make demo`, whose virtualenv is not activated)."""
    ran = Path(sys.argv[0])
    if ran.name != "supplygraph" or shutil.which("supplygraph"):
        return "supplygraph"
    try:
        return os.path.relpath(ran)
    except ValueError:  # another drive (Windows)
        return str(ran)


def run_demo(console: Console, store: Store, bundle: Path, as_of: date, db: Path | str) -> None:
    report = load_bundles(store, [bundle], names=["demo"])
    console.print(
        f"Loaded the fictional demo bundle ({report.rows_read} rows → {report.nodes} nodes, "
        f"{report.relationships} relationships) into {db}.\nAll names in it are invented.\n",
        highlight=False,
    )
    console.rule(f"Who is exposed to what, as of {as_of.isoformat()}")
    table = Table("affiliate", "name", "factories (deepest tier)", "basis", "agencies", "open findings", "gaps")
    for row in store.run(cypher.AFFILIATES_WITH_CONTRACTS):
        answer = exposure_for_affiliate(store, row["id"], as_of).as_json()
        deepest = max((f["tier"] for f in answer["factories"]), default=0)
        findings = ", ".join(f"{f['id']} {f['category']}" for f in answer["findings"]) or "-"
        table.add_row(
            row["id"],
            answer["affiliate"]["name"],
            f"{len(answer['factories'])} (tier {deepest})" if deepest else "0",
            ", ".join(f"{n} {b}" for b, n in Counter(f["basis"] for f in answer["factories"]).items()) or "-",
            str(len(answer["agencies"])),
            findings,
            ", ".join(g["id"] for g in answer["gaps"]) or "-",
        )
    console.print(table)
    for kind, item, title in STORIES:
        console.rule(title)
        render.exposed_affiliates_table(console, exposed_affiliates(store, kind, item, as_of).as_json())
    console.rule("What a buyer publishes: an item matched to a product, and a brand's published supplier list")
    render.exposure_tables(console, exposure_for_affiliate(store, "AF-KST", as_of).as_json())
    console.rule("Go further")
    sg = command_name()
    hints = (
        (f"{sg} exposure AF-LIN --db {db}", "one affiliate, every path and source"),
        (f"{sg} exposure AF-DBH --as-of 2023-06-01 --db {db}", "the same on another day"),
        (f"{sg} exposed-affiliates factory FA-SH2 --db {db}", "who buys from a factory"),
        (f"{sg} exposure AF-KST --min-basis disclosed --db {db}", "only what the data discloses"),
        (f"{sg} matches list --db {db}", "matches waiting for review"),
        (f"{sg} queries", "the named queries"),
        (f"{sg} query agency_chains factory_id=FA-TWP1 --db {db}", ""),
        (f'{sg} cypher "MATCH (f:Factory) RETURN f.country, count(*)" --db {db}', ""),
        ("make serve", "the HTTP API"),
    )
    width = max(len(command) for command, _ in hints) + 3
    console.print(
        "\n".join(f"  {command:<{width}}# {why}" if why else f"  {command}" for command, why in hints),
        highlight=False,
    )


@app.command()
def demo(
    db: DbOption = None,
    neo4j: Neo4jOption = None,
    as_of: AsOfOption = None,
) -> None:
    """Build the fictional demo graph (in the embedded store, or Neo4j with --neo4j or NEO4J_URI; a bundle named
    "demo", replaced when run again) and show who is exposed to what."""
    store = open_store(db, neo4j)
    where = getattr(store, "uri", None) or store.data_folder or db or Settings().db
    run_demo(out, store, DEMO_BUNDLE, parse_as_of(as_of), where)
