"""Bundles that are unusual but valid by the spec load as the spec says; malformed ones are refused with file and
line and nothing written (both stores). Found by trying real-world CSV shapes against the spec."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from supplygraph.graph.errors import BundleError
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.exposure import exposure_for_affiliate

from tests import oracle
from tests.conftest import DEMO
from tests.graph_dump import dump_graph


def write(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def test_a_header_only_file_without_a_final_newline_is_an_empty_file(store, tmp_path) -> None:
    """A file that is just its header row (no line break after it, as some editors save it) holds no rows."""
    bundle = write(tmp_path / "b", {"sources.csv": b"source_id,title", "affiliates.csv": b"affiliate_id,name\nAF-1,One\n"})
    load_bundles(store, [bundle])
    assert [r["id"] for r in store.run("MATCH (a:Affiliate) RETURN a.id AS id")] == ["AF-1"]
    assert store.run("MATCH (s:Source) RETURN s.id AS id") == []


def test_a_quote_left_open_in_the_last_column_is_refused_with_its_line(store, tmp_path) -> None:
    """An unclosed quote would otherwise swallow every later row into one cell: rows lost without a word."""
    load_bundles(store, [DEMO])
    before = dump_graph(store)
    text = (DEMO / "sources.csv").read_text(encoding="utf-8").splitlines()
    lines = len(text)
    text.insert(2, 'SRC-CUT,A title,https://example.org,2024-01-01,"other')
    bundle = tmp_path / "bundle"
    write(bundle, {f.name: f.read_bytes() for f in DEMO.iterdir()})
    (bundle / "sources.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(BundleError) as raised:
        load_bundles(store, [bundle])
    assert any(p.file == "sources.csv" and p.line == 3 and "quote" in p.message for p in raised.value.problems), str(
        raised.value
    )
    assert lines > 3 and dump_graph(store) == before


def test_files_with_carriage_return_line_ends_load_like_the_same_files_with_line_feeds(store_factory, tmp_path) -> None:
    """Excel for Mac's "CSV (Macintosh)" ends lines with a lone CR: the same rows as LF, and errors keep their line."""
    store = store_factory()
    load_bundles(store, [DEMO], names=["demo"])
    with_lf = dump_graph(store)
    bundle = write(tmp_path / "demo", {f.name: f.read_bytes().replace(b"\n", b"\r") for f in DEMO.iterdir()})
    load_bundles(store, [bundle], fresh=True)
    assert dump_graph(store) == with_lf
    bad = (bundle / "assembly.csv").read_bytes().split(b"\r")
    bad[2] = bad[2].replace(b"2021", b"21", 1)
    (bundle / "assembly.csv").write_bytes(b"\r".join(bad))
    with pytest.raises(BundleError) as raised:
        load_bundles(store, [bundle])
    assert [(p.file, p.line) for p in raised.value.problems] == [("assembly.csv", 3)], str(raised.value)


def test_extra_item_columns_named_like_what_the_loader_works_out_are_kept(store, tmp_path) -> None:
    """contract_items.csv may carry its own `brand_id` or `basis` columns (extra by the spec: kept, never dropped);
    they must neither vanish from the Item nor replace the brand and basis the spec defines."""
    files = {name: (DEMO / name).read_bytes() for name in ("affiliates.csv", "companies.csv", "contracts.csv", "products.csv")}
    files["contract_items.csv"] = (
        b"contract_id,product_id,description,brand_id,basis,unit\n"
        b"CT-UNB-01,PR-AER16,,CO-SHM,as published,pcs\n"
        b"CT-UNB-01,,Korvane Aeris 14 notebook,CO-SHM,as published,pcs\n"
    )
    load_bundles(store, [write(tmp_path / "b", files)])
    rows = store.run(
        "MATCH (i:Item) RETURN i.id AS id, i.brand_id AS brand, i.basis AS basis, i.extra_brand_id AS given_brand, "
        "i.extra_basis AS given_basis, i.unit AS unit ORDER BY id"
    )
    assert [(r["id"], r["brand"], r["basis"]) for r in rows] == [
        ("CT-UNB-01#1", "CO-KOR", "disclosed"),
        ("CT-UNB-01#2", "CO-KOR", "matched"),
    ]
    assert [(r["given_brand"], r["given_basis"], r["unit"]) for r in rows] == [("CO-SHM", "as published", "pcs")] * 2


SMALL = {
    "affiliates.csv": b"affiliate_id,name\nAF-1,One\n",
    "companies.csv": b"company_id,name,roles\nCO-B,Brand,brand\n",
    "contracts.csv": b"contract_id,affiliate_id\nCT-1,AF-1\n",
    "products.csv": b"product_id,brand_id,model\nPR-1,CO-B,Model 1\n",
    "contract_items.csv": b"contract_id,product_id\nCT-1,PR-1\n",
    "factories.csv": b"factory_id,name,country\nFA-1,One,CN\nFA-2,Two,CN\nFA-3,Three,TH\nFA-4,Four,MM\n",
    "assembly.csv": b"product_id,factory_id\nPR-1,FA-1\n",
}


def test_extra_link_columns_named_from_to_or_origin_neither_rewire_nor_replace_the_link(store, tmp_path) -> None:
    """A supply.csv with its own `from`/`to` (say, shipping points) and `origin` columns: by the spec these are extra
    columns, kept as properties; the link still runs supplier -> buyer and still names its file and line."""
    files = dict(SMALL)
    files["supply.csv"] = b"supplier_factory_id,buyer_factory_id,from,to,origin,origin_line\nFA-2,FA-1,FA-3,FA-4,KR,x\n"
    bundle = write(tmp_path / "b", files)
    load_bundles(store, [bundle])
    rows = store.run(
        "MATCH (a:Factory)-[r:SUPPLIES]->(b:Factory) RETURN a.id AS a, b.id AS b, r.extra_from AS f, r.extra_to AS t, "
        "r.extra_origin AS o, r.origin AS origin, r.origin_line AS line"
    )
    assert [(r["a"], r["b"], r["f"], r["t"], r["o"], r["line"]) for r in rows] == [("FA-2", "FA-1", "FA-3", "FA-4", "KR", 2)]
    assert rows[0]["origin"].startswith("b/supply.csv")
    answer = exposure_for_affiliate(store, "AF-1", date(2026, 6, 1))
    expected = oracle.exposure_oracle(oracle.read_bundle(bundle), "AF-1", date(2026, 6, 1))
    assert {f["id"]: f["tier"] for f in answer.factories} == expected["factories"] == {"FA-1": 1, "FA-2": 2}


def test_items_of_one_contract_in_two_bundles_are_two_items(store, tmp_path) -> None:
    """A later bundle adds items, without item_id, to a contract of an earlier one: the affiliate buys what both
    say. Their ids go on counting the contract's rows in load order (as if the files were one), not both `#1`."""
    first = dict(SMALL, **{"assembly.csv": b"product_id,factory_id\nPR-1,FA-1\nPR-2,FA-2\n"})
    first["products.csv"] = b"product_id,brand_id,model\nPR-1,CO-B,Model 1\nPR-2,CO-B,Model 2\n"
    load_bundles(store, [write(tmp_path / "first", first)])
    load_bundles(store, [write(tmp_path / "second", {"contract_items.csv": b"contract_id,product_id\nCT-1,PR-2\n"})])
    rows = store.run("MATCH (:Contract {id: 'CT-1'})-[:HAS_ITEM]->(i:Item) RETURN i.id AS id, i.product_id AS p ORDER BY id")
    assert [(r["id"], r["p"]) for r in rows] == [("CT-1#1", "PR-1"), ("CT-1#2", "PR-2")]
    merged = write(tmp_path / "merged", first)
    (merged / "contract_items.csv").write_bytes(first["contract_items.csv"] + b"CT-1,PR-2\n")
    expected = oracle.exposure_oracle(oracle.read_bundle(merged), "AF-1", date(2026, 6, 1))
    answer = exposure_for_affiliate(store, "AF-1", date(2026, 6, 1))
    assert {f["id"]: f["tier"] for f in answer.factories} == expected["factories"] == {"FA-1": 1, "FA-2": 1}


@pytest.mark.parametrize("country", ["Global", "ZZ", "EU", "European Union", "East Germany"])
def test_a_place_that_is_no_iso_country_is_refused_as_a_country(store, tmp_path, country) -> None:
    """Countries are ISO 3166-1 alpha-2 (a name is normalised to its code): "Global" is not one, nor is "EU"."""
    files = {"factories.csv": f"factory_id,name,country\nFA-1,One,CN\nFA-2,Two,{country}\n".encode()}
    with pytest.raises(BundleError) as raised:
        load_bundles(store, [write(tmp_path / "b", files)])
    assert [(p.file, p.line, p.column) for p in raised.value.problems] == [("factories.csv", 3, "country")]
    assert "is not a country" in str(raised.value)


def test_a_workbook_with_empty_formatted_rows_below_its_data_loads_like_its_csv_files(store_factory, tmp_path) -> None:
    """A spreadsheet counts a formatted but empty cell far below the data as rows of the sheet: those empty rows
    are no records (the CSV files of the same data load; an error on a later row keeps its spreadsheet row)."""
    import csv
    import io

    import openpyxl
    from openpyxl.styles import Font

    store = store_factory()
    load_bundles(store, [DEMO], names=["demo"])
    counts = {label: store.run(f"MATCH (n:{label}) RETURN count(n) AS n")[0]["n"] for label in ("Factory", "Finding")}
    book = openpyxl.Workbook()
    book.remove(book.active)
    for path in sorted(DEMO.glob("*.csv")):
        sheet = book.create_sheet(path.stem)
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))):
            sheet.append(row)
    factories = book["factories"]
    below = factories.max_row + 5
    factories.cell(row=below, column=1).font = Font(bold=True)
    book.save(tmp_path / "demo.xlsx")
    load_bundles(store, [tmp_path / "demo.xlsx"], fresh=True)
    assert {label: store.run(f"MATCH (n:{label}) RETURN count(n) AS n")[0]["n"] for label in counts} == counts
    factories.cell(row=below + 2, column=1, value="FA-LATE")  # a real row after the empty ones: name and country missing
    book.save(tmp_path / "demo.xlsx")
    with pytest.raises(BundleError) as raised:
        load_bundles(store, [tmp_path / "demo.xlsx"], fresh=True)
    assert {(p.file, p.line) for p in raised.value.problems} == {("demo.xlsx[factories]", below + 2)}, str(raised.value)


def test_problems_of_several_bundles_loaded_at_once_say_which_bundle(store, tmp_path) -> None:
    """`supplygraph load A B`: "sources.csv:2" twice would not say where to look; each names its bundle, as the
    problems of references already do."""
    load_bundles(store, [DEMO])
    before = dump_graph(store)
    first = write(tmp_path / "first", {"sources.csv": b"source_id,published_on\nS-1,2024-13-01\n"})
    second = write(tmp_path / "second", {"sources.csv": b"source_id,published_on\nS-2,yesterday\n"})
    with pytest.raises(BundleError) as raised:
        load_bundles(store, [first, second])
    assert [(p.file, p.line, p.column) for p in raised.value.problems] == [
        ("first/sources.csv", 2, "published_on"),
        ("second/sources.csv", 2, "published_on"),
    ]
    assert dump_graph(store) == before


def test_rows_of_empty_cells_as_excel_saves_them_are_no_records(store, tmp_path) -> None:
    """Excel saves formatted empty rows of a sheet as `,,,,`: no record, like a blank line (a later error keeps its
    line), rather than a record whose required values are all empty."""
    load_bundles(store, [DEMO], names=["demo"])
    factories = store.run("MATCH (f:Factory) RETURN count(f) AS n")[0]["n"]
    bundle = write(tmp_path / "demo", {f.name: f.read_bytes() for f in DEMO.iterdir()})
    text = (DEMO / "factories.csv").read_bytes()
    width = text.split(b"\n", 1)[0].count(b",")
    lines = text.count(b"\n")
    (bundle / "factories.csv").write_bytes(text + b"," * width + b"\r\n" + b" ," * width + b"\n")
    load_bundles(store, [bundle], fresh=True)
    assert store.run("MATCH (f:Factory) RETURN count(f) AS n")[0]["n"] == factories
    (bundle / "factories.csv").write_bytes(text + b"," * width + b"\n" + b"FA-LATE" + b"," * width + b"\n")
    with pytest.raises(BundleError) as raised:
        load_bundles(store, [bundle], fresh=True)
    assert {(p.file, p.line) for p in raised.value.problems} == {("factories.csv", lines + 2)}, str(raised.value)
