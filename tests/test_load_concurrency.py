"""Two loads at once never lose one: a load includes every bundle loaded before it finished, or it fails with
exit 75 / HTTP 409 and writes nothing. The first load is stopped at each stage (graph/stores/load_lock.py) while the
second runs through the CLI or the API, on both stores."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from supplygraph.graph.errors import LoadLocked
from supplygraph.graph.stores import load_lock
from supplygraph.graph.stores.protocol import Store
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO, neo4j_uri
from tests.test_api_access import make_api, open_test_store

ROOT = Path(__file__).resolve().parent.parent


PLANTS = {"FA-FA": "Alderbrook Coil Works,VN", "FA-FB": "Quillmere Cable Mill,TH"}


def small_bundle(folder: Path, name: str, factory: str) -> Path:
    """A bundle adding one factory (names unlike any other: not merged) that supplies FA-SH2 of the demo."""
    bundle = folder / name
    bundle.mkdir()
    (bundle / "factories.csv").write_text(f"factory_id,name,country\n{factory},{PLANTS[factory]}\n")
    (bundle / "supply.csv").write_text(f"supplier_factory_id,buyer_factory_id,source_id\n{factory},FA-SH2,SRC-01\n")
    return bundle


def zipped(bundle: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(bundle.iterdir()):
            archive.write(path, path.name)
    return buffer.getvalue()


class Pause:
    """Stops the first load that reaches `stage` until `go` is set; later loads pass through."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.arrived = threading.Event()
        self.go = threading.Event()
        self.taken = False
        self.lock = threading.Lock()

    def __call__(self, stage: str) -> None:
        if stage != self.stage:
            return
        with self.lock:
            if self.taken:
                return
            self.taken = True
        self.arrived.set()
        assert self.go.wait(300), "the test never let the paused load go on"


@pytest.fixture
def pause() -> Iterator[Callable[[str], Pause]]:
    made: list[Pause] = []

    def make(stage: str) -> Pause:
        made.append(Pause(stage))
        load_lock.stage_hooks.append(made[-1])
        return made[-1]

    yield make
    for hook in made:
        hook.go.set()
        load_lock.stage_hooks.remove(hook)


class Background:
    """Runs `work` in a thread and keeps its result or exception."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self.thread.start()

    def _run(self, work: Callable[[], Any]) -> None:
        try:
            self.result = work()
        except BaseException as exc:  # kept for the test to look at
            self.error = exc

    def join(self) -> None:
        self.thread.join(timeout=300)
        assert not self.thread.is_alive()


def graph_bundles(store: Store) -> set[str]:
    return {b.name for b in store.bundles()}


def factories(store: Store) -> set[str]:
    return {r["id"] for r in store.run("MATCH (f:Factory) RETURN f.id AS id")}


def check(store: Store, reported: dict[str, bool], stage: str, second_failed: bool) -> None:
    """Every bundle reported as loaded is in the graph; the second fails exactly when the first held the lock."""
    names = graph_bundles(store)
    ids = factories(store)
    for name, loaded in reported.items():
        if loaded:
            assert name in names, f"{name} was reported loaded but is not in the graph ({sorted(names)})"
            assert f"FA-{name.upper()}" in ids
        else:
            assert name not in names and f"FA-{name.upper()}" not in ids  # a failed load wrote nothing
    assert "bundle" in names  # the demo stays
    assert second_failed == (stage != load_lock.SOURCES_READ)


def cli_load(bundle: Path, kind: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    where = ["--db", str(db)] if kind == "ladybug" else ["--neo4j", neo4j_uri()]
    return subprocess.run(
        [sys.executable, "-m", "supplygraph.api.cli", "load", str(bundle), *where],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def demo_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The demo on a store of the test's `kind`, beside two small bundles fa and fb in tmp_path."""
    store = open_test_store(request.getfixturevalue("kind"), tmp_path)
    load_bundles(store, [DEMO])
    small_bundle(tmp_path, "fa", "FA-FA")
    small_bundle(tmp_path, "fb", "FA-FB")
    yield store
    store.close()


@pytest.mark.parametrize("stage", load_lock.STAGES)
@pytest.mark.parametrize("kind", ["ladybug", "neo4j"])
def test_cli_load_during_another_load(
    kind: str, stage: str, tmp_path: Path, pause: Callable[[str], Pause], demo_store: Store
) -> None:
    store, first, second = demo_store, tmp_path / "fa", tmp_path / "fb"
    stop = pause(stage)
    running = Background(lambda: load_bundles(store, [first]))
    assert stop.arrived.wait(120)
    done = cli_load(second, kind, tmp_path / "db")
    stop.go.set()
    running.join()
    assert running.error is None, running.error
    assert done.returncode in (0, 75), done.stderr
    if done.returncode == 75:
        assert "another load is writing" in done.stderr and "loaded:" not in done.stdout
    check(store, {"fa": True, "fb": done.returncode == 0}, stage, done.returncode == 75)


@pytest.mark.parametrize("stage", load_lock.STAGES)
@pytest.mark.parametrize("kind", ["ladybug", "neo4j"])
def test_api_load_during_another_load(
    kind: str, stage: str, tmp_path: Path, pause: Callable[[str], Pause], demo_store: Store
) -> None:
    store, first, second = demo_store, tmp_path / "fa", tmp_path / "fb"
    with make_api(store, tmp_path) as api:

        def post(name: str, bundle: Path) -> Any:
            return api.call(
                "admin", "POST", f"/v1/loads?name={name}", content=zipped(bundle),
                headers={"Content-Type": "application/zip"},
            )

        stop = pause(stage)
        running = Background(lambda: post("fa", first))
        assert stop.arrived.wait(120)
        answer = post("fb", second)
        stop.go.set()
        running.join()
        assert running.error is None and running.result.status_code == 200, running.result.text
        assert answer.status_code in (200, 409), answer.text
        if answer.status_code == 409:
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert "another load" in answer.json()["detail"]
        else:
            assert answer.json()["bundles"] == ["fb"] and answer.json()["written"] is True
    check(store, {"fa": True, "fb": answer.status_code == 200}, stage, answer.status_code == 409)


@pytest.mark.parametrize("kind", ["ladybug", "neo4j"])
def test_the_lock_is_given_back(kind: str, tmp_path: Path, pause: Callable[[str], Pause], demo_store: Store) -> None:
    """After a load ends (or fails), the next one takes the lock; a held lock is refused, not waited for."""
    store = demo_store
    other = open_test_store(kind, tmp_path) if kind == "ladybug" else store
    stop = pause(load_lock.KEPT_READ)
    running = Background(lambda: load_bundles(store, [tmp_path / "fa"]))
    assert stop.arrived.wait(120)
    refused = Background(lambda: load_bundles(other, [tmp_path / "fb"]))
    refused.join()
    assert isinstance(refused.error, LoadLocked)
    stop.go.set()
    running.join()
    assert running.error is None
    load_bundles(other, [tmp_path / "fb"])
    assert {"bundle", "fa", "fb"} <= graph_bundles(store)
