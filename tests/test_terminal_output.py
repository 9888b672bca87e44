"""The CLI prints data verbatim: no emoji codes (`:cn:`), no markup (`[red]`), and control or invisible characters
as escapes, never raw (a name holding `\\x1b[2J` would clear the screen)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from supplygraph.api.terminal import json_text, visible
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO, neo4j_uri
from tests.test_api_access import open_test_store

ROOT = Path(__file__).resolve().parent.parent
EVIL_ID = "oshub:cn:zhejiang-tiancheng-garment-co-ltd"
EVIL_NAME = "\x1b[2J\x1b]0;owned\x07[red]Tiancheng[/red] :smile: \u202egnp.exe \x9b31m"
RAW = ("\x1b", "\x07", "\u202e", "\x9b", "🇨🇳", "😄")


def evil_bundle(folder: Path) -> Path:
    bundle = folder / "evil[bold]"
    bundle.mkdir()
    (bundle / "factories.csv").write_text(f'factory_id,name,country\n{EVIL_ID},"{EVIL_NAME}",CN\n')
    (bundle / "supply.csv").write_text(f"supplier_factory_id,buyer_factory_id,source_id\n{EVIL_ID},FA-SH2,SRC-01\n")
    return bundle


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supplygraph.api.cli", *args],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="400"),
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_verbatim(text: str) -> None:
    for raw in RAW:
        assert raw not in text, f"{raw!r} reached the terminal"
    assert EVIL_ID in text  # not oshub🇨🇳zhejiang
    assert "\\x1b[2J\\x1b]0;owned\\x07[red]Tiancheng[/red] :smile: \\u202egnp.exe \\x9b31m" in text


@pytest.fixture(params=["ladybug", "neo4j"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> list[str]:
    store = open_test_store(request.param, tmp_path)
    try:
        load_bundles(store, [DEMO, evil_bundle(tmp_path)])
    finally:
        store.close()
    return ["--db", str(tmp_path / "db")] if request.param == "ladybug" else ["--neo4j", neo4j_uri()]


def test_exposure_tables_print_data_verbatim(where: list[str]) -> None:
    done = cli("exposure", "AF-UNB", "--as-of", "2026-06-01", "--provenance", *where)
    assert done.returncode == 0, done.stderr
    assert_verbatim(done.stdout)
    done = cli("exposed-affiliates", "factory", EVIL_ID, "--as-of", "2026-06-01", *where)
    assert done.returncode == 0, done.stderr
    assert f"Affiliates exposed to factory {EVIL_ID}" in done.stdout and "AF-UNB" in done.stdout
    assert_verbatim(done.stdout)


def test_query_cypher_and_info_print_data_verbatim(where: list[str]) -> None:
    query = "MATCH (f:Factory) WHERE f.id = $id RETURN f.id AS id, f.name AS name"
    done = cli("cypher", query, "-p", f"id={EVIL_ID}", *where)
    assert done.returncode == 0, done.stderr
    assert_verbatim(done.stdout)
    done = cli("query", "node_counts", *where)
    assert done.returncode == 0 and "Factory" in done.stdout
    done = cli("info", *where)
    assert done.returncode == 0, done.stderr
    assert "bundle evil[bold]:" in done.stdout


def test_json_output_escapes_what_a_terminal_would_act_on(where: list[str]) -> None:
    done = cli("exposure", "AF-UNB", "--as-of", "2026-06-01", "--json", *where)
    assert done.returncode == 0, done.stderr
    for raw in RAW:
        assert raw not in done.stdout
    names = {f["id"]: f["name"] for f in json.loads(done.stdout)["factories"]}
    assert names[EVIL_ID] == EVIL_NAME  # the same JSON value


def test_errors_escape_the_data_they_quote(tmp_path: Path) -> None:
    done = cli("exposure", "AF-\x1b[2J", "--db", str(tmp_path / "db"))
    assert done.returncode != 0 and "\x1b" not in done.stderr


def test_visible_and_json_text() -> None:
    assert visible("FA-SH2\x00") == "FA-SH2\\x00"
    assert visible("a\u200bb\U000e0001") == "a\\u200bb\\U000e0001"
    assert visible("Zhèjiāng 浙江 :cn: [x]") == "Zhèjiāng 浙江 :cn: [x]"
    assert json.loads(json_text({"n": "\x85\u2066x"})) == {"n": "\x85\u2066x"}
