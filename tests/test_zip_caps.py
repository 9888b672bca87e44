"""Zip bombs and oversized uploads are refused before their memory is spent, naming the member, its sizes and
the cap (and how to raise it); a bundle that is merely large loads under a raised cap."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from supplygraph.graph.errors import BundleError
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.loaders.zip_limits import ZipLimits

from tests.conftest import DEMO
from tests.test_api_access import make_api

ROOT = Path(__file__).resolve().parent.parent
MB = 2**20
BOMB_MB = 512  # unpacked; about 1 MB packed


def make_bomb(path: Path, *, zeros: bool, mb: int = BOMB_MB) -> Path:
    """A zip whose factories.csv unpacks to `mb` MB: one row repeated, or a header and zeros."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("factories.csv", "w", force_zip64=True) as fh:
            fh.write(b"factory_id,name,country\n")
            piece = bytes(MB) if zeros else b"FA-BOMB,Bomb Plant,CN\n" * (MB // 22)
            for _ in range(mb * MB // len(piece)):
                fh.write(piece)
        archive.write(DEMO / "affiliates.csv", "affiliates.csv")
    return path


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    return {
        "rows": make_bomb(folder / "rows.zip", zeros=False),
        "zeros": make_bomb(folder / "zeros.zip", zeros=True),
    }


PEAK = (  # the child's own high-water mark (ru_maxrss would include the forking test process's)
    "import atexit, re, sys; atexit.register(lambda: sys.stderr.write('\\nPEAK_KB ' + "
    "re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1) + '\\n'))\n"
)


def run_measured(code: str, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run Python `code` in a child; its result and its peak resident memory in MB (ru_maxrss, read at exit)."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK + code, *args],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT), **(env or {})),
        capture_output=True,
        text=True,
        timeout=600,
    )
    peak_kb = int(done.stderr.rsplit("PEAK_KB ", 1)[1].split()[0])
    return done, peak_kb // 1024


CLI = "from supplygraph.api.cli import main; import sys; sys.argv = ['supplygraph', *sys.argv[1:]]; main()"


@pytest.mark.parametrize("kind", ["rows", "zeros"])
def test_cli_dry_run_refuses_a_zip_bomb_in_bounded_memory(kind: str, bombs: dict[str, Path], tmp_path: Path) -> None:
    bomb = bombs[kind]
    assert bomb.stat().st_size < 4 * MB
    done, peak_mb = run_measured(CLI, "load", "--dry-run", str(bomb), "--db", str(tmp_path / "db"))
    assert done.returncode == 65, done.stderr
    assert "member 'factories.csv' unpacks to 536,8" in done.stderr  # the member and its size
    assert "above the cap of 200:1" in done.stderr and "SUPPLYGRAPH_MAX_ZIP_RATIO" in done.stderr
    assert peak_mb < 300, f"the refused load took {peak_mb} MB"


def test_the_total_cap_names_the_member_and_the_setting(tmp_path: Path) -> None:
    bundle = tmp_path / "big.zip"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(DEMO.glob("*.csv")):
            archive.write(path, path.name)
    unpacked = sum(p.stat().st_size for p in DEMO.glob("*.csv"))
    with pytest.raises(BundleError) as refused:
        load_bundles(LadybugStore(tmp_path / "db"), [bundle], limits=ZipLimits(max_unzipped_bytes=unpacked - 1))
    text = str(refused.value)
    assert f"above the cap of {unpacked - 1:,} bytes" in text and "SUPPLYGRAPH_MAX_UNZIPPED_MB" in text and "member '" in text
    assert not (tmp_path / "db" / "CURRENT").exists()
    report = load_bundles(LadybugStore(tmp_path / "db"), [bundle], limits=ZipLimits(max_unzipped_bytes=unpacked))
    folder = load_bundles(LadybugStore(tmp_path / "other"), [DEMO], dry_run=True)
    assert report.written and (report.rows_read, report.nodes) == (folder.rows_read, folder.nodes)


def test_the_caps_come_from_the_settings(tmp_path: Path, bombs: dict[str, Path]) -> None:
    """SUPPLYGRAPH_MAX_ZIP_RATIO raised lets the bomb through the ratio, and the total cap still stops it."""
    done, peak_mb = run_measured(
        CLI, "load", "--dry-run", str(bombs["zeros"]), "--db", str(tmp_path / "db"),
        env={"SUPPLYGRAPH_MAX_ZIP_RATIO": "100000", "SUPPLYGRAPH_MAX_UNZIPPED_MB": "64"},
    )
    assert done.returncode == 65, done.stderr
    assert "above the cap of 67,108,864 bytes (64 MB)" in done.stderr and "'factories.csv'" in done.stderr
    assert peak_mb < 300


def test_an_xlsx_bomb_is_refused(tmp_path: Path) -> None:
    book = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", bytes(64 * MB))
    with pytest.raises(BundleError, match=r"member 'xl/sharedStrings.xml' unpacks to 67,108,864 bytes"):
        load_bundles(LadybugStore(tmp_path / "db"), [book], dry_run=True)


API = """
import sys
from pathlib import Path
from supplygraph.graph.stores.ladybug_store import LadybugStore
from tests.test_api_access import make_api
folder = Path(sys.argv[1])
with make_api(LadybugStore(folder / "db"), folder) as api:
    answer = api.call("admin", "POST", "/v1/loads?name=bomb&dry_run=true", content=Path(sys.argv[2]).read_bytes(),
                      headers={"Content-Type": "application/zip"})
print(answer.status_code)
print(answer.text)
"""


@pytest.mark.parametrize("kind", ["rows", "zeros"])
def test_api_dry_run_refuses_a_zip_bomb_in_bounded_memory(kind: str, bombs: dict[str, Path], tmp_path: Path) -> None:
    done, peak_mb = run_measured(API, str(tmp_path), str(bombs[kind]))
    assert done.returncode == 0, done.stderr
    status, body = done.stdout.split("\n", 1)
    assert status == "422", body
    assert "member 'factories.csv' unpacks to" in body and "SUPPLYGRAPH_MAX_ZIP_RATIO" in body
    assert peak_mb < 400, f"the refused upload took {peak_mb} MB"
    assert not list(Path("/tmp").glob(f"supplygraph-upload-{os.getpid()}-*"))


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    for _ in range(total // size):
        yield bytes(size)


@pytest.mark.parametrize("chunked", [False, True])
def test_an_oversized_upload_is_413_while_streaming(chunked: bool, tmp_path: Path) -> None:
    store = LadybugStore(tmp_path / "db")
    load_bundles(store, [DEMO])
    with make_api(store, tmp_path, max_upload_mb=1) as api:
        body = chunks(3 * MB) if chunked else io.BytesIO(bytes(3 * MB)).getvalue()
        answer = api.call(
            "admin", "POST", "/v1/loads?name=big&dry_run=true", content=body, headers={"Content-Type": "application/zip"}
        )
        assert answer.status_code == 413, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "at most" in answer.json()["detail"]
        assert api.call("admin", "GET", "/healthz").status_code == 200
    store.close()
