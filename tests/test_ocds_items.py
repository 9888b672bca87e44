"""OCDS items become contract items of bundle version 1.1 (loaders/ocds_items.py), on both stores.

What is expected comes from the input files, not from the engine: for the real fixtures (tests/fixtures/real,
SOURCES.md) ocdsmerge's compiled release of each process read by benchmarks/real_data_check, for the fictional
tests/fixtures/sources/ocds-items.jsonl (invented names) what its releases say, written out here."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from supplygraph.graph.errors import BundleError
from supplygraph.loaders import read_source
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.exposure import exposure_for_affiliate

from benchmarks.real_data_check import compare
from tests.conftest import DEMO
from tests.graph_dump import dump_graph

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ITEMS = FIXTURES / "sources" / "ocds-items.jsonl"
REAL_WITH_ITEMS = ["mexico-city-1.0.json", "two-packages.json", "fictional-1.1-releases.json"]
A, B, C, D = (f"ocds-f1ct11-ITEMS-{p}" for p in "ABCD")


def items_of(store, prefix: str) -> dict[str, dict]:
    rows = store.run(
        "MATCH (c:Contract)-[:HAS_ITEM]->(i:Item) WHERE c.id STARTS WITH $prefix "
        "RETURN i.id AS id, c.id AS contract, i.description AS description, i.quantity AS quantity, "
        "i.ocds_quantity AS ocds_quantity, i.unit AS unit, i.value AS value, i.currency AS currency, i.cpv AS cpv, "
        "i.brand_name AS brand_name, i.category AS category, i.product_id AS product, i.basis AS basis, "
        "i.ocds_items_from AS items_from",
        {"prefix": prefix},
    )
    return {r["id"]: r for r in rows}


@pytest.mark.parametrize("path", [FIXTURES / "real" / n for n in REAL_WITH_ITEMS] + [ITEMS], ids=lambda p: p.name)
def test_items_equal_those_of_the_ocdsmerge_compiled_release(path: Path) -> None:
    report = compare(path)
    assert report["disagreements"] == []
    assert report["stored"]["items"] == report["expected"]["items"] > 0


def test_each_contract_gets_its_own_else_its_awards_else_the_single_tenders_items(store) -> None:
    report = load_bundles(store, [DEMO, ITEMS])
    items = items_of(store, "ocds-f1ct11-ITEMS")
    assert set(items) == {
        f"{A}/c1/item:1",  # the tender's items: the process has one contract, which lists none, nor does its award
        f"{A}/c1/item:2",
        f"{B}/bc1/item:1",  # the contract's own items, amended by a later release
        f"{B}/bc1/item:2",  # added by the later release
        f"{B}/bc2/item:1",  # the contract lists none: its award's (not the tender's: the process has two contracts)
        f"{C}/award:cx1/item:A",  # an award without a contract: the award's items
        f"{C}/award:cx1/item:B",
        f"{C}/award:cx1/item:D",  # item C has no description, classification or product: left out
        f"{D}/dc1/item:t1",  # the tender's items of lot L1, the lot of award d1
        f"{D}/dc1/item:t3",
        f"{D}/dc2/item:t2",  # lot L2's
    }
    notebook = items[f"{A}/c1/item:1"]
    assert (notebook["description"], notebook["quantity"], notebook["unit"], notebook["currency"]) == (
        "Korvane Aeris 14 notebook, 14-inch",
        40,
        "piece",
        "GBP",
    )
    assert (notebook["value"], notebook["cpv"], notebook["category"], notebook["items_from"]) == (
        38000.0,
        "30213100",
        "notebook",
        "tender",
    )
    assert (notebook["product"], notebook["basis"]) == ("PR-AER14", "matched")  # the demo's Korvane Aeris 14
    amended = items[f"{B}/bc1/item:1"]
    assert (amended["description"], amended["quantity"], amended["value"]) == ("Velmora Slate 24 monitor", 6, 1080.0)
    assert (items[f"{B}/bc1/item:2"]["quantity"], items[f"{B}/bc1/item:2"]["value"]) == (6, 150.0)
    printer = items[f"{B}/bc2/item:1"]
    assert (printer["description"], printer["category"], printer["items_from"]) == ("Laser printer A4", "mfd", "award")
    switch = items[f"{C}/award:cx1/item:A"]
    assert (switch["brand_name"], switch["cpv"]) == ("Quillmere Networks", "32420000|32422000")
    assert (switch["quantity"], switch["ocds_quantity"], switch["value"]) == (None, "2.5", 2000.0)
    catalogue = items[f"{C}/award:cx1/item:B"]  # another scheme's code is no CPV code
    assert (catalogue["description"], catalogue["cpv"]) == ("Notebook computers", None)
    tablet = items[f"{C}/award:cx1/item:D"]
    assert (tablet["product"], tablet["basis"], tablet["brand_name"]) == (
        "product:arvenna:tab-10",
        "disclosed",
        "Arvenna",
    )
    server = items[f"{D}/dc2/item:t2"]
    assert (server["description"], server["category"], server["items_from"]) == ("Rack server, 2U", "server", "tender")
    assert any("1 items with neither a description nor a product left out" in str(w) for w in report.warnings)


def test_a_matched_ocds_item_gives_its_buyer_a_matched_exposure(store) -> None:
    load_bundles(store, [DEMO, ITEMS])
    answer = exposure_for_affiliate(store, "XX-FICT-B11", date(2025, 6, 1)).as_json()
    bases = {f["id"]: f["basis"] for f in answer["factories"]}
    assert bases.get("FA-SH2") == "matched"  # where the demo's Korvane Aeris 14 is assembled


@pytest.mark.parametrize("name", REAL_WITH_ITEMS)
def test_a_real_files_items_become_item_nodes(store, name: str) -> None:
    path = FIXTURES / "real" / name
    load_bundles(store, [path])
    items = items_of(store, "")
    assert len(items) == compare(path)["expected"]["items"] > 0
    assert all(i["basis"] is None and i["product"] is None for i in items.values())  # no catalogue: nothing matched
    if name == "mexico-city-1.0.json":
        assert {i["description"] for i in items.values()} >= {"COMPUTADORA PORTATIL TIPO 1"}


def test_an_items_problem_is_reported_at_its_json_pointer(store, tmp_path: Path) -> None:
    load_bundles(store, [DEMO])
    before = dump_graph(store)
    release = json.loads(ITEMS.read_text(encoding="utf-8").splitlines()[2])
    release["contracts"][0]["items"][0]["quantity"] = "12k"
    release["awards"][1]["items"][0]["unit"]["value"]["amount"] = [310]
    bad = tmp_path / "bad-items.jsonl"
    bad.write_text(json.dumps(release) + "\n", encoding="utf-8")
    with pytest.raises(BundleError) as caught:
        read_source(bad)
    text = str(caught.value)
    assert "bad-items.jsonl:1: expected a number, found str '12k' (at #/contracts/0/items/0/quantity)" in text
    assert "(at #/awards/1/items/0/unit/value/amount)" in text
    with pytest.raises(BundleError):
        load_bundles(store, [bad])
    assert dump_graph(store) == before
