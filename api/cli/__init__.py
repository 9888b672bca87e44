"""The `supplygraph` command: a thin shell over loaders/ and queries/, one module per topic."""

from __future__ import annotations

# isort: off
# each module registers its commands on `app`, in this order in --help
from supplygraph.api.cli import load, answers, schema, demo, files, serve, keys  # noqa: F401
# isort: on
from supplygraph.api.cli.base import app, err
from supplygraph.api.cli.bundles import bundles_app
from supplygraph.api.cli.matches import matches_app
from supplygraph.api.cli.watch import changes as watch_changes
from supplygraph.api.cli.watch import watch_app
from supplygraph.api.terminal import visible_lines
from supplygraph.graph.errors import SupplygraphError

app.add_typer(matches_app, name="matches")
app.add_typer(bundles_app, name="bundles")
app.add_typer(watch_app, name="watch")
app.command("changes")(watch_changes)


def main() -> None:
    try:
        app()
    except SupplygraphError as exc:
        err.print(visible_lines(f"error: {exc}"))
        raise SystemExit(exc.exit_code) from None
