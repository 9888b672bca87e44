"""What every `supplygraph` command shares: the typer app, the consoles, the common options."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from supplygraph.api.terminal import json_text, plain_console
from supplygraph.graph.errors import InvalidParameter
from supplygraph.graph.stores import open_store
from supplygraph.graph.stores.protocol import Store

app = typer.Typer(
    help="supplygraph: which public buyers are exposed to which factories, recruitment agencies and findings.\n\n"
    "Data lives in the folder given by --db (or SUPPLYGRAPH_DB; default ./supplygraph-data). "
    "Set NEO4J_URI or pass --neo4j URI to use a Neo4j server instead.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = plain_console()  # data is printed verbatim: no markup or emoji codes, hidden characters escaped
err = plain_console(stderr=True)

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Data folder of the embedded store (env SUPPLYGRAPH_DB; default ./supplygraph-data)"),
]
Neo4jOption = Annotated[
    str | None, typer.Option("--neo4j", help="Neo4j URI, e.g. bolt://127.0.0.1:7687 (env NEO4J_URI)")
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Day the answer is true on, YYYY-MM-DD (default: today)")
]
DepthOption = Annotated[int, typer.Option("--depth", help="Supplier tiers to follow (1-8)")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables", metavar="")]  # a flag: no value
MinBasisOption = Annotated[
    str | None,
    typer.Option(
        "--min-basis",
        help="Weakest basis to list: disclosed, matched or brand_list (default: all; gaps are always listed)",
    ),
]


OPTIONS_OF_PARAMETERS = {"depth": "--depth", "min_basis": "--min-basis", "min_severity": "--min-severity"}


@contextmanager
def named_as_options() -> Iterator[None]:
    """An error of a query parameter that a command takes as an option names the option as typed (`--depth`,
    not `depth`, the name the HTTP API and `supplygraph run` use)."""
    try:
        yield
    except InvalidParameter as exc:
        option = OPTIONS_OF_PARAMETERS.get(exc.parameter)
        if option is None:
            raise
        raise InvalidParameter(option, str(exc).removeprefix(f"{exc.parameter}: ")) from None


def parse_as_of(raw: str | None) -> date:
    if raw is None:
        return date.today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidParameter("--as-of", f"{raw!r} is not a date; expected YYYY-MM-DD") from None


def open_cli_store(db: Path | None, neo4j: str | None) -> Store:
    return open_store(db, neo4j)


def print_json(data: Any) -> None:
    sys.stdout.write(json_text(data) + "\n")
