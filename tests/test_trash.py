"""Generations no longer kept leave `generations/` at once and are removed in the background (graph/stores/trash.py)."""

from __future__ import annotations

import time
from pathlib import Path

from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.graph.stores.trash import discard
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO


def emptied(trash: Path, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(trash.iterdir()):
            return True
        time.sleep(0.05)
    return False


def test_a_third_load_removes_the_first_generation(tmp_path: Path) -> None:
    store = LadybugStore(tmp_path / "db")
    seen = []
    for _ in range(3):
        load_bundles(store, [DEMO], fresh=True)
        seen.append(store.generation)
    store.close()
    kept = {g.name for g in (tmp_path / "db" / "generations").iterdir()}
    assert kept == set(seen[1:])
    assert emptied(tmp_path / "db" / "trash")


def test_discard_takes_whole_folders_and_skips_missing_ones(tmp_path: Path) -> None:
    old = tmp_path / "generations" / "old"
    (old / "bundles").mkdir(parents=True)
    (old / "graph.lbug").write_bytes(b"x" * 1000)
    discard([old, tmp_path / "generations" / "never-there"], tmp_path / "trash")
    assert not old.exists()
    assert emptied(tmp_path / "trash")
