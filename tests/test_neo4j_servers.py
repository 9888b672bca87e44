"""Two API servers (real uvicorn processes on two ports) on one Neo4j: keys, sessions and review decisions
in Neo4j, the same answers from both, a key revoked on one refused by the other within a second, a load
through one picked up by both; and the researchers' sandbox cannot read the shared records."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from supplygraph.api.keys import KeyRing
from supplygraph.api.shared_keys import Neo4jKeyRing, keyring_for
from supplygraph.api.ui.sessions import sessions_for
from supplygraph.graph.errors import QueryRefused
from supplygraph.graph.settings import Neo4jSettings, Settings
from supplygraph.graph.stores.neo4j_documents import Neo4jDocument
from supplygraph.graph.stores.neo4j_store import Neo4jStore
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.loaders.resolve import Decisions, matches_file

from tests.conftest import DEMO, require_neo4j
from tests.test_api_reload import extra_bundle

ROOT = Path(__file__).resolve().parent.parent
EXPOSURE = "/v1/affiliates/AF-UNB/exposure?as_of=2026-06-01"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def neo(tmp_path: Path) -> Iterator[Neo4jStore]:
    uri = require_neo4j()
    settings = Neo4jSettings()
    store = Neo4jStore(uri, settings.user, settings.password, settings.database, index_cache=tmp_path / "index")
    store.wipe()
    yield store
    store.close()


def start_server(uri: str, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`supplygraph serve` on a free port with a data folder of its own (nothing shared but Neo4j)."""
    port = free_port()
    folder.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT), NEO4J_URI=uri, SUPPLYGRAPH_DB=str(folder))
    env.pop("SUPPLYGRAPH_KEYS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "supplygraph.api.cli", "serve", "--port", str(port)],
        env=env,
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("the server did not start within 60 s")


@pytest.fixture
def two_servers(neo: Neo4jStore, tmp_path: Path) -> Iterator[list[str]]:
    load_bundles(neo, [DEMO])
    started = [start_server(neo.uri, tmp_path / name) for name in ("one", "two")]
    yield [base for _, base in started]
    for process, _ in started:
        process.terminate()
        process.wait(timeout=30)


def get(base: str, key: str, path: str = EXPOSURE) -> httpx.Response:
    return httpx.get(base + path, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    return buffer.getvalue()


def test_two_servers_share_keys_answers_revocation_and_loads(
    neo: Neo4jStore, two_servers: list[str], tmp_path: Path
) -> None:
    one, two = two_servers
    ring = keyring_for(Settings(db=tmp_path / "cli"), neo)
    assert isinstance(ring, Neo4jKeyRing)
    investigator, info = ring.create("investigator", name="both")
    admin = ring.create("admin", name="loads")[0]

    answers = [get(base, investigator) for base in (one, two)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == answers[1].json()

    # revoked through server one's store (the same Neo4j): refused by both within a second
    ring.revoke(info.id)
    revoked = time.monotonic()
    refused: dict[str, float] = {}
    while len(refused) < 2 and time.monotonic() - revoked < 5:
        for base in (one, two):
            if base not in refused and get(base, investigator, "/v1/schema").status_code == 401:
                refused[base] = time.monotonic() - revoked
        time.sleep(0.05)
    assert set(refused) == {one, two} and max(refused.values()) < 1.0, refused

    # a load through server one: both answer from the new graph
    before = {f["id"] for f in get(two, admin).json()["factories"]}
    assert "FA-NEW" not in before
    posted = httpx.post(
        one + "/v1/loads?name=extra",
        content=zipped(extra_bundle(tmp_path)),
        headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/zip"},
        timeout=120,
    )
    assert posted.status_code == 200, posted.text
    after = [get(base, admin) for base in (one, two)]
    assert all("FA-NEW" in {f["id"] for f in a.json()["factories"]} for a in after)
    assert after[0].json() == after[1].json()
    health = [httpx.get(base + "/healthz", timeout=5).json()["generation"] for base in (one, two)]
    assert health[0] == health[1] == neo.generation


def test_a_ui_session_made_on_one_server_works_on_the_other_and_ends_on_both(
    neo: Neo4jStore, two_servers: list[str]
) -> None:
    one, two = two_servers
    ring = Neo4jKeyRing(neo, Path("unused"))
    key, info = ring.create("investigator", name="ui")
    with httpx.Client(base_url=one, follow_redirects=False, timeout=30) as browser:
        login = browser.post("/ui/login", data={"key": key}, headers={"Origin": one})
        assert login.status_code in (302, 303), login.text
        cookies = dict(browser.cookies)
    assert cookies
    with httpx.Client(base_url=two, cookies=cookies, follow_redirects=False, timeout=30) as other:
        assert other.get("/ui/search").status_code == 200
        sessions_for(ring, 1.0).end_all(info.id)  # as `supplygraph keys revoke` does
        time.sleep(ring.cache_s + 0.1)
        ended = other.get("/ui/search")
        assert ended.status_code == 303 and ended.headers["location"].startswith("/ui/login")


def test_review_decisions_live_in_neo4j(neo: Neo4jStore) -> None:
    load_bundles(neo, [DEMO])
    where = matches_file(neo)
    assert isinstance(where, Neo4jDocument)
    decisions = Decisions.load(where)
    decisions.decided["x"] = {"id": "x", "label": "Factory", "decision": "reject", "a": "FA-1", "b": "FA-2"}
    decisions.save()
    settings = Neo4jSettings()
    other = Neo4jStore(neo.uri, settings.user, settings.password, neo.database)  # another server's view of it
    try:
        assert Decisions.load(matches_file(other)).decided["x"]["decision"] == "reject"
    finally:
        other.close()


@pytest.mark.parametrize(
    "query",
    [
        "MATCH (n) RETURN n.hash",
        "MATCH (k:SupplygraphKey) RETURN k.hash",
        "MATCH (n) WHERE id(n) = 0 RETURN n",
        "MATCH (n) WHERE elementId(n) = '4:x:0' RETURN n",
        "MATCH (n) WHERE any(l IN labels(n) WHERE l = 'SupplygraphSession') RETURN n",
        "MATCH (d:SupplygraphDocument) RETURN d.text",
    ],
)
def test_the_sandbox_cannot_read_the_shared_records(neo: Neo4jStore, query: str) -> None:
    load_bundles(neo, [DEMO])
    Neo4jKeyRing(neo, Path("unused")).create("admin")
    with pytest.raises(QueryRefused):
        neo.run_readonly(query, {}, timeout_s=5, max_rows=10)


def test_the_sandbox_still_reads_the_graph(neo: Neo4jStore) -> None:
    load_bundles(neo, [DEMO])
    _, rows, _ = neo.run_readonly("MATCH (f:Factory) RETURN count(*) AS n", {}, timeout_s=5, max_rows=10)
    assert rows[0][0] == len(neo.run("MATCH (f:Factory) RETURN f.id"))
    assert neo.run_readonly("MATCH (n) RETURN count(*) AS n", {}, timeout_s=5, max_rows=10)[1][0][0] > 0


def test_the_embedded_store_keeps_its_key_file(tmp_path: Path) -> None:
    ring = keyring_for(Settings(db=tmp_path / "db"), None)
    assert isinstance(ring, KeyRing) and ring.path == tmp_path / "db" / "keys.sqlite"


def test_watches_of_a_server_follow_the_keys_in_neo4j(neo: Neo4jStore, tmp_path: Path) -> None:
    from supplygraph.api.watches.access import live_tenants
    from supplygraph.api.watches.service import watch_service_for

    load_bundles(neo, [DEMO])
    ring = Neo4jKeyRing(neo, tmp_path / "keys.sqlite")
    _, info = ring.create("affiliate", "AF-LIN", "lin")
    service = watch_service_for(ring.path, lambda: None, ring)
    assert "affiliate:AF-LIN" in live_tenants(service.keyring)  # type: ignore[arg-type]
    ring.revoke(info.id)
    assert "affiliate:AF-LIN" not in live_tenants(ring)
