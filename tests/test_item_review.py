"""The Item review queue: ambiguous descriptions wait with every candidate; a person's accept makes the link
`disclosed`, a reject removes the candidate; decisions are kept by item id and re-applied on every load."""

from __future__ import annotations

from datetime import date

from supplygraph.loaders.pipeline import load_bundles
from supplygraph.loaders.resolve import Decisions, matches_file
from supplygraph.queries.exposure import exposure_for_affiliate

from tests.test_items_loading import write

FILES = {
    "companies.csv": "company_id,name,roles,aliases\nCO-A,Acme,brand,\n",
    "affiliates.csv": "affiliate_id,name\nAF-1,Town One\n",
    "contracts.csv": "contract_id,affiliate_id,cpv\nCT-1,AF-1,30213100\n",
    "products.csv": "product_id,brand_id,model\nPR-1,CO-A,Elite 1\nPR-2,CO-A,Elite-1\nPR-3,CO-A,Nova X2 Max\n",
    "factories.csv": "factory_id,name,country\nFA-1,One,CN\nFA-2,Two,CN\nFA-3,Three,CN\n",
    "assembly.csv": "product_id,factory_id\nPR-1,FA-1\nPR-2,FA-2\nPR-3,FA-3\n",
    "contract_items.csv": "contract_id,item_id,description\nCT-1,IT-1,Acme Elite 1 desktop\nCT-1,IT-2,Acme Nova X2\n",
}


def factories(store) -> dict[str, str]:
    answer = exposure_for_affiliate(store, "AF-1", date(2026, 1, 1))
    return {f["id"]: f["basis"] for f in answer.factories}


def test_review_queue_accept_and_reject_are_kept(store, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SUPPLYGRAPH_DB", str(tmp_path / "data"))  # the server store's decisions, kept locally
    bundle = write(tmp_path / "b", FILES)
    load_bundles(store, [bundle])
    decisions = Decisions.load(matches_file(store))
    queue = {m["id"]: m for m in decisions.queue if m["label"] == "Item"}
    assert set(queue) == {"IT-1~PR-1", "IT-1~PR-2", "IT-2~PR-3"}
    assert queue["IT-1~PR-1"]["score"] == 1.0 and queue["IT-2~PR-3"]["score"] < 0.8  # a near miss
    assert factories(store) == {}  # nothing links automatically
    decisions.decide("IT-1~PR-2", "accept")
    decisions.decide("IT-2~PR-3", "reject")
    decisions.save()
    load_bundles(store, [bundle])  # re-applied on every load
    assert factories(store) == {"FA-2": "disclosed"}
    left = Decisions.load(matches_file(store)).queue
    assert [m for m in left if m["label"] == "Item"] == []
    status = store.run("MATCH (i:Item) RETURN i.id AS id, i.match_status AS s, i.basis AS b ORDER BY id")
    assert [(r["id"], r["s"], r["b"]) for r in status] == [
        ("IT-1", "accepted", "disclosed"),
        ("IT-2", "rejected", None),
    ]
