"""Every CLI command works on Neo4j too (--neo4j URI), with the same output as on the embedded store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import DEMO, require_neo4j

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="200")
    env.pop("NEO4J_URI", None)
    return subprocess.run([sys.executable, "-m", "supplygraph.api.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def test_cli_on_neo4j_matches_embedded(tmp_path) -> None:
    uri = require_neo4j()
    db = tmp_path / "db"
    for target in (["--neo4j", uri], ["--db", str(db)]):
        loaded = cli("load", str(DEMO), "--fresh", *target)
        assert loaded.returncode == 0, loaded.stderr
    for command in (
        ["exposure", "AF-DBH", "--as-of", "2026-06-01", "--json"],
        ["exposed-affiliates", "agency", "AG-MM2", "--as-of", "2026-06-01", "--json"],
        ["query", "open_findings_by_category", "as_of=2026-06-01", "--json"],
    ):
        on_neo4j = cli(*command, "--neo4j", uri)
        embedded = cli(*command, "--db", str(db))
        assert on_neo4j.returncode == embedded.returncode == 0, on_neo4j.stderr + embedded.stderr
        left, right = json.loads(on_neo4j.stdout), json.loads(embedded.stdout)
        if "rows" in left:
            left["rows"], right["rows"] = sorted(map(repr, left["rows"])), sorted(map(repr, right["rows"]))
        assert left == right, command
    write = cli("cypher", "MATCH (f:Factory) SET f.name = 'x'", "--neo4j", uri)
    assert write.returncode == 4
    assert write.stderr.strip() == "error: SET is not allowed: researcher queries are read-only and may not call procedures"
    info = cli("info", "--neo4j", uri)
    assert info.returncode == 0 and "bundle bundle" in info.stdout
    export = cli("export", str(tmp_path / "g.graphml"), "--neo4j", uri)
    assert export.returncode == 0 and (tmp_path / "g.graphml").exists()
