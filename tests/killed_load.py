"""A `supplygraph load` in a child process, killed with SIGKILL once it writes its new generation (the tests of
atomic loads: a killed load must leave the graph as it was)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def kill_load_when(bundle: Path, db: Path, writing: Callable[[list[Path]], bool], poll_s: float = 0.005) -> None:
    """Run `supplygraph load BUNDLE --db DB` (embedded store) and SIGKILL it as soon as `writing(folders)` holds for
    the generation folders other than the current one; fails if the load ends first or never writes one."""
    current = (db / "CURRENT").read_text().strip()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("NEO4J_URI", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "supplygraph.api.cli", "load", str(bundle), "--db", str(db)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if writing([g for g in (db / "generations").iterdir() if g.name != current]):
                break
            assert proc.poll() is None, f"the load finished before it could be killed: {proc.communicate()[0]!r}"
            time.sleep(poll_s)
        else:
            raise AssertionError("the load never started writing a new generation")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
