"""/ui/review on both stores: the entity review queue with the records side by side, accept and reject kept in
the same decision file as `supplygraph matches` and re-applied on later loads; split and move of a merged
node; the Item review queue; cross-site or origin-less posts refused; affiliate keys get 404 everywhere and
change nothing. Expected values come from the decision file and the graph, not from the pages."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from supplygraph.api.app import create_app
from supplygraph.api.keys import KeyRing
from supplygraph.graph.settings import Settings
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.loaders.resolve import Decisions, matches_file
from supplygraph.queries.exposure import exposure_for_affiliate

from tests.conftest import DEMO
from tests.test_item_review import FILES
from tests.test_items_loading import write
from tests.test_resolution import FACILITIES, merged

ORIGIN = "https://testserver"
App = tuple[object, dict[str, str]]


@pytest.fixture
def serve(store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., App]]:
    """Loads inputs into the parametrised store, then serves the app over it (the data first, as a server
    starts on a loaded graph) with an investigator, an admin and an affiliate key."""
    monkeypatch.setenv("SUPPLYGRAPH_DB", str(tmp_path / "data"))  # the server store's decision file
    with ExitStack() as stack:

        def start(*inputs: Path) -> App:
            load_bundles(store, list(inputs))
            keyring = KeyRing(tmp_path / "keys.sqlite")
            keys = {
                "investigator": keyring.create("investigator", name="inv")[0],
                "admin": keyring.create("admin", name="adm")[0],
                "affiliate": keyring.create("affiliate", "AF-LIN", "lin")[0],
            }
            db = getattr(store, "root", None) or tmp_path / "db"
            application = create_app(Settings(db=db), store, keyring=keyring)
            stack.enter_context(TestClient(application))  # runs the lifespan once; shut down before the store
            return application, keys

        yield start


def client(app: App, who: str, origin: str | None = ORIGIN) -> TestClient:
    application, keys = app
    headers = {"Origin": origin} if origin else {}
    out = TestClient(application, base_url=ORIGIN, follow_redirects=False, headers=headers)  # type: ignore[arg-type]
    login = out.post("/ui/login", data={"key": keys[who], "next": "/ui/"}, headers={"Origin": ORIGIN})
    assert login.status_code == 303, login.text
    return out


def near_teakwood(tmp_path: Path) -> Path:
    """Teakwood's name, no address, 20 km from Teakwood's site: an entry for a person to decide."""
    near = tmp_path / "near.csv"
    near.write_text(
        FACILITIES.read_text().splitlines()[0] + "\nTH2021077TWP9Z1,2024-03-01,Teakwood Precision Plant 1,"
        ",TH,Thailand,13.3,101.0045,Electronics,Fennwick Social Audits "
        "(Auditor),1001-5000,,Assembly,Final Product Assembly,Assembly,Printers,False\n"
    )
    return near


def queue(store) -> dict[str, dict]:
    return {m["id"]: m for m in Decisions.load(matches_file(store)).queue}


def test_entity_queue_side_by_side_and_accept_is_kept(serve, store, tmp_path: Path) -> None:
    near = near_teakwood(tmp_path)
    app = serve(DEMO, FACILITIES, near)
    waiting = queue(store)
    (entry,) = [m for m in waiting.values() if set(m["members"]) == {"FA-TWP1", "TH2021077TWP9Z1"}]
    inv = client(app, "investigator")
    listed = inv.get("/ui/review")
    assert listed.status_code == 200
    assert all(f'data-entry="{m}"' in listed.text for m, e in waiting.items() if e["label"] != "Item")
    page = inv.get(f"/ui/review/entry/{entry['id']}")
    assert page.status_code == 200
    for name in entry["names"]:
        assert name in page.text
    assert f"{entry['score']:.2f}" in page.text and "coordinates" in page.text  # the evidence, side by side
    refused = client(app, "investigator", origin=None).post(f"/ui/review/entry/{entry['id']}/accept")
    assert refused.status_code == 403 and entry["id"] in queue(store)  # no Origin: nothing decided
    done = inv.post(f"/ui/review/entry/{entry['id']}/accept")
    assert done.status_code == 303 and done.headers["location"].startswith("/ui/review?done=")
    assert Decisions.load(matches_file(store)).decided[entry["id"]]["decision"] == "accept"
    assert merged(store, "FA-TWP1") == ["FA-TWP1", "TH2021077TWP9Z1"]  # the graph was rebuilt at once
    assert f'data-entry="{entry["id"]}"' not in inv.get("/ui/review").text
    load_bundles(store, [near])  # a later load re-applies the decision
    assert merged(store, "FA-TWP1") == ["FA-TWP1", "TH2021077TWP9Z1"]
    assert inv.post("/ui/review/entry/nope/accept").status_code == 404


def test_split_and_move_from_the_node_page_stick(serve, store) -> None:
    app = serve(DEMO, FACILITIES)
    assert merged(store, "FA-SH2") == ["CN2021088SHP2A7", "FA-SH2"]  # an automatic merge
    admin = client(app, "admin")
    page = admin.get("/ui/review/node/FA-SH2")
    assert page.status_code == 200
    with FACILITIES.open(newline="") as handle:  # the Open Supply Hub record as its file gave it (latest row)
        name = [r["name"] for r in csv.DictReader(handle) if r["os_id"] == "CN2021088SHP2A7"][-1]
    assert name in page.text
    assert 'value="CN2021088SHP2A7"' in page.text and 'value="FA-SH2"' in page.text
    bad = admin.post("/ui/review/node/FA-SH2/split", data={"record": "FA-NOPE"})
    assert bad.status_code == 422 and "FA-NOPE not merged into FA-SH2" in bad.text
    done = admin.post("/ui/review/node/FA-SH2/split", data={"record": "CN2021088SHP2A7"})
    assert done.status_code == 303, done.text
    assert merged(store, "FA-SH2") == []
    load_bundles(store, [FACILITIES])  # a later load of the same file
    assert merged(store, "FA-SH2") == []
    moved = admin.post("/ui/review/node/CN2021088SHP2A7/move", data={"record": "CN2021088SHP2A7", "to": "FA-DVB"})
    assert moved.status_code == 303 and moved.headers["location"].startswith("/ui/review/node/FA-DVB")
    assert "CN2021088SHP2A7" in merged(store, "FA-DVB")
    decided = Decisions.load(matches_file(store)).decided.values()
    assert sorted(d["decision"] for d in decided) == ["move", "split"]  # the CLI's decision file
    assert admin.get("/ui/review/node/FA-NOPE").status_code == 404
    slashed = admin.get("/ui/review/node/ocds-x%2FFA-NOPE")  # an id with '/' reaches the page, as on /ui/entity
    assert slashed.status_code == 404 and "ocds-x/FA-NOPE" in slashed.text


def test_item_queue_accept_and_reject(serve, store, tmp_path: Path) -> None:
    app = serve(write(tmp_path / "b", FILES))
    items = {i: m for i, m in queue(store).items() if m["label"] == "Item"}
    assert set(items) == {"IT-1~PR-1", "IT-1~PR-2", "IT-2~PR-3"}
    inv = client(app, "investigator")
    listed = inv.get("/ui/review/items")
    assert all(f'data-entry="{i}"' in listed.text for i in items)
    page = inv.get("/ui/review/entry/IT-2~PR-3")
    assert page.status_code == 200 and "Acme Nova X2" in page.text and "Nova X2 Max" in page.text
    assert inv.post("/ui/review/entry/IT-1~PR-2/accept").headers["location"].startswith("/ui/review/items")
    assert inv.post("/ui/review/entry/IT-2~PR-3/reject").status_code == 303
    answer = exposure_for_affiliate(store, "AF-1", date(2026, 1, 1))
    assert {f["id"]: f["basis"] for f in answer.factories} == {"FA-2": "disclosed"}
    assert not [m for m in queue(store).values() if m["label"] == "Item"]


def test_affiliate_keys_get_404_and_change_nothing(serve, store) -> None:
    app = serve(DEMO, FACILITIES)
    before = Decisions.load(matches_file(store))
    some = next(iter(before.queue), {"id": "none"})["id"]
    aff = client(app, "affiliate")
    for path in ("/ui/review", "/ui/review/items", f"/ui/review/entry/{some}", "/ui/review/node/FA-SH2"):
        answer = aff.get(path)
        assert answer.status_code == 404 and "FA-SH2" not in answer.text and "Review" not in answer.text
    for path, form in (
        (f"/ui/review/entry/{some}/accept", {}),
        ("/ui/review/node/FA-SH2/split", {"record": "CN2021088SHP2A7"}),
        ("/ui/review/node/FA-SH2/move", {"record": "CN2021088SHP2A7", "to": "FA-DVB"}),
    ):
        assert aff.post(path, data=form).status_code == 404
    after = Decisions.load(matches_file(store))
    assert after.decided == before.decided and merged(store, "FA-SH2") == ["CN2021088SHP2A7", "FA-SH2"]
    assert client(app, "investigator").get("/ui/review").status_code == 200
    anonymous = TestClient(app[0], base_url=ORIGIN, follow_redirects=False)  # type: ignore[arg-type]
    assert anonymous.get("/ui/review").headers["location"].startswith("/ui/login")
