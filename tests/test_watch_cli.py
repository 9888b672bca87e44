"""`supplygraph watch ...` and `supplygraph changes` on both stores: tenancy of --key, cursors, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from supplygraph.api.keys import KeyRing
from supplygraph.api.watches.store import WatchStore
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO, neo4j_uri

ROOT = Path(__file__).resolve().parent.parent


def cli(store_kind: str, db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="200")
    env.pop("NEO4J_URI", None)
    where = ["--db", str(db)] + (
        ["--neo4j", neo4j_uri()] if store_kind == "neo4j" and args[0] in ("add", "evaluate") else []
    )
    topic = [] if args[0] == "changes" else ["watch"]
    command = [sys.executable, "-m", "supplygraph.api.cli", *topic, *args, *where]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_watch_commands(store, store_kind: str, tmp_path: Path) -> None:
    load_bundles(store, [DEMO])
    db = tmp_path / "db" if store_kind == "neo4j" else store.root  # the key and watch files' folder
    ring = KeyRing(db / "keys.sqlite")
    _key, dbh = ring.create("affiliate", "AF-DBH", "dbh")

    made = cli(store_kind, db, "add", "affiliate", "AF-LIN", "--as-of", "2019-01-01")
    assert made.returncode == 0, made.stderr
    watch = json.loads(made.stdout)
    assert watch["secret"].startswith("whsec_") and watch["kind"] == "affiliate"
    assert cli(store_kind, db, "add", "affiliate", "AF-NOPE").returncode == 3
    assert cli(store_kind, db, "add", "affiliate", "AF-LIN", "--key", dbh.id).returncode == 3  # not its own
    assert cli(store_kind, db, "add", "factory", "FA-TWP1", "--key", dbh.id).returncode == 2  # not its role
    deep = cli(store_kind, db, "add", "affiliate", "AF-LIN", "--depth", "9")
    assert (deep.returncode, deep.stderr.strip()) == (2, "error: --depth: must be between 1 and 8, got 9")
    refused = cli(store_kind, db, "add", "affiliate", "AF-LIN", "--webhook", "http://127.0.0.1:9/hook")
    assert refused.returncode == 2 and "watch hosts allow 127.0.0.1" in refused.stderr
    assert cli(store_kind, db, "hosts", "allow", "127.0.0.1").returncode == 0
    assert cli(store_kind, db, "add", "affiliate", "AF-LIN", "--webhook", "http://127.0.0.1:9/hook").returncode == 0
    own = cli(store_kind, db, "add", "affiliate", "AF-DBH", "--key", dbh.id)
    assert own.returncode == 0, own.stderr
    assert WatchStore(db / "watches.sqlite").get(json.loads(own.stdout)["id"]).tenant == "affiliate:AF-DBH"

    done = cli(store_kind, db, "evaluate", "--as-of", "2026-06-01", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["events"] > 0
    first = json.loads(cli(store_kind, db, "changes", watch["id"], "--since", "0", "--limit", "3", "--json").stdout)
    rest = json.loads(cli(store_kind, db, "changes", watch["id"], "--since", first["next"], "--json").stdout)
    recorded = [e["id"] for _s, e in WatchStore(db / "watches.sqlite").events(watch["id"], 0, 10_000)]
    assert len(first["items"]) == 3 and [e["id"] for e in first["items"] + rest["items"]] == recorded
    table = cli(store_kind, db, "changes", watch["id"])
    assert table.returncode == 0 and "factory_added" in table.stdout and f"--since {rest['next']}" in table.stderr
    assert cli(store_kind, db, "changes", watch["id"], "--since", "x").returncode == 2
    assert cli(store_kind, db, "remove", watch["id"]).returncode == 0
    assert cli(store_kind, db, "changes", watch["id"]).returncode == 3
    assert cli(store_kind, db, "remove", watch["id"]).returncode == 3
