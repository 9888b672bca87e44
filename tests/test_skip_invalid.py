"""`supplygraph load --skip-invalid` / `--encoding` and the API's `skip_invalid=true`: the valid records load,
the others are reported with file, line, column, problem and the raw record. Invented names only."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO
from tests.test_api_access import make_api
from tests.test_cli import cli

CASES = Path(__file__).resolve().parent / "fixtures" / "sources" / "ocds-cases.jsonl"
LATIN1 = Path(__file__).resolve().parent / "fixtures" / "real" / "iso-8859-1.json"


def test_cli_skip_invalid_writes_rejects_next_to_the_data(tmp_path: Path) -> None:
    data = tmp_path / "in" / "cases.jsonl"
    data.parent.mkdir()
    data.write_bytes(CASES.read_bytes())
    db = tmp_path / "db"
    strict = cli("load", str(data), db=db)
    assert strict.returncode == 65 and "cases.jsonl:7: expected a number, found str '12k'" in strict.stderr
    assert not (data.parent / "rejects.jsonl").exists()
    result = cli("load", str(data), "--skip-invalid", db=db)
    assert result.returncode == 0, result.stderr
    rejects = data.parent / "rejects.jsonl"
    assert f"skipped 3 invalid records (3 problems); see {rejects}" in result.stderr
    rows = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert {(r["file"], r["line"]) for r in rows} == {("cases.jsonl", 7), ("cases.jsonl", 6)}
    assert all(set(r) >= {"file", "line", "column", "problem", "record"} for r in rows)
    assert result.stdout.startswith("loaded: cases")


def test_cli_names_the_encoding_in_one_line_and_reads_it_with_encoding(tmp_path: Path) -> None:
    db = tmp_path / "db"
    refused = cli("load", str(LATIN1), db=db)
    assert refused.returncode == 65
    assert refused.stderr.splitlines()[1:] == [
        "iso-8859-1.json:1: this file is not UTF-8 (looks like iso-8859-1): byte 0xd3 at character 593 is not valid "
        "UTF-8; read it with --encoding iso-8859-1"
    ]
    read = cli("load", str(LATIN1), "--encoding", "iso-8859-1", db=db)
    assert read.returncode == 0, read.stderr


@pytest.mark.parametrize("skip", [False, True])
def test_api_load_takes_skip_invalid(tmp_path: Path, store, skip: bool) -> None:
    load_bundles(store, [DEMO])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "factories.csv", "factory_id,name,country\nFX-1,Lakeside Plant,Atlantis\nFX-2,Hillside Plant,CN\n"
        )
    with make_api(store, tmp_path) as api:
        response = api.client.post(
            f"/v1/loads?name=extra&skip_invalid={str(skip).lower()}",
            content=buffer.getvalue(),
            headers={"Authorization": f"Bearer {api.keys['admin']}", "Content-Type": "application/zip"},
        )
    if not skip:
        assert response.status_code == 422
        assert "factories.csv:2" in response.text
        return
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["skipped"] == 1 and body["written"] is True
    (bad,) = body["rejects"]
    assert (bad["file"], bad["line"], bad["column"]) == ("factories.csv", 2, "country")
    assert bad["record"] == {"factory_id": "FX-1", "name": "Lakeside Plant", "country": "Atlantis"}
    ids = {r["id"] for r in store.run("MATCH (f:Factory) RETURN f.id AS id", {})}
    assert "FX-2" in ids and "FX-1" not in ids


def test_workbook_rows_are_skipped_and_reported_by_sheet(tmp_path: Path) -> None:
    import openpyxl
    from supplygraph.loaders import read_source

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "factories"
    for row in (
        ["factory_id", "name", "country"],
        ["FX-1", "Lakeside Plant", "Atlantis"],
        ["FX-2", "Hill Plant", "CN"],
    ):
        sheet.append(row)
    placements = book.create_sheet("agencies")
    for row in (["agency_id", "name", "country"], ["AG-1", "Harbour Staffing", "TH"]):
        placements.append(row)
    links = book.create_sheet("placements")
    for row in (["agency_id", "factory_id"], ["AG-1", "FX-1"], ["AG-1", "FX-2"]):
        links.append(row)
    path = tmp_path / "supplier.xlsx"
    book.save(path)
    bundle = read_source(path, skip_invalid=True)
    assert [(r["file"], r["line"], r["column"]) for r in bundle.rejects] == [
        ("supplier.xlsx[factories]", 2, "country"),
        ("supplier.xlsx[placements]", 2, "factory_id"),
    ]
    assert bundle.tables["placements"].column("to_id").to_pylist() == ["FX-2"]
