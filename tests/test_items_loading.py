"""Bundle version 1.1 on both stores: contract items without a product, brand_sites, company aliases.

Expected values come from the spec's words and the input files written here, not from the engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from supplygraph.graph.errors import BundleError
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO

FILES = {
    "companies.csv": "company_id,name,country,roles,aliases\n"
    "CO-A,Acme Computing,TW,brand,ACM|Acme|Acme Inc.\n"
    "CO-B,Bolt Devices,TW,brand,\n"
    "CO-R,Resell AG,CH,reseller,\n"
    "CO-S,Supplybrand,CH,brand|reseller,\n",
    "affiliates.csv": "affiliate_id,name\nAF-1,Town One\n",
    "contracts.csv": "contract_id,affiliate_id,supplier_id,cpv\nCT-1,AF-1,CO-R,30213100\nCT-2,AF-1,CO-S,48821000-3\n",
    "products.csv": "product_id,brand_id,model,category\nPR-L13,CO-A,Lumo 13,notebook\n"
    "PR-L13P,CO-A,Lumo 13 Pro,notebook\nPR-B1,CO-B,Bolt One,desktop\n",
    "factories.csv": "factory_id,name,country\nFA-1,Plant One,CN\nFA-2,Plant Two,TH\n",
    "contract_items.csv": "contract_id,item_id,product_id,description,brand_name,cpv,category,quantity,value\n"
    "CT-1,,,Acme Lumo-13™ Pro notebook,,,,10,1000\n"  # CT-1#1: matched to PR-L13P, notebook via contract CPV
    "CT-1,,PR-B1,,,,,1,10\n"  # CT-1#2: named product, desktop
    "CT-1,IT-X,,Rack server,acme inc,30213400,,,\n"  # IT-X: brand from brand_name alias, CPV -> desktop
    "CT-2,,,Something from Bolt Devices,,,,,\n"  # CT-2#1: brand Bolt in description, server from 48821000
    "CT-2,,,Unbranded cables,,32250000|30213100,,,\n",  # CT-2#2: brand = supplier CO-S, phone
    "brand_sites.csv": "brand_id,factory_id,category,role,valid_from,valid_to,source_id\n"
    "CO-A,FA-1,notebook,final_assembly,,,\nCO-A,FA-2,,component,,,\n",
}


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def items_of(store) -> dict[str, dict]:
    rows = store.run(
        "MATCH (c:Contract)-[:HAS_ITEM]->(i:Item) RETURN i.id AS id, c.id AS contract, i.product_id AS product,"
        " i.category AS category, i.brand_id AS brand, i.basis AS basis, i.match_status AS status"
    )
    return {r["id"]: r for r in rows}


def test_items_ids_categories_brands_and_matches(store, tmp_path) -> None:
    load_bundles(store, [write(tmp_path / "b11", FILES)])
    items = items_of(store)
    assert set(items) == {"CT-1#1", "CT-1#2", "IT-X", "CT-2#1", "CT-2#2"}
    assert items["CT-1#1"] | {} == {
        "id": "CT-1#1",
        "contract": "CT-1",
        "product": "PR-L13P",
        "category": "notebook",
        "brand": "CO-A",
        "basis": "matched",
        "status": "automatic",
    }
    assert (items["CT-1#2"]["product"], items["CT-1#2"]["basis"], items["CT-1#2"]["category"]) == (
        "PR-B1",
        "disclosed",
        "desktop",
    )
    assert (items["IT-X"]["brand"], items["IT-X"]["category"], items["IT-X"]["product"]) == ("CO-A", "desktop", None)
    assert (items["CT-2#1"]["brand"], items["CT-2#1"]["category"]) == ("CO-B", "server")
    assert (items["CT-2#2"]["brand"], items["CT-2#2"]["category"]) == ("CO-S", "phone")
    includes = store.run("MATCH (c:Contract)-[r:INCLUDES]->(p:Product) RETURN c.id AS c, p.id AS pid ORDER BY pid")
    assert [(r["c"], r["pid"]) for r in includes] == [("CT-1", "PR-B1"), ("CT-1", "PR-L13P")]
    sites = store.run("MATCH (b:Company)-[r:LISTS_SITE]->(f:Factory) RETURN f.id AS fid, r.role AS role ORDER BY fid")
    assert [(r["fid"], r["role"]) for r in sites] == [("FA-1", "final_assembly"), ("FA-2", "component")]
    aliases = store.run("MATCH (c:Company {id: 'CO-A'}) RETURN c.aliases AS a")[0]["a"]
    assert list(aliases) == ["ACM", "Acme", "Acme Inc."]


@pytest.mark.parametrize(
    ("file", "text", "expected"),
    [
        (
            "contract_items.csv",
            "contract_id,product_id,description\nCT-1,,\n",
            "contract_items.csv:2: column 'product_id'",
        ),
        (
            "contract_items.csv",
            "contract_id,item_id,description\nCT-1,I1,a\nCT-1,I1,b\n",
            "contract_items.csv:3: column 'item_id'",
        ),
        ("contract_items.csv", "contract_id,description\nCT-9,a thing\n", "contract_items.csv:2: column 'contract_id'"),
        ("brand_sites.csv", "brand_id,factory_id,role\nCO-A,FA-1,assembly\n", "brand_sites.csv:2: column 'role'"),
        ("brand_sites.csv", "brand_id,factory_id\nCO-A,FA-9\n", "brand_sites.csv:2: column 'factory_id'"),
    ],
)
def test_bad_11_rows_are_refused_with_file_line_column(store, tmp_path, file, text, expected) -> None:
    load_bundles(store, [write(tmp_path / "ok", FILES)])
    before = items_of(store)
    with pytest.raises(BundleError) as err:
        load_bundles(store, [write(tmp_path / "ok", {**FILES, file: text})])
    assert expected in str(err.value)
    assert items_of(store) == before  # nothing written


def test_version_1_bundle_items_are_disclosed_with_row_ids(store) -> None:
    load_bundles(store, [DEMO])
    items = items_of(store)
    lines = (DEMO / "contract_items.csv").read_text().splitlines()[1:]
    expected: dict[str, str] = {}
    count: dict[str, int] = {}
    for line in lines:
        contract, product = line.split(",")[:2]
        count[contract] = count.get(contract, 0) + 1
        expected[f"{contract}#{count[contract]}"] = product
    assert {k: v["product"] for k, v in items.items() if "#" in k} == {k: v for k, v in expected.items() if v}
    assert all(items[k]["basis"] == "disclosed" for k, v in expected.items() if v)
