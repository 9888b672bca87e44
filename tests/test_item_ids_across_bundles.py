"""An `item_id` is unique only in its bundle (spec "Version 1.1", contract_items.csv), on both stores: the same
item_id for another contract in a later bundle is another item, `<contract_id>:<item_id>`, with a warning, so no
publisher's bundle takes an item from another's contract; the same item_id of the same contract in two bundles
is one item. Ids follow the load order: loading in turn and one rebuild give the same graph."""

from __future__ import annotations

from datetime import date

import pytest
from supplygraph.graph.errors import BundleError
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.loaders.resolve import Decisions, matches_file
from supplygraph.queries.exposure import exposure_for_affiliate

from tests import oracle
from tests.graph_dump import dump_graph
from tests.test_items_loading import write

DAY = date(2026, 6, 1)
FIRST = {  # publisher one: its affiliate, contract C1 and item "item 1", and the catalogue both use
    "companies.csv": "company_id,name,roles\nCO-A,Acme,brand\n",
    "affiliates.csv": "affiliate_id,name\nAF-1,Town One\n",
    "contracts.csv": "contract_id,affiliate_id\nC1,AF-1\n",
    "products.csv": "product_id,brand_id,model\nP1,CO-A,Elite 1\nP2,CO-A,Nova 2\nP3,CO-A,Elite-1\n",
    "factories.csv": "factory_id,name,country\nFA-1,One,CN\nFA-2,Two,CN\nFA-3,Three,CN\n",
    "assembly.csv": "product_id,factory_id\nP1,FA-1\nP2,FA-2\nP3,FA-3\n",
    "contract_items.csv": "contract_id,item_id,product_id\nC1,item 1,P1\n",
}
SECOND = {  # publisher two: its own affiliate and contract C2, whose item it also calls "item 1"
    "affiliates.csv": "affiliate_id,name\nAF-2,Town Two\n",
    "contracts.csv": "contract_id,affiliate_id\nC2,AF-2\n",
    "contract_items.csv": "contract_id,item_id,product_id\nC2,item 1,P2\n",
}


def items(store) -> dict[str, tuple[str, str | None]]:
    rows = store.run("MATCH (c:Contract)-[:HAS_ITEM]->(i:Item) RETURN i.id AS id, c.id AS c, i.product_id AS p")
    return {r["id"]: (r["c"], r["p"]) for r in rows}


def factories(store, affiliate: str) -> dict[str, int]:
    return {f["id"]: f["tier"] for f in exposure_for_affiliate(store, affiliate, DAY).factories}


def test_an_item_id_another_bundle_gave_to_another_contract_is_qualified_and_both_keep_their_exposure(
    store, tmp_path
) -> None:
    load_bundles(store, [write(tmp_path / "a", FIRST)])
    report = load_bundles(store, [write(tmp_path / "b", SECOND)])
    assert items(store) == {"item 1": ("C1", "P1"), "C2:item 1": ("C2", "P2")}
    warned = [w for w in report.warnings if w.column == "item_id"]
    assert [(w.file, w.line, w.column) for w in warned] == [("b/contract_items.csv", 2, "item_id")]
    assert "'C1'" in warned[0].message and "'a'" in warned[0].message and "'C2:item 1'" in warned[0].message
    # the spec's meaning, as if the second publisher had named its item apart: one folder, read by the oracle
    merged = write(tmp_path / "merged", dict(FIRST, **{
        "affiliates.csv": FIRST["affiliates.csv"] + "AF-2,Town Two\n",
        "contracts.csv": FIRST["contracts.csv"] + "C2,AF-2\n",
        "contract_items.csv": FIRST["contract_items.csv"] + "C2,C2:item 1,P2\n",
    }))  # fmt: skip
    rows = oracle.read_bundle(merged)
    for affiliate in ("AF-1", "AF-2"):
        assert factories(store, affiliate) == oracle.exposure_oracle(rows, affiliate, DAY)["factories"]
    assert factories(store, "AF-1") == {"FA-1": 1} and factories(store, "AF-2") == {"FA-2": 1}


def test_one_contracts_item_restated_in_a_later_bundle_stays_one_item(store, tmp_path) -> None:
    load_bundles(store, [write(tmp_path / "a", FIRST)])
    again = {"contract_items.csv": "contract_id,item_id,product_id,quantity\nC1,item 1,P1,5\n"}
    report = load_bundles(store, [write(tmp_path / "more", again)])
    assert items(store) == {"item 1": ("C1", "P1")}
    assert [w for w in report.warnings if w.column == "item_id"] == []
    assert store.run("MATCH (i:Item) RETURN i.quantity AS q") == [{"q": 5}]  # later values win, as for any node


def test_loading_in_turn_and_one_rebuild_give_the_same_graph_and_the_first_bundles_ids(store_factory, tmp_path) -> None:
    store = store_factory()
    first, second = write(tmp_path / "a", FIRST), write(tmp_path / "b", SECOND)
    load_bundles(store, [first])
    load_bundles(store, [second])
    in_turn = dump_graph(store)
    load_bundles(store, [first, second], fresh=True)
    assert dump_graph(store) == in_turn
    load_bundles(store, [first, second], fresh=True, incremental=False)
    assert dump_graph(store) == in_turn
    load_bundles(store, [second], fresh=True)  # alone, the second publisher's item has its own id
    assert items(store) == {"item 1": ("C2", "P2")}


def test_a_review_decision_on_a_qualified_item_is_applied_again_on_the_next_load(store, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SUPPLYGRAPH_DB", str(tmp_path / "data"))  # the server store's decisions, kept locally
    load_bundles(store, [write(tmp_path / "a", FIRST)])
    second = dict(SECOND, **{"contract_items.csv": "contract_id,item_id,description\nC2,item 1,Acme Elite 1 box\n"})
    bundle = write(tmp_path / "b", second)
    load_bundles(store, [bundle])
    decisions = Decisions.load(matches_file(store))
    assert {m["id"] for m in decisions.queue if m["label"] == "Item"} == {"C2:item 1~P1", "C2:item 1~P3"}
    decisions.decide("C2:item 1~P3", "accept")
    decisions.save()
    load_bundles(store, [bundle])
    assert items(store) == {"item 1": ("C1", "P1"), "C2:item 1": ("C2", "P3")}
    assert factories(store, "AF-2") == {"FA-3": 1} and factories(store, "AF-1") == {"FA-1": 1}
    assert [m for m in Decisions.load(matches_file(store)).queue if m["label"] == "Item"] == []


@pytest.mark.parametrize(
    ("rows", "line"),
    [
        ("C2,C2:item 1,P2\nC2,item 1,P2\n", 3),  # the qualified id is another row's item_id
        ("C1,,P2\n", 2),  # C1's second row would be C1#2: the first bundle's item_id of a C2 item
    ],
)
def test_an_id_that_would_still_name_two_contracts_items_is_refused(store, tmp_path, rows, line) -> None:
    first = dict(FIRST, **{"contract_items.csv": "contract_id,item_id,product_id\nC1,item 1,P1\nC2,C1#2,P2\n"})
    first["affiliates.csv"] += "AF-2,Town Two\n"
    first["contracts.csv"] += "C2,AF-2\n"
    load_bundles(store, [write(tmp_path / "a", first)])
    before = dump_graph(store)
    with pytest.raises(BundleError) as raised:
        load_bundles(store, [write(tmp_path / "b", {"contract_items.csv": "contract_id,item_id,product_id\n" + rows})])
    assert [(p.file, p.line, p.column) for p in raised.value.problems] == [("contract_items.csv", line, "item_id")]
    assert dump_graph(store) == before
