"""/v1/watches on both stores: tenancy (another tenant's watch is 404), changes paged by cursor, the feed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from xml.etree import ElementTree as ET

import pytest

from tests.test_api_access import AFFILIATES, Api, serve_demo

LIN, DBH = "affiliate:AF-LIN", "affiliate:AF-DBH"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from serve_demo(request.param, tmp_path_factory)


def on_day(api: Api, day: date) -> None:
    api.client.app.state.watches.today = lambda: day  # type: ignore[attr-defined]


def create(api: Api, who: str, body: dict) -> object:
    return api.call(who, "POST", "/v1/watches", body)


def test_tenancy(api: Api) -> None:
    on_day(api, date(2026, 6, 1))
    own = create(api, LIN, {"kind": "affiliate", "target": "AF-LIN"})
    assert own.status_code == 201, own.text
    made = own.json()
    assert made["secret"].startswith("whsec_") and made["feed_url"].startswith("/v1/feeds/feed_")
    other = create(api, LIN, {"kind": "affiliate", "target": "AF-DBH"})
    unknown = create(api, LIN, {"kind": "affiliate", "target": "AF-NOPE"})
    assert other.status_code == unknown.status_code == 404 and other.json()["detail"] == unknown.json()["detail"]
    assert create(api, LIN, {"kind": "factory", "target": "FA-TWP1"}).status_code == 403
    reverse = create(api, "investigator", {"kind": "factory", "target": "FA-TWP1"})
    assert reverse.status_code == 201
    assert create(api, "investigator", {"kind": "factory", "target": "FA-NOPE"}).status_code == 404
    wid, rid = made["id"], reverse.json()["id"]
    for path in (f"/v1/watches/{wid}", f"/v1/watches/{wid}/changes", f"/v1/watches/{wid}/deliveries"):
        assert api.call(LIN, "GET", path).status_code == 200
        for who in (DBH, "investigator", "researcher"):  # another tenant: as an unknown id
            theirs, nobody = api.call(who, "GET", path), api.call(who, "GET", path.replace(wid, "w_000000000000"))
            assert theirs.status_code == nobody.status_code == 404
            assert theirs.json()["detail"].replace(wid, "w_000000000000") == nobody.json()["detail"]
        assert api.call("admin", "GET", path).status_code == 200
    assert api.call(DBH, "DELETE", f"/v1/watches/{wid}").status_code == 404
    assert api.call(DBH, "POST", f"/v1/watches/{wid}/feed").status_code == 404
    assert [w["id"] for w in api.call(LIN, "GET", "/v1/watches").json()["items"]] == [wid]
    assert [w["id"] for w in api.call("investigator", "GET", "/v1/watches").json()["items"]] == [rid]
    assert {wid, rid} <= {w["id"] for w in api.call("admin", "GET", "/v1/watches").json()["items"]}
    assert api.call(DBH, "GET", "/v1/watches").json()["items"] == []
    assert api.call(LIN, "POST", "/v1/watches/evaluate").status_code == 403
    for who in (LIN, "investigator"):
        assert api.call(who, "PUT", "/v1/webhook-hosts/127.0.0.1").status_code == 403
    assert api.call(LIN, "DELETE", f"/v1/watches/{wid}").status_code == 204
    assert api.call(LIN, "GET", f"/v1/watches/{wid}").status_code == 404
    assert api.call("investigator", "DELETE", f"/v1/watches/{rid}").status_code == 204


def test_changes_are_paged_and_name_nothing_of_other_affiliates(api: Api) -> None:
    on_day(api, date(2019, 1, 1))  # before every contract: an empty baseline
    wid = create(api, LIN, {"kind": "affiliate", "target": "AF-LIN"}).json()["id"]
    on_day(api, date(2026, 6, 1))
    done = api.call("admin", "POST", "/v1/watches/evaluate").json()  # (or the server's own pass, at the same time)
    assert not done["failed"]
    pages, cursor = [], "0"
    while True:
        page = api.call(LIN, "GET", f"/v1/watches/{wid}/changes?since={cursor}&limit=4").json()
        pages.append(page["items"])
        assert len(page["items"]) <= 4
        if not page["more"]:
            break
        cursor = page["next"]
    events = [e for page in pages for e in page]
    assert len({e["id"] for e in events}) == len(events) > 5
    assert [int(e["cursor"]) for e in events] == sorted(int(e["cursor"]) for e in events)
    last = api.call(LIN, "GET", f"/v1/watches/{wid}/changes?since={events[-1]['cursor']}").json()
    assert last["items"] == [] and last["next"] == events[-1]["cursor"]
    exposure = api.call(LIN, "GET", "/v1/affiliates/AF-LIN/exposure?as_of=2026-06-01").json()
    now = {i["id"]: i["path"] for s in ("factories", "agencies", "findings") for i in exposure[s]}
    for event in events:  # all added: each item with its path as the answer of the day has it
        assert event["path"] == now[event["item"]["id"]] and event["cause"]["kind"] == "day"
    text = json.dumps(events, ensure_ascii=False)
    assert not [x for a, n in AFFILIATES.items() if a != "AF-LIN" for x in (a, n) if x in text]
    assert api.call(LIN, "GET", f"/v1/watches/{wid}/changes?since=abc").status_code == 422
    again = api.call("admin", "POST", "/v1/watches/evaluate").json()
    assert again["events"] == 0


def test_atom_feed_with_a_revocable_secret_url(api: Api) -> None:
    on_day(api, date(2019, 1, 1))
    made = create(api, LIN, {"kind": "affiliate", "target": "AF-LIN"}).json()
    on_day(api, date(2026, 6, 1))
    api.call("admin", "POST", "/v1/watches/evaluate")
    feed = api.client.get(made["feed_url"])  # no key
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)
    entries = root.findall(f"{ATOM}entry")
    changes = api.call(LIN, "GET", f"/v1/watches/{made['id']}/changes?limit=500").json()["items"]
    assert [e.find(f"{ATOM}id").text for e in entries] == [
        f"urn:supplygraph:event:{c['id']}" for c in reversed(changes)
    ]
    assert all(json.loads(e.find(f"{ATOM}content").text)["watch"] == made["id"] for e in entries)
    renewed = api.call(LIN, "POST", f"/v1/watches/{made['id']}/feed").json()["feed_url"]
    assert api.client.get(made["feed_url"]).status_code == 404
    assert api.client.get(renewed).status_code == 200
    assert api.call(LIN, "DELETE", f"/v1/watches/{made['id']}/feed").status_code == 204
    assert api.client.get(renewed).status_code == 404
    assert api.client.get("/v1/feeds/feed_nothing").status_code == 404


def test_webhooks_only_to_allowed_hosts(api: Api) -> None:
    on_day(api, date(2026, 6, 1))
    body = {"kind": "affiliate", "target": "AF-LIN", "webhook": "http://127.0.0.1:9/hook"}
    refused = create(api, LIN, body)
    assert refused.status_code == 403 and "not allowed" in refused.json()["detail"]
    assert api.call("admin", "PUT", "/v1/webhook-hosts/127.0.0.1").json() == {"host": "127.0.0.1"}
    assert create(api, LIN, body).status_code == 201
    assert create(api, LIN, {**body, "webhook": "file:///etc/passwd"}).status_code == 422
    assert api.call("admin", "DELETE", "/v1/webhook-hosts/127.0.0.1").status_code == 204
    assert api.call("admin", "GET", "/v1/webhook-hosts").json()["items"] == []


def test_a_tenant_whose_keys_are_revoked_pauses(api: Api) -> None:
    on_day(api, date(2019, 1, 1))
    made = create(api, "affiliate:AF-UNB", {"kind": "affiliate", "target": "AF-UNB"}).json()
    assert api.client.get(made["feed_url"]).status_code == 200
    for key in api.keyring.list():
        if key.affiliate_id == "AF-UNB" and key.revoked is None:
            api.keyring.revoke(key.id)
    assert api.client.get(made["feed_url"]).status_code == 404  # the feed URL is no way around the revocation
    on_day(api, date(2026, 6, 1))
    api.call("admin", "POST", "/v1/watches/evaluate")
    assert api.call("admin", "GET", f"/v1/watches/{made['id']}/changes").json()["items"] == []  # not answered
    api.keyring.create("affiliate", "AF-UNB", "unb again")  # a new key of the affiliate resumes it
    on_day(api, date(2026, 6, 2))
    api.call("admin", "POST", "/v1/watches/evaluate")
    assert api.call("admin", "GET", f"/v1/watches/{made['id']}/changes").json()["items"]
