"""Files a load or the API creates and reads: the keys file 0600 and the data folder 0700 where created; symbolic
links out of a bundle refused; temporary folders of crashed loads and uploads removed by the next start."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from supplygraph.api.keys import KeyRing
from supplygraph.graph.errors import BundleError
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.graph.temp_folders import make_temp_folder, remove_stale_temp_folders
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO
from tests.test_api_access import make_api

ROOT = Path(__file__).resolve().parent.parent


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_keys_file_and_data_folder_are_private(tmp_path: Path) -> None:
    os.umask(0o022)
    keys = tmp_path / "data" / "keys.sqlite"
    KeyRing(keys).create("admin", name="me")
    assert mode(keys) == 0o600 and mode(keys.parent) == 0o700
    db = tmp_path / "new" / "db"
    load_bundles(LadybugStore(db), [DEMO])
    assert mode(db) == 0o700 and mode(db.parent) == 0o700


def test_an_open_keys_file_is_tightened(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    keys = tmp_path / "keys.sqlite"
    KeyRing(keys).create("admin", name="me")
    os.chmod(keys, 0o644)
    ring = KeyRing(keys)
    assert mode(keys) == 0o600
    assert "readable by other users" in caplog.text
    assert [k.name for k in ring.list()] == ["me"]


def bundle_copy(tmp_path: Path) -> Path:
    bundle = tmp_path / "bundle"
    shutil.copytree(DEMO, bundle)
    return bundle


@pytest.mark.parametrize("kind", ["ladybug", "neo4j"])
def test_a_symlink_leaving_the_bundle_is_refused(kind: str, tmp_path: Path) -> None:
    from tests.test_api_access import open_test_store

    store = open_test_store(kind, tmp_path)
    try:
        bundle = bundle_copy(tmp_path)
        outside = tmp_path / "elsewhere.csv"
        shutil.move(bundle / "sources.csv", outside)
        (bundle / "sources.csv").symlink_to(outside)
        with pytest.raises(BundleError, match=r"sources.csv: is a symbolic link to .*elsewhere.csv.*outside the bundle"):
            load_bundles(store, [bundle])
        (bundle / "sources.csv").unlink()
        (bundle / "sources.csv").symlink_to("/etc/passwd")
        with pytest.raises(BundleError, match="outside the bundle folder"):
            load_bundles(store, [bundle])
        assert store.generation is None  # nothing was written
        # A link to a file inside the bundle is followed.
        (bundle / "sources.csv").unlink()
        shutil.move(outside, bundle / "sources-2026.csv.txt")
        (bundle / "sources.csv").symlink_to("sources-2026.csv.txt")
        assert load_bundles(store, [bundle]).written
        assert store.run("MATCH (s:Source) RETURN count(*) AS n")[0]["n"] > 0
    finally:
        store.close()


def test_a_symlink_member_of_a_zip_is_refused(tmp_path: Path) -> None:
    bundle = tmp_path / "linked.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        for path in sorted(DEMO.glob("*.csv")):
            if path.name != "sources.csv":
                archive.write(path, path.name)
        link = zipfile.ZipInfo("sources.csv")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(BundleError, match=r"linked.zip\[sources.csv\]: is a symbolic link"):
        load_bundles(LadybugStore(tmp_path / "db"), [bundle], dry_run=True)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temp_folders_are_removed_at_the_next_load_and_server_start(tmp_path: Path) -> None:
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    stale = [tmp / f"supplygraph-{kind}-{dead_pid()}-x{i}" for i, kind in enumerate(("upload", "tables", "spill"))]
    for folder in stale:
        folder.mkdir()
        (folder / "part.arrow").write_bytes(b"x")
    live = make_temp_folder("upload")  # this process's: kept
    try:
        load_bundles(LadybugStore(tmp_path / "db"), [DEMO], dry_run=True)
        assert not any(f.exists() for f in stale) and live.exists()
        again = tmp / f"supplygraph-upload-{dead_pid()}-y"
        again.mkdir()
        with make_api(LadybugStore(tmp_path / "db"), tmp_path):
            assert not again.exists()
        assert remove_stale_temp_folders() == [] and live.exists()
    finally:
        shutil.rmtree(live, ignore_errors=True)
        for folder in stale:
            shutil.rmtree(folder, ignore_errors=True)


def test_a_killed_upload_leaves_a_folder_the_next_start_removes(tmp_path: Path) -> None:
    """A server killed while it holds an upload leaves supplygraph-upload-<pid>-*; the next server removes it."""
    code = (
        "import os, sys; from graph.temp_folders import make_temp_folder; "
        "f = make_temp_folder('upload'); (f / 'bundle.zip').write_bytes(b'PK'); print(f, flush=True); os._exit(9)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True
    )
    left = Path(done.stdout.strip())
    assert left.name.startswith("supplygraph-upload-") and left.exists()
    store = LadybugStore(tmp_path / "db")
    load_bundles(store, [DEMO])
    assert not left.exists()
