"""A large embedded load runs its COPYs in child processes (graph/stores/ladybug_copy.py), node tables in slices: the graph
is the same as one copied in the loading process, a failing COPY is refused with the database's message and
leaves the current graph, and a killed load leaves no child writing and the previous graph answering."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import supplygraph.graph.stores.ladybug_build as ladybug_store
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.loaders.pipeline import load_bundles

from benchmarks.synthetic import generate
from tests.conftest import DEMO
from tests.graph_dump import dump_graph

ROOT = Path(__file__).resolve().parent.parent


def _children_of(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                out.append(int(entry))
    return out


def _copy_children(pid: int) -> list[int]:
    found = []
    for child in _children_of(pid):
        try:
            if b"supplygraph.graph.stores.ladybug_copy" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
        except OSError:
            pass
    return found


def test_copy_in_child_slices_gives_the_same_graph(tmp_path, monkeypatch) -> None:
    bundle = tmp_path / "synthetic"
    generate(bundle, factories=3_000)
    here = LadybugStore(tmp_path / "here")
    load_bundles(here, [DEMO, bundle])
    monkeypatch.setattr(ladybug_store, "CHILD_BYTES", 0)
    monkeypatch.setattr(ladybug_store, "SLICE_ROWS", 700)  # every node table in several slices
    monkeypatch.setattr(ladybug_store, "REL_ROWS", 5_000)
    copies: list[int] = []
    run_child = ladybug_store._run_child
    monkeypatch.setattr(ladybug_store, "_run_child", lambda path, steps: (copies.append(1), run_child(path, steps)))
    children = LadybugStore(tmp_path / "children")
    steps: list[tuple[str, int, int]] = []
    load_bundles(children, [DEMO, bundle], progress=lambda *a: steps.append(a))
    assert len(copies) > 8
    factories = children.run("MATCH (f:Factory) RETURN count(*) AS n")[0]["n"]
    assert factories > 3_000
    assert dump_graph(children) == dump_graph(here)
    generation = tmp_path / "children" / "generations" / (tmp_path / "children" / "CURRENT").read_text().strip()
    assert not (generation / "staging").exists()
    assert steps[-1][1] == steps[-1][2]  # progress reaches the total


def test_a_failing_copy_in_a_child_is_refused_and_changes_nothing(tmp_path, monkeypatch) -> None:
    store = LadybugStore(tmp_path / "db")
    load_bundles(store, [DEMO])
    before, current = dump_graph(store), (tmp_path / "db" / "CURRENT").read_text()
    monkeypatch.setattr(ladybug_store, "CHILD_BYTES", 0)
    original = ladybug_store._node_ddl
    monkeypatch.setattr(ladybug_store, "_node_ddl", lambda label, t: original(label, t).replace("STRING", "INT64", 2))
    with pytest.raises(RuntimeError, match=r"(?i)conversion|convert|cast|int64"):
        load_bundles(store, [DEMO])
    assert (tmp_path / "db" / "CURRENT").read_text() == current
    assert dump_graph(LadybugStore(tmp_path / "db")) == before


def test_sigkill_during_a_load_in_child_processes_stops_them_and_leaves_the_graph(tmp_path) -> None:
    db = tmp_path / "db"
    store = LadybugStore(db)
    load_bundles(store, [DEMO])
    before, current = dump_graph(store), (db / "CURRENT").read_text()
    big = tmp_path / "big"
    generate(big, factories=30_000)
    script = (
        "import sys; import supplygraph.graph.stores.ladybug_build as s; s.CHILD_BYTES = 0; s.SLICE_ROWS = 2_000\n"
        "from supplygraph.graph.stores.ladybug_store import LadybugStore\n"
        "from supplygraph.loaders.pipeline import load_bundles\n"
        f"load_bundles(LadybugStore({str(db)!r}), [{str(big)!r}])\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        deadline = time.monotonic() + 180
        while not (copying := _copy_children(proc.pid)):
            assert proc.poll() is None, "the load finished before a COPY process started"
            assert time.monotonic() < deadline, "no COPY process started"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{pid}").exists() and "Z" not in _state(pid) for pid in copying):
            assert time.monotonic() < deadline, "a COPY process outlived the killed load"
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (db / "CURRENT").read_text() == current
    reopened = LadybugStore(db)
    assert dump_graph(reopened) == before
    load_bundles(reopened, [DEMO])  # the next load succeeds and clears the half-written generation away
    assert len(list((db / "generations").iterdir())) <= 2


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return "Z"


def test_a_child_whose_buffer_pool_is_too_small_grows_it_and_gives_the_same_graph(tmp_path, monkeypatch) -> None:
    bundle = tmp_path / "synthetic"
    generate(bundle, factories=3_000)
    here = LadybugStore(tmp_path / "here")
    load_bundles(here, [DEMO, bundle])
    monkeypatch.setattr(ladybug_store, "CHILD_BYTES", 0)
    monkeypatch.setattr(ladybug_store, "COPY_POOL_BYTES", 1 << 20)  # too small even for a CREATE: doubled until it fits
    children = LadybugStore(tmp_path / "children")
    load_bundles(children, [DEMO, bundle])
    assert dump_graph(children) == dump_graph(here)
