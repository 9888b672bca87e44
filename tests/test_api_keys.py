"""`supplygraph keys create|list|revoke` (keys shown once, stored as hashes) and `supplygraph serve`."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("NEO4J_URI", None)
    env.pop("SUPPLYGRAPH_KEYS", None)
    return subprocess.run(
        [sys.executable, "-m", "supplygraph.api.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("keys") / "db"
    store = LadybugStore(folder)
    load_bundles(store, [DEMO])
    store.close()
    return folder


def test_keys_are_shown_once_and_stored_as_hashes(db: Path) -> None:
    made = cli(
        "keys", "create", "--role", "affiliate", "--affiliate", "AF-LIN", "--name", "Lindenfluh", "--db", str(db)
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("sg_") and len(key) > 40 and "shown only this once" in made.stderr
    raw = (db / "keys.sqlite").read_bytes()
    assert key.encode() not in raw and key[3:].encode() not in raw
    with sqlite3.connect(db / "keys.sqlite") as conn:
        stored = conn.execute("SELECT hash, role, affiliate_id FROM api_keys").fetchall()
    assert [(len(h), role, aff) for h, role, aff in stored] == [(64, "affiliate", "AF-LIN")]
    listed = json.loads(cli("keys", "list", "--db", str(db), "--json").stdout)
    assert listed[0]["role"] == "affiliate" and listed[0]["name"] == "Lindenfluh" and key not in json.dumps(listed)
    revoked = cli("keys", "revoke", listed[0]["id"], "--db", str(db))
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert json.loads(cli("keys", "list", "--db", str(db), "--json").stdout)[0]["revoked"]


def test_key_creation_refusals(db: Path) -> None:
    assert cli("keys", "create", "--role", "boss", "--db", str(db)).returncode == 2
    assert cli("keys", "create", "--role", "affiliate", "--db", str(db)).returncode == 2  # which affiliate?
    assert cli("keys", "create", "--role", "investigator", "--affiliate", "AF-LIN", "--db", str(db)).returncode == 2
    unknown = cli("keys", "create", "--role", "affiliate", "--affiliate", "AF-NOPE", "--db", str(db))
    assert unknown.returncode == 3 and "AF-NOPE" in unknown.stderr
    assert cli("keys", "revoke", "k_nope", "--db", str(db)).returncode == 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_with_a_key(db: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys.sqlite"
    key = cli("keys", "create", "--role", "investigator", "--db", str(db), "--keys", str(keys)).stdout.strip()
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), SUPPLYGRAPH_KEYS=str(keys))
    env.pop("NEO4J_URI", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "supplygraph.api.cli", "serve", "--port", str(port), "--db", str(db)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        headers = {"Authorization": f"Bearer {key}"}
        answer = httpx.get(f"{base}/v1/affiliates/AF-LIN/exposure?as_of=2026-06-01", headers=headers, timeout=30)
        assert answer.status_code == 200 and answer.json()["affiliate"]["id"] == "AF-LIN"
        assert httpx.get(f"{base}/v1/queries", timeout=5).status_code == 401
        assert httpx.get(f"{base}/docs", timeout=5).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
