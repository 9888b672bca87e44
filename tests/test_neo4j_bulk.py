"""The bulk path of a first Neo4j load (loaders/neo4j_bulk.py) on a real server of its own: it stops the
server, imports with neo4j-admin and starts it again, and gives the same graph and answers as an UNWIND load;
a database that is not empty is loaded with UNWIND batches."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from supplygraph.graph.settings import Neo4jSettings
from supplygraph.graph.stores.neo4j_store import Neo4jStore
from supplygraph.loaders.neo4j_bulk import ImportFailed, Neo4jBulkStore
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.exposure import exposure_for_affiliate

from tests.conftest import DEMO, require_neo4j
from tests.graph_dump import dump_graph

ROOT = Path(__file__).resolve().parent.parent
SERVER, ADMIN = ROOT / "scripts" / "neo4j-server", ROOT / "scripts" / "neo4j-admin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def own_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """A second server of scripts/neo4j-server in tmp_path (its data folder is the home neo4j-admin uses)."""
    require_neo4j()
    if not (ROOT / "scripts" / "neo4j" / "target" / "classpath.txt").exists() or shutil.which("java") is None:
        pytest.skip("scripts/neo4j-server has not been built here")
    port = free_port()
    for name, value in {"NEO4J_STATE_DIR": str(tmp_path / "state"), "NEO4J_PORT": str(port), "NEO4J_HEAP": "512m",
                        "NEO4J_PAGECACHE_MB": "64"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    subprocess.run([str(SERVER), "start"], check=True, capture_output=True, env=os.environ)
    try:
        yield f"bolt://127.0.0.1:{port}", tmp_path / "state" / "data"
    finally:
        subprocess.run([str(SERVER), "stop"], check=False, capture_output=True, env=os.environ)


def test_a_first_load_through_neo4j_admin_equals_an_unwind_load(own_server: tuple[str, Path], tmp_path: Path) -> None:
    uri, home = own_server
    settings = Neo4jSettings()
    bulk = Neo4jBulkStore(uri, settings.user, settings.password, settings.database, home=home,
                          admin=str(ADMIN), control=str(SERVER))  # fmt: skip
    unwind = Neo4jStore(
        require_neo4j(), settings.user, settings.password, settings.database, index_cache=tmp_path / "u"
    )
    try:
        load_bundles(bulk, [DEMO])
        assert set(bulk.seconds) >= {"csv", "stop", "import", "start"}  # it went through neo4j-admin
        assert bulk.run("MATCH (l:SupplygraphLoad) RETURN l.imported AS imported, l.status AS status") == [
            {"imported": True, "status": "complete"}
        ]
        unwind.wipe()
        load_bundles(unwind, [DEMO])
        assert dump_graph(bulk) == dump_graph(unwind)
        assert [b.name for b in bulk.bundles()] == [b.name for b in unwind.bundles()]
        for affiliate in ("AF-LIN", "AF-UNB"):
            answers = [exposure_for_affiliate(s, affiliate, date(2026, 6, 1), provenance=True).as_json()
                       for s in (bulk, unwind)]  # fmt: skip
            assert answers[0] == answers[1]
        bulk.seconds.clear()
        load_bundles(bulk, [DEMO])  # not empty now: UNWIND batches, the server stays up
        assert bulk.seconds == {}
        assert dump_graph(bulk) == dump_graph(unwind)
    finally:
        bulk.close()
        unwind.close()


def test_a_relative_state_folder_imports_where_the_server_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NEO4J_STATE_DIR as a relative path names the same folders for the server and for neo4j-admin (which
    runs from its home); an import the restarted server does not hold fails the load instead of reporting it."""
    require_neo4j()
    if not (ROOT / "scripts" / "neo4j" / "target" / "classpath.txt").exists() or shutil.which("java") is None:
        pytest.skip("scripts/neo4j-server has not been built here")
    monkeypatch.chdir(tmp_path)
    port = free_port()
    for name, value in {"NEO4J_STATE_DIR": "state", "NEO4J_PORT": str(port), "NEO4J_HEAP": "512m",
                        "NEO4J_PAGECACHE_MB": "64"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    subprocess.run([str(SERVER), "start"], check=True, capture_output=True, env=os.environ)
    settings = Neo4jSettings()
    uri = f"bolt://127.0.0.1:{port}"
    bulk = Neo4jBulkStore(uri, settings.user, settings.password, settings.database, home=Path("state/data"),
                          admin=str(ADMIN), control=str(SERVER))  # fmt: skip
    elsewhere = tmp_path / "elsewhere"
    astray = Neo4jBulkStore(uri, settings.user, settings.password, settings.database, home=Path("state/data"),
                            admin=f"env NEO4J_DATA_DIR={elsewhere} {ADMIN}", control=str(SERVER))  # fmt: skip
    try:
        report = load_bundles(bulk, [DEMO])
        assert "import" in bulk.seconds
        held = bulk.run("MATCH (n) WHERE n._load IS NOT NULL RETURN count(n) AS n")[0]["n"]
        assert held == report.nodes > 0
        assert not (tmp_path / "state" / "data" / "state").exists()  # nothing nested under the home
        bulk.wipe()
        with pytest.raises(ImportFailed, match="holds 0"):
            load_bundles(astray, [DEMO])
        assert (elsewhere / "databases" / "neo4j").is_dir()  # it went there, and the server never read it
    finally:
        bulk.close()
        astray.close()
        subprocess.run([str(SERVER), "stop"], check=False, capture_output=True, env=os.environ)
