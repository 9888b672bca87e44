"""`supplygraph cypher`'s limits (embedded store; the sandbox itself is tested in test_api_cypher): a timeout of
0 or above the configured maximum is refused, the timeout message names the timeout asked for, and the
query's worker process dies with the command however the command dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import DEMO
from tests.test_cli import ROOT, cli

SLOW = "UNWIND range(1, 30000) AS x UNWIND range(1, 30000) AS y WITH x, y WHERE (x * y) % 7 = 3 RETURN count(*) AS n"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("sandbox-cli") / "db"
    assert cli("load", str(DEMO), db=db).returncode == 0
    return db


def test_timeout_and_row_cap_are_checked(demo_db: Path) -> None:
    for args, says in (
        (("--timeout", "0"), "--timeout: must be more than 0 and at most 10 s, got 0"),
        (("--timeout", "99999"), "at most 10 s, got 99999"),
        (("--max-rows", "0"), "--max-rows: must be between 1 and 10,000"),
    ):
        result = cli("cypher", "MATCH (f:Factory) RETURN f.id", *args, db=demo_db)
        assert result.returncode == 2 and says in result.stderr, result.stderr
    slow = cli("cypher", SLOW, "--timeout", "1", db=demo_db)
    assert slow.returncode == 5 and "1 s" in slow.stderr and "4 s" not in slow.stderr, slow.stderr
    text = " ".join(cli("cypher", "--help").stdout.replace("│", " ").split())
    assert "query_timeout_s setting" in text and "unless set" in text and "more than 0" in text


def children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_worker_dies_with_the_command(demo_db: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("NEO4J_URI", None)
    command = subprocess.Popen(
        [sys.executable, "-m", "supplygraph.api.cli", "cypher", SLOW, "--timeout", "10", "--db", str(demo_db)],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    workers: set[int] = set()
    deadline = time.monotonic() + 20
    while not workers and time.monotonic() < deadline:
        time.sleep(0.2)
        workers = children(command.pid)
    assert workers, "the command started no worker"
    time.sleep(1.0)  # the worker has its job and runs the query
    os.killpg(command.pid, signal.SIGKILL)  # the command's group: the worker, in a session of its own, is not in it
    command.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() and "Z" not in stat(w) for w in workers):
        time.sleep(0.1)
    alive = [w for w in workers if Path(f"/proc/{w}").exists() and "Z" not in stat(w)]
    assert not alive, f"sandbox workers {alive} outlived the command"


def stat(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"
