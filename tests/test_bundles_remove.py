"""Loading under a name and removing a bundle again, on both stores: the graph after `remove` is the graph of
the other bundles loaded alone (compared as canonical dumps), and the CLI says what it did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from supplygraph.graph.errors import NotFound
from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.stores.protocol import Store
from supplygraph.loaders.pipeline import load_bundles, remove_bundle

from tests.conftest import DEMO
from tests.graph_dump import dump_graph
from tests.test_cli import cli

SUPPLY = "MATCH (:Factory)-[r:SUPPLIES]->(:Factory) RETURN count(r) AS n"


def supply_rows() -> int:
    return len((DEMO / "supply.csv").read_text().strip().splitlines()) - 1


def test_remove_gives_the_graph_of_the_others(store: Store, tmp_path: Path) -> None:
    load_bundles(store, [DEMO], names=["demo"])
    alone = dump_graph(store)
    assert store.run(SUPPLY)[0]["n"] == supply_rows()
    load_bundles(store, [DEMO])  # the same folder under its own name, "bundle": a second copy of every link
    assert [b.name for b in store.bundles()] == ["demo", "bundle"]
    assert store.run(SUPPLY)[0]["n"] == 2 * supply_rows()
    report = remove_bundle(store, "bundle")
    assert [b.name for b in store.bundles()] == ["demo"]
    links = sum(len(alone[rel]) for rel in SCHEMA.rel_types)
    assert store.run(SUPPLY)[0]["n"] == supply_rows() and report.relationships == links
    assert dump_graph(store) == alone
    with pytest.raises(NotFound, match=r"no bundle named 'bundle'.*loaded: demo"):
        remove_bundle(store, "bundle")
    remove_bundle(store, "demo")
    assert store.bundles() == [] and store.run("MATCH (n:Factory) RETURN count(n) AS n")[0]["n"] == 0


def test_cli_name_list_and_remove(tmp_path: Path) -> None:
    db = tmp_path / "db"
    assert cli("load", str(DEMO), "--name", "demo", db=db).stdout.startswith("loaded: demo")
    assert cli("load", str(DEMO), db=db).stdout.startswith("loaded: bundle")
    listed = json.loads(cli("bundles", "list", "--json", db=db).stdout)
    assert [b["name"] for b in listed["bundles"]] == ["demo", "bundle"]
    assert listed["bundles"][0]["files"]["supply"] == supply_rows()
    assert "demo" in cli("bundles", "list", db=db).stdout
    gone = cli("bundles", "remove", "bundle", db=db)
    assert gone.returncode == 0 and gone.stdout.startswith("removed: bundle")
    missing = cli("bundles", "remove", "bundle", db=db)
    assert missing.returncode == 3 and "no bundle named 'bundle'" in missing.stderr
    bad = cli("load", str(DEMO), str(DEMO), "--name", "one", db=db)
    assert bad.returncode == 2 and "one --name per input" in bad.stderr
    assert "--name" in cli("load", "--help").stdout and "remove" in cli("bundles", "--help").stdout


def test_dry_run_says_whose_counts_it_gives(tmp_path: Path) -> None:
    db = tmp_path / "db"
    assert cli("load", str(DEMO), "--name", "demo", db=db).returncode == 0
    dry = cli("load", str(DEMO), "--dry-run", db=db).stdout
    rows = sum(len(p.read_text().strip().splitlines()) - 1 for p in DEMO.glob("*.csv"))
    assert dry.startswith(f"validated (dry run, nothing written): bundle — {rows:,} rows read; with them the graph")
    assert [b["name"] for b in json.loads(cli("bundles", "list", "--json", db=db).stdout)["bundles"]] == ["demo"]
