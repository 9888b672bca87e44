"""The HTTP API on both stores: every endpoint × every role × own/other affiliate.

Asserts status codes, and that an affiliate key's responses never contain another affiliate's id or
name anywhere in the body. Also: answers match the registry (exposure = `supplygraph exposure --json`),
filters, pagination bounds, entity and path shapes.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from supplygraph.api.app import create_app
from supplygraph.api.keys import KeyRing
from supplygraph.graph.settings import Neo4jSettings, Settings
from supplygraph.graph.stores.protocol import Store
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.registry import get_query

from tests.conftest import DEMO, require_neo4j

AS_OF = "2026-06-01"
with (DEMO / "affiliates.csv").open() as _fh:
    AFFILIATES = {row["affiliate_id"]: row["name"] for row in csv.DictReader(_fh)}
# Members and consortia (AF-LIN in AF-TIPO, AF-UNB in AF-NUPC), and a stand-alone hospital.
AFFILIATE_KEYS = ["AF-LIN", "AF-TIPO", "AF-UNB", "AF-NUPC", "AF-DBH"]
ROLES = ["investigator", "researcher", "admin"]


@dataclass
class Api:
    client: TestClient
    store: Store
    keys: dict[str, str]  # "investigator", ..., "affiliate:AF-LIN" -> key
    keyring: KeyRing

    def call(self, who: str | None, method: str, url: str, body: Any = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who else {}
        headers.update(kwargs.pop("headers", {}))
        if body is not None:
            kwargs["json"] = body
        return self.client.request(method, url, headers=headers, **kwargs)


def open_test_store(kind: str, folder: Path) -> Store:
    if kind == "ladybug":
        from supplygraph.graph.stores.ladybug_store import LadybugStore

        return LadybugStore(folder / "db")
    from supplygraph.graph.stores.neo4j_store import Neo4jStore

    settings = Neo4jSettings()
    store = Neo4jStore(require_neo4j(), settings.user, settings.password, settings.database)
    store.wipe()
    return store


@contextmanager
def make_api(store: Store, folder: Path, **settings: Any) -> Iterator[Api]:
    """The app over `store` (the caller loads it) with one key per role and per affiliate."""
    keyring = KeyRing(folder / "keys.sqlite")
    keys = {role: keyring.create(role, name=role)[0] for role in ROLES}
    keys.update({f"affiliate:{a}": keyring.create("affiliate", a, a)[0] for a in AFFILIATES})
    app = create_app(Settings(db=folder / "db", **settings), store, keyring=keyring)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, store, keys, keyring)


def serve_demo(kind: str, tmp_path_factory: pytest.TempPathFactory, **settings: Any) -> Iterator[Api]:
    """For module-scoped fixtures: the demo graph on a store of `kind`, served with `settings`."""
    folder = tmp_path_factory.mktemp(f"api-{kind}")
    store = open_test_store(kind, folder)
    try:
        load_bundles(store, [DEMO])
        with make_api(store, folder, **settings) as made:
            yield made
    finally:
        store.close()


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from serve_demo(request.param, tmp_path_factory)


def demo_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(DEMO.glob("*.csv")):
            archive.write(path, path.name)
    return buffer.getvalue()


# ------------------------------------------------------------------ the matrix

Case = tuple[str, str, Any, str]  # method, url, body, what it is about: "own:<id>", "other:<id>" or a group


def cases() -> list[Case]:
    out: list[Case] = [("GET", "/healthz", None, "open")]
    for target in AFFILIATES:
        about = f"affiliate:{target}"
        out += [
            ("GET", f"/v1/affiliates/{target}/exposure?as_of={AS_OF}", None, about),
            ("GET", f"/v1/affiliates/{target}/exposure?as_of={AS_OF}&min_severity=high", None, about),
            ("POST", "/v1/queries/exposure", {"affiliate_id": target, "as_of": AS_OF}, about),
            ("GET", f"/v1/affiliates/{target}/exposure?as_of={AS_OF}&provenance=true", None, about),
            ("POST", "/v1/queries/exposure", {"affiliate_id": target, "as_of": AS_OF, "provenance": True}, about),
            ("POST", "/v1/queries/contracts_of_affiliate", {"affiliate_id": target}, about),
            ("GET", f"/v1/entities/affiliate/{target}", None, about),
        ]
    for kind, plural, item in (
        ("factory", "factories", "FA-TWP1"),
        ("agency", "agencies", "AG-MM2"),
        ("finding", "findings", "FI-101"),
        ("factory", "factories", "FA-JED"),
    ):
        out.append(("GET", f"/v1/{plural}/{item}/exposed-affiliates?as_of={AS_OF}", None, f"reverse:{item}"))
        out.append(
            ("POST", "/v1/queries/exposed_affiliates", {"kind": kind, "item_id": item, "as_of": AS_OF}, f"reverse:{item}")
        )
    out += [
        ("GET", "/v1/factories/FA-NOPE/exposed-affiliates", None, "unknown"),
        ("GET", "/v1/affiliates/AF-NOPE/exposure", None, "unknown-affiliate"),
        ("GET", "/v1/entities?q=", None, "search"),
        ("GET", "/v1/entities?q=university", None, "search"),
        ("GET", "/v1/entities?type=affiliate&limit=500", None, "search"),
        ("GET", f"/v1/entities/factory/FA-TWP1?as_of={AS_OF}", None, "entity:factory:FA-TWP1"),
        ("GET", f"/v1/entities/company/CO-KOR?as_of={AS_OF}", None, "entity:company:CO-KOR"),
        ("GET", f"/v1/entities/contract/CT-LIN-01?as_of={AS_OF}", None, "entity:contract:CT-LIN-01"),
        ("GET", f"/v1/entities/agency/AG-MM2?as_of={AS_OF}", None, "entity:agency:AG-MM2"),
        ("GET", f"/v1/entities/finding/FI-203?as_of={AS_OF}", None, "entity:finding:FI-203"),
        ("GET", f"/v1/entities/source/SRC-07?as_of={AS_OF}", None, "entity:source:SRC-07"),
        ("GET", f"/v1/entities/finding/FI-101?as_of={AS_OF}", None, "entity:finding:FI-101"),
        ("GET", f"/v1/entities/agency/FA-TWP1?as_of={AS_OF}", None, "entity:agency:FA-TWP1"),
        ("GET", "/v1/paths?from=AF-LIN&to=AG-MM2", None, "paths"),
        ("GET", "/v1/paths?from=FA-SH2&to=FA-FOIL", None, "paths"),
        ("GET", "/v1/queries", None, "list"),
        ("GET", "/v1/schema", None, "list"),
        ("GET", "/v1/watches", None, "list"),
        ("POST", "/v1/queries/node_counts", {}, "investigator-query"),
        ("POST", "/v1/queries/agency_chains", {"factory_id": "FA-TWP1", "as_of": AS_OF}, "investigator-query"),
        ("POST", "/v1/cypher", {"query": "MATCH (f:Factory) RETURN count(*) AS n"}, "cypher"),
        ("POST", "/v1/loads?name=demo&dry_run=true", "ZIP", "load"),
    ]
    return out


def expected(who: str, about: str, mine: set[str] | None = None, named: set[tuple[str, str]] | None = None) -> int:
    """The status `who` gets for a case; `mine`: the items of an affiliate key's own exposure answer, `named`:
    the (type, id) of every entity that answer names."""
    if about == "open":
        return 200
    if who in (None, "bad"):
        return 401
    own = who.split(":", 1)[1] if who.startswith("affiliate:") else None
    if about.startswith("affiliate:"):
        return 200 if own is None or about == f"affiliate:{own}" else 404
    if about in ("unknown", "unknown-affiliate"):
        return 404
    if own is not None and about.startswith("reverse:"):  # only about items of its own answer
        return 200 if about.split(":", 1)[1] in (mine or set()) else 404
    if own is not None and about.startswith("entity:"):  # what its own answer names, by type
        kind, item = about.split(":")[1:]
        return 200 if (kind, item) in (named or set()) else 404
    if about.startswith("entity:"):
        return 404 if about == "entity:agency:FA-TWP1" else 200
    if own is not None:  # an affiliate key on anything not about an affiliate
        return {"search": 200, "list": 200}.get(about, 403)
    if about == "cypher":
        return 200 if who in ("researcher", "admin") else 403
    if about == "load":
        return 200 if who == "admin" else 403
    return 200


WHO = [None, "bad", *ROLES, *(f"affiliate:{a}" for a in AFFILIATE_KEYS)]
KINDS = {"factories": "factory", "agencies": "agency", "findings": "finding"}


def answer_names(answer: dict[str, Any]) -> set[tuple[str, str]]:
    """(type, id) of what an exposure answer names: items by their kind, sources, the other path nodes as any
    of contract, product, item or company."""
    named = {("affiliate", answer["affiliate"]["id"])}
    path_ids = set()
    for section, kind in KINDS.items():
        for item in answer[section]:
            named.add((kind, item["id"]))
            named.update(("source", s) for s in item["sources"])
            path_ids.update(item["path"])
    for gap in answer["gaps"]:  # a product assembled nowhere known, or a contract item without a product
        path_ids.update(i for i in (gap["id"], gap.get("item")) if i)
    items = {i for _k, i in named}
    named.update((kind, i) for i in path_ids - items for kind in ("contract", "product", "item", "company"))
    return named


@pytest.mark.parametrize("who", WHO, ids=lambda w: str(w))
def test_access_matrix(api: Api, who: str | None) -> None:
    if who == "bad":
        api.keys["bad"] = "sg_" + "x" * 43
    own = who.split(":", 1)[1] if who and who.startswith("affiliate:") else None
    others = [(a, n) for a, n in AFFILIATES.items() if a != own]
    mine: set[str] = set()
    named: set[tuple[str, str]] = set()
    if own is not None:
        answer = api.call(who, "GET", f"/v1/affiliates/{own}/exposure?as_of={AS_OF}").json()
        mine = {item["id"] for section in ("factories", "agencies", "findings") for item in answer[section]}
        named = answer_names(answer)
    failures = []
    for method, url, body, about in cases():
        if body == "ZIP":
            headers = {"Authorization": f"Bearer {api.keys[who]}"} if who else {}
            response = api.client.post(url, content=demo_zip(), headers={**headers, "Content-Type": "application/zip"})
        else:
            response = api.call(who, method, url, body)
        want = expected(who, about, mine, named)
        if response.status_code != want:
            failures.append(f"{method} {url} {body}: {response.status_code} != {want}: {response.text[:200]}")
            continue
        if response.status_code >= 400:
            problem = response.json()
            assert response.headers["content-type"].startswith("application/problem+json")
            assert {"type", "title", "status", "detail"} <= set(problem) and problem["status"] == want
            if want == 401:
                assert response.headers["www-authenticate"].startswith("Bearer")
        if own is not None:
            text = response.text + json.dumps(response.json(), ensure_ascii=False)
            leaked = [x for pair in others for x in pair if x in text]
            if leaked:
                failures.append(f"{method} {url} {body}: names other affiliates {leaked}: {response.text[:300]}")
    assert not failures, "\n".join(failures)


def test_affiliate_keys_see_themselves_where_they_are_exposed(api: Api) -> None:
    for own in AFFILIATE_KEYS:
        investigator = api.call("investigator", "GET", f"/v1/factories/FA-TWP1/exposed-affiliates?as_of={AS_OF}").json()
        answer = api.call(f"affiliate:{own}", "GET", f"/v1/factories/FA-TWP1/exposed-affiliates?as_of={AS_OF}")
        theirs = [a for a in investigator["items"] if a["id"] == own]
        if not theirs:  # not in its own answer: 404, as an unknown id, saying nothing about who is exposed
            assert answer.status_code == 404
            continue
        answer = answer.json()
        assert answer["items"] == theirs
        assert answer["count"] == answer["leverage"]["affiliates"] == len(theirs)
    # AF-LIN buys under AF-TIPO's framework; both are exposed to the Thai printer plant, AF-DBH is not.
    assert {a["id"] for a in investigator["items"]} >= {"AF-LIN", "AF-TIPO"}
    assert "AF-DBH" not in {a["id"] for a in investigator["items"]}


def test_consortium_key_covers_its_frameworks_call_offs(api: Api) -> None:
    answer = api.call("affiliate:AF-TIPO", "GET", f"/v1/affiliates/AF-TIPO/exposure?as_of={AS_OF}").json()
    paths = [f["path"] for f in answer["factories"]]
    assert ["AF-TIPO", "CT-TIPO-FW", "CT-LIN-01"] in [p[:3] for p in paths]


def test_exposure_is_the_cli_json(api: Api) -> None:
    for affiliate in ("AF-LIN", "AF-UCB", "AF-NUPC"):
        url = f"/v1/affiliates/{affiliate}/exposure?as_of={AS_OF}&depth=4"
        response = api.call("investigator", "GET", url)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        want = get_query("exposure").run(api.store, {"affiliate_id": affiliate, "as_of": AS_OF, "depth": 4})
        assert response.json() == json.loads(json.dumps(want))
        assert list(response.json()) == ["affiliate", "as_of", "summary", "findings", "factories", "agencies", "gaps", "sources"]
        again = api.call(f"affiliate:{affiliate}", "GET", url)
        assert again.content == response.content  # the cached answer is byte-identical
        plain = api.call("investigator", "GET", url, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.content == response.content
        if api.store.dialect == "ladybug":
            assert again.headers["x-cache"] == "hit" and again.headers["content-encoding"] == "gzip"


def test_exposure_with_provenance_is_the_cli_json(api: Api) -> None:
    """provenance=true gives items their origins and adds the paths' other nodes and links, on GET and POST
    alike, cached apart from the answer without them."""
    for affiliate in ("AF-LIN", "AF-NUPC"):
        url = f"/v1/affiliates/{affiliate}/exposure?as_of={AS_OF}"
        params = {"affiliate_id": affiliate, "as_of": AS_OF, "provenance": True}
        want = json.loads(json.dumps(get_query("exposure").run(api.store, params)))
        assert list(want) == ["affiliate", "as_of", "summary", "findings", "factories", "agencies", "gaps", "sources", "provenance"]
        assert want["provenance"]["links"] and all(link["origins"] for link in want["provenance"]["links"])
        assert api.call(f"affiliate:{affiliate}", "GET", url + "&provenance=true").json() == want
        assert api.call(f"affiliate:{affiliate}", "POST", "/v1/queries/exposure", params).json() == want
        assert all(f["origins"] for f in want["factories"] + want["agencies"] + want["findings"])
        plain = api.call(f"affiliate:{affiliate}", "GET", url + "&provenance=false").json()
        assert plain == api.call(f"affiliate:{affiliate}", "POST", "/v1/queries/exposure", {**params, "provenance": False}).json()
        assert "provenance" not in plain and not any("origins" in f for f in plain["factories"] + plain["agencies"])
        for kind in ("factories", "agencies", "findings"):
            assert plain[kind] == [{k: v for k, v in f.items() if k != "origins"} for f in want[kind]]
    bad = api.call("investigator", "GET", "/v1/affiliates/AF-LIN/exposure?provenance=maybe")
    assert bad.status_code == 422 and "provenance" in bad.text
    bad = api.call("investigator", "POST", "/v1/queries/exposure", {"affiliate_id": "AF-LIN", "provenance": "maybe"})
    assert bad.status_code == 422 and "provenance" in bad.text


def test_exposure_filters_apply_to_findings(api: Api) -> None:
    url = f"/v1/affiliates/AF-LIN/exposure?as_of={AS_OF}"
    everything = api.call("investigator", "GET", url).json()
    severe = api.call("investigator", "GET", url + "&min_severity=high").json()
    fees = api.call("investigator", "GET", url + "&category=recruitment_fees").json()
    assert {f["severity"] for f in severe["findings"]} <= {"high", "critical"}
    assert {f["id"] for f in severe["findings"]} == {
        f["id"] for f in everything["findings"] if f["severity"] in ("high", "critical")
    }
    assert {f["id"] for f in fees["findings"]} == {"FI-203", "FI-204"}
    assert severe["factories"] == everything["factories"] and fees["agencies"] == everything["agencies"]
    bad = api.call("investigator", "GET", url + "&min_severity=huge")
    assert bad.status_code == 422 and "min_severity" in bad.json()["detail"]


def test_pagination_is_bounded(api: Api) -> None:
    for url in (
        "/v1/entities?limit=501",
        "/v1/entities?limit=0",
        "/v1/entities?offset=-1",
        "/v1/factories/FA-TWP1/exposed-affiliates?limit=1000",
    ):
        response = api.call("investigator", "GET", url)
        assert response.status_code == 422, url
        name = url.split("?")[1].split("=")[0]
        assert response.json()["errors"][0]["parameter"] == name
    page = api.call("investigator", "GET", "/v1/entities?type=factory&limit=5&offset=10").json()
    whole = api.call("investigator", "GET", "/v1/entities?type=factory&limit=500").json()
    assert page["count"] == whole["count"] == 13
    assert page["items"] == whole["items"][10:15]
    mixed = api.call("investigator", "GET", "/v1/entities?q=heron&limit=2&offset=1").json()
    every = api.call("investigator", "GET", "/v1/entities?q=heron").json()
    assert mixed["items"] == every["items"][1:3] and mixed["count"] == every["count"] >= 4


def test_entity_detail(api: Api) -> None:
    entity = api.call("investigator", "GET", "/v1/entities/factory/FA-SH2?limit=3").json()
    assert entity["name"] == "Silver Heron Assembly Plant 2" and entity["properties"]["country"] == "CN"
    neighbours = entity["neighbours"]
    assert len(neighbours["items"]) == 3 and neighbours["count"] == 10 and neighbours["rest"] == 7
    operated = next(
        n
        for n in api.call("investigator", "GET", "/v1/entities/factory/FA-SH2").json()["neighbours"]["items"]
        if n["relationship"] == "OPERATED_BY"
    )
    assert operated["direction"] == "out" and operated["node"] == {
        "type": "company",
        "id": "CO-SHM",
        "name": "Silver Heron Manufacturing Co., Ltd.",
    }
    assert {"SRC-01", "SRC-03"} <= {s["id"] for s in entity["sources"]}
    finding = api.call("investigator", "GET", "/v1/entities/finding/FI-203").json()
    assert {s["id"] for s in finding["sources"]} == {"SRC-09", "SRC-10"}
    assert api.call("investigator", "GET", "/v1/entities/factory/AG-MM2").status_code == 404
    assert api.call("investigator", "GET", "/v1/entities/widget/X").status_code == 422


def test_own_affiliate_entity_names_no_other_affiliate(api: Api) -> None:
    mine = api.call("affiliate:AF-LIN", "GET", "/v1/entities/affiliate/AF-LIN").json()
    assert "parent_id" not in mine["properties"]
    assert {n["node"]["type"] for n in mine["neighbours"]["items"]} == {"contract"}
    full = api.call("investigator", "GET", "/v1/entities/affiliate/AF-LIN").json()
    assert full["properties"]["parent_id"] == "AF-TIPO"
    assert "affiliate" in {n["node"]["type"] for n in full["neighbours"]["items"]}
    found = api.call("affiliate:AF-LIN", "GET", "/v1/entities?q=municipality").json()
    assert [i["id"] for i in found["items"]] == ["AF-LIN"]


def test_paths(api: Api) -> None:
    answer = api.call("investigator", "GET", "/v1/paths?from=AF-LIN&to=AG-MM2").json()
    assert answer["count"] == 2 and {p["length"] for p in answer["items"]} == {6}
    first = answer["items"][0]
    assert [n["id"] for n in first["nodes"]][:2] == ["AF-LIN", "CT-LIN-01"]
    assert [r["type"] for r in first["relationships"]] == [
        "HOLDS",
        "INCLUDES",
        "ASSEMBLED_AT",
        "PLACES_WORKERS_AT",
        "RECRUITS_THROUGH",
        "RECRUITS_THROUGH",
    ]
    assert [r["direction"] for r in first["relationships"]] == ["out", "out", "out", "in", "out", "out"]
    missing = api.call("investigator", "GET", "/v1/paths?from=AF-LIN&to=NOPE")
    assert missing.status_code == 404 and "to" in missing.json()["detail"]
    same = api.call("investigator", "GET", "/v1/paths?from=AF-LIN&to=AF-LIN")
    assert same.status_code == 422


def test_named_queries_check_ids_and_values(api: Api) -> None:
    unknown = api.call("investigator", "POST", "/v1/queries/contracts_of_affiliate", {"affiliate_id": "AF-NOPE"})
    assert unknown.status_code == 404
    missing = api.call("investigator", "POST", "/v1/queries/agency_chains", {})
    assert missing.status_code == 422 and missing.json()["errors"][0]["parameter"] == "factory_id"
    nested = api.call("investigator", "POST", "/v1/queries/node_counts", {"x": [1]})
    assert nested.status_code == 422 and nested.json()["errors"][0]["parameter"] == "x"
    assert api.call("investigator", "POST", "/v1/queries/nope", {}).status_code == 404
    rows = api.call("investigator", "POST", "/v1/queries/direct_suppliers", {"factory_id": "FA-SH2", "as_of": AS_OF})
    assert rows.status_code == 200 and rows.json()["columns"][0] == "supplier"


def test_revoked_key_stops_working(api: Api) -> None:
    key, info = api.keyring.create("investigator", name="short-lived")
    headers = {"Authorization": f"Bearer {key}"}
    assert api.client.get("/v1/queries", headers=headers).status_code == 200
    api.keyring.revoke(info.id)
    refused = api.client.get("/v1/queries", headers=headers)
    assert refused.status_code == 401 and "invalid_token" in refused.headers["www-authenticate"]
    assert api.client.get("/v1/queries", headers={"Authorization": f"Basic {key}"}).status_code == 401
