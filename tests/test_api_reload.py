"""The API keeps answering while a load runs, and answers from the new graph once the load completes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

from supplygraph.api.deps import StoreAccess
from supplygraph.graph.stores.ladybug_store import LadybugStore, PinnedLadybugStore
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.steps import indexed_generation

from tests.conftest import DEMO
from tests.test_api_access import Api, make_api

ROOT = Path(__file__).resolve().parent.parent
URL = "/v1/affiliates/AF-UNB/exposure?as_of=2026-06-01"


def extra_bundle(folder: Path) -> Path:
    """A second bundle: a new supplier of FA-SH2, where AF-UNB's notebooks are assembled."""
    extra = folder / "extra"
    extra.mkdir()
    (extra / "factories.csv").write_text("factory_id,name,country\nFA-NEW,New Plant,VN\n")
    (extra / "supply.csv").write_text("supplier_factory_id,buyer_factory_id,source_id\nFA-NEW,FA-SH2,SRC-01\n")
    return extra


def tiers(api: Api) -> dict[str, int]:
    response = api.call("affiliate:AF-UNB", "GET", URL)
    assert response.status_code == 200, response.text
    return {f["id"]: f["tier"] for f in response.json()["factories"]}


class Hammer:
    """Threads asking for exposure until stopped; records every status and whether FA-NEW was seen."""

    def __init__(self, api: Api, threads: int = 4) -> None:
        self.api = api
        self.statuses: list[int] = []
        self.saw_new = False
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run) for _ in range(threads)]

    def run(self) -> None:
        while not self.stop.is_set():
            response = self.api.call("investigator", "GET", URL)
            self.statuses.append(response.status_code)
            if response.status_code == 200 and "FA-NEW" in response.text:
                self.saw_new = True

    def __enter__(self) -> Hammer:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def test_cli_load_while_serving_switches_to_the_new_generation(tmp_path: Path) -> None:
    store = LadybugStore(tmp_path / "db")
    load_bundles(store, [DEMO])
    extra = extra_bundle(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("NEO4J_URI", None)
    with make_api(store, tmp_path) as api:
        before = tiers(api)
        assert "FA-NEW" not in before
        first = api.client.app.state.supplygraph.access.current_generation()  # type: ignore[attr-defined]
        with Hammer(api) as hammer:
            time.sleep(0.3)
            load = subprocess.run(
                [sys.executable, "-m", "supplygraph.api.cli", "load", str(extra), "--db", str(tmp_path / "db")],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert load.returncode == 0, load.stderr
            deadline = time.monotonic() + 30
            while not hammer.saw_new and time.monotonic() < deadline:
                time.sleep(0.05)
        assert hammer.statuses and set(hammer.statuses) == {200}, set(hammer.statuses)
        assert hammer.saw_new
        after = tiers(api)
        assert after["FA-NEW"] == 2 and {k: v for k, v in after.items() if k != "FA-NEW"} == before
        access = api.client.app.state.supplygraph.access  # type: ignore[attr-defined]
        assert access.current_generation() != first
        # The server opens the new generation by itself (polled each second; exposure answers may come
        # sooner from walker processes, api/walkers.py) and then closes the old one.
        deadline = time.monotonic() + 30
        while set(access._generations) != {access.current_generation()} and time.monotonic() < deadline:
            time.sleep(0.1)
        assert set(access._generations) == {access.current_generation()}  # the old one was closed
    store.close()


def test_admin_load_over_http_while_serving(tmp_path: Path) -> None:
    store = LadybugStore(tmp_path / "db")
    load_bundles(store, [DEMO])
    extra = extra_bundle(tmp_path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in extra.iterdir():
            archive.write(path, path.name)
    with make_api(store, tmp_path) as api:
        with Hammer(api, threads=2) as hammer:
            response = api.client.post(
                "/v1/loads?name=extra",
                content=buffer.getvalue(),
                headers={"Authorization": f"Bearer {api.keys['admin']}", "Content-Type": "application/zip"},
            )
            assert response.status_code == 200, response.text
            assert response.json()["bundles"] == ["extra"] and response.json()["written"] is True
        assert set(hammer.statuses) == {200}
        assert tiers(api)["FA-NEW"] == 2
        assert api.call("admin", "GET", "/healthz").json()["generation"] == response.json()["generation"]
    store.close()


def test_neo4j_load_while_serving(tmp_path: Path) -> None:
    from tests.test_api_access import open_test_store

    store = open_test_store("neo4j", tmp_path)
    try:
        load_bundles(store, [DEMO])
        extra = extra_bundle(tmp_path)
        with make_api(store, tmp_path) as api:
            with Hammer(api, threads=2) as hammer:
                load_bundles(store, [extra])
            assert not [s for s in hammer.statuses if s >= 500]
            assert tiers(api)["FA-NEW"] == 2
    finally:
        store.close()


def test_a_pinned_store_keeps_its_generation(tmp_path: Path) -> None:
    store = LadybugStore(tmp_path / "db")
    load_bundles(store, [DEMO])
    first = store.generation
    assert first is not None
    pinned = PinnedLadybugStore(tmp_path / "db", first)
    count = "MATCH (f:Factory) RETURN count(*) AS n"
    assert pinned.run(count)[0]["n"] == 13
    load_bundles(LadybugStore(tmp_path / "db"), [extra_bundle(tmp_path)])
    assert store.generation != first
    assert pinned.generation == first and pinned.run(count)[0]["n"] == 13  # still the old graph
    access = StoreAccess(store)
    with access.use() as current:
        assert current.generation == store.generation and current.run(count)[0]["n"] == 14
    pinned.close()
    access.close()


def test_one_connection_answers_many_threads(tmp_path: Path) -> None:
    store = LadybugStore(tmp_path / "db")
    load_bundles(store, [DEMO])
    access = StoreAccess(store)
    errors: list[str] = []

    def read(i: int) -> None:
        for _ in range(50):
            try:
                with access.use() as current:
                    rows = current.run(
                        "MATCH (f:Factory) WHERE f.id = $id RETURN f.id AS id", {"id": f"FA-SH{1 + i % 2}"}
                    )
                    assert rows == [{"id": f"FA-SH{1 + i % 2}"}]
            except Exception as exc:
                errors.append(repr(exc))

    threads = [threading.Thread(target=read, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    access.close()


def test_a_new_generation_is_warmed_before_any_request(tmp_path: Path) -> None:
    """After a load, the server opens the new generation and builds its exposure index by itself."""
    store = LadybugStore(tmp_path / "db")
    load_bundles(store, [DEMO])
    with make_api(store, tmp_path) as api:
        access = api.client.app.state.supplygraph.access  # type: ignore[attr-defined]
        first = access.current_generation()
        load_bundles(store, [extra_bundle(tmp_path)])

        def warmed() -> bool:
            name = access.current_generation()
            entry = access._generations.get(name)
            return name != first and entry is not None and indexed_generation(entry.store) == name

        deadline = time.monotonic() + 30
        while not warmed() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert warmed()
        assert tiers(api)["FA-NEW"] == 2
    store.close()
