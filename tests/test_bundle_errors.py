"""Bad input is refused with file, line and column, and the graph is unchanged afterwards (both stores)."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from supplygraph.graph.errors import BundleError
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO
from tests.graph_dump import dump_graph


def edit(name: str, fn: Callable[[str], str]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        path = folder / name
        path.write_text(fn(path.read_text(encoding="utf-8")), encoding="utf-8")

    return apply


def replace_line(name: str, line: int, fn: Callable[[str], str]) -> Callable[[Path], None]:
    def change(text: str) -> str:
        lines = text.split("\n")
        lines[line - 1] = fn(lines[line - 1])
        return "\n".join(lines)

    return edit(name, change)


def set_cell(name: str, line: int, column: str, value: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        import csv
        import io

        path = folder / name
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        rows[line - 1][rows[0].index(column)] = value
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        path.write_text(buf.getvalue(), encoding="utf-8")

    return apply


def write_bytes(name: str, fn: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        path = folder / name
        path.write_bytes(fn(path.read_bytes()))

    return apply


def drop_column(name: str, column: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        import csv
        import io

        path = folder / name
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        i = rows[0].index(column)
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([r[:i] + r[i + 1 :] for r in rows])
        path.write_text(buf.getvalue(), encoding="utf-8")

    return apply


# (case id, mutation, text that must appear in the report)
CASES = [
    ("missing-column", drop_column("factories.csv", "country"), "factories.csv:1: column 'country': required column is missing"),
    ("unknown-reference", set_cell("supply.csv", 3, "buyer_factory_id", "FA-NOPE"), "supply.csv:3: column 'buyer_factory_id': unknown factory id 'FA-NOPE'"),
    ("unknown-affiliate", set_cell("contracts.csv", 2, "affiliate_id", "AF-NOPE"), "contracts.csv:2: column 'affiliate_id': unknown affiliate id 'AF-NOPE'"),
    ("bad-date", set_cell("assembly.csv", 2, "valid_from", "2024-02-30"), "assembly.csv:2: column 'valid_from': '2024-02-30' is not a date"),
    ("bad-date-format", set_cell("contracts.csv", 3, "start_date", "01/02/2024"), "contracts.csv:3: column 'start_date': '01/02/2024' is not a date"),
    ("bad-country", set_cell("factories.csv", 4, "country", "Atlantis"), "factories.csv:4: column 'country': 'Atlantis' is not a country"),
    ("duplicate-id", set_cell("factories.csv", 5, "factory_id", "FA-SH2"), "duplicate id 'FA-SH2' (first on line"),
    ("bad-enum", set_cell("findings.csv", 2, "severity", "catastrophic"), "findings.csv:2: column 'severity': 'catastrophic' is not one of"),
    ("bad-number", set_cell("contracts.csv", 2, "value", "lots"), "contracts.csv:2: column 'value': 'lots' is not a number"),
    ("empty-required", set_cell("products.csv", 2, "model", ""), "products.csv:2: column 'model': required value is empty"),
    ("dates-reversed", set_cell("supply.csv", 2, "valid_to", "2001-01-01"), "supply.csv:2: column 'valid_to': valid_from after valid_to"),
    ("latitude-range", set_cell("factories.csv", 2, "lat", "123.4"), "factories.csv:2: column 'lat': '123.4' is out of range"),
    ("wrong-encoding", write_bytes("agencies.csv", lambda b: b.replace("ě".encode(), b"\xec") if "ě".encode() in b else b + "AG-X,Zb\xfdv,CZ,,\n".encode("latin-1")), "agencies.csv:"),
    ("utf16", write_bytes("sources.csv", lambda b: b.decode("utf-8").encode("utf-16")), "sources.csv:1: file is UTF-16 encoded"),
    ("truncated-row", write_bytes("placements.csv", lambda b: b.rstrip(b"\n").rsplit(b",", 3)[0]), "placements.csv:"),
    ("unclosed-quote", edit("companies.csv", lambda t: t.rstrip("\n") + '\nCO-X,"Unfinished name,CN\n'), "malformed CSV"),
    ("empty-file", write_bytes("affiliates.csv", lambda b: b""), "affiliates.csv:1: file is empty"),
    ("wrong-field-count", replace_line("factories.csv", 3, lambda line: line + ",extra,cells"), "factories.csv:3: expected"),
]


@pytest.mark.parametrize("case,mutate,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_bundle_is_refused_and_graph_unchanged(store, tmp_path, case, mutate, expected) -> None:
    load_bundles(store, [DEMO])
    before = dump_graph(store)
    bad = tmp_path / "bundle"
    shutil.copytree(DEMO, bad)
    mutate(bad)
    with pytest.raises(BundleError) as raised:
        load_bundles(store, [bad])
    report = str(raised.value)
    assert expected in report, report
    assert "nothing was written" in report
    for problem in raised.value.problems:
        assert problem.file and (problem.line is not None or "more rows" in problem.message or problem.file == str(bad))
    assert dump_graph(store) == before


def test_every_problem_is_reported_at_once(store, tmp_path) -> None:
    bad = tmp_path / "bundle"
    shutil.copytree(DEMO, bad)
    set_cell("factories.csv", 4, "country", "Atlantis")(bad)
    set_cell("assembly.csv", 2, "valid_from", "yesterday")(bad)
    set_cell("findings.csv", 3, "status", "closed")(bad)
    with pytest.raises(BundleError) as raised:
        load_bundles(store, [bad])
    where = {(p.file, p.line, p.column) for p in raised.value.problems}
    assert where == {("factories.csv", 4, "country"), ("assembly.csv", 2, "valid_from"), ("findings.csv", 3, "status")}


def test_zip_bundle_loads_like_the_folder(store_factory, tmp_path) -> None:
    archive = tmp_path / "demo.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(DEMO.iterdir()):
            zf.write(f, f"demo/{f.name}")
    store = store_factory()
    load_bundles(store, [DEMO], names=["demo"])
    from_folder = dump_graph(store)
    load_bundles(store, [archive], fresh=True)
    assert dump_graph(store) == from_folder


def test_extra_columns_are_kept_as_properties(store) -> None:
    load_bundles(store, [DEMO])
    rows = store.run("MATCH (f:Factory) WHERE f.notes IS NOT NULL RETURN f.id AS id, f.notes AS notes")
    assert rows and all(r["notes"] for r in rows)


def test_bom_and_country_names_are_accepted(store, tmp_path) -> None:
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "factories.csv").write_bytes(
        "\ufefffactory_id,name,country\nF1,One,Czech Republic\nF2,Two, th \n".encode()
    )
    load_bundles(store, [bundle])
    rows = store.run("MATCH (f:Factory) RETURN f.id AS id, f.country AS country ORDER BY id")
    assert [(r["id"], r["country"]) for r in rows] == [("F1", "CZ"), ("F2", "TH")]
