"""Ids holding `/` (OCDS contracts are `<ocid>/<contract id>`) are reachable from every page and endpoint that lists
them, and a link built from one never points at another page (`../../login` stays an id)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from supplygraph.api.app import create_app
from supplygraph.api.keys import KeyRing
from supplygraph.graph.settings import Settings
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO
from tests.test_api_access import open_test_store
from tests.test_ui_views import Ui

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sources"
AS_OF = "2026-06-01"
SLASHED = {"FA/SLASH/1": "Slashworth Components", "../../login": "Dotpath Cable Works"}


def slash_bundle(folder: Path) -> Path:
    bundle = folder / "slashes"
    bundle.mkdir()
    rows = "".join(f'"{i}","{n}",VN\n' for i, n in SLASHED.items())
    (bundle / "factories.csv").write_text("factory_id,name,country\n" + rows)
    links = "".join(f'"{i}",FA-SH2,SRC-01\n' for i in SLASHED)
    (bundle / "supply.csv").write_text("supplier_factory_id,buyer_factory_id,source_id\n" + links)
    return bundle


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def ui(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    folder = tmp_path_factory.mktemp(f"slash-{request.param}")
    store = open_test_store(request.param, folder)
    try:
        load_bundles(store, [DEMO, slash_bundle(folder), FIXTURES / "tenders.json"])
        keyring = KeyRing(folder / "keys.sqlite")
        keys = {"investigator": keyring.create("investigator", name="inv")[0]}
        app = create_app(Settings(db=folder / "db"), store, keyring=keyring)
        from fastapi.testclient import TestClient

        with TestClient(app):
            yield Ui(app, keys, store)
    finally:
        store.close()


def v1(ui: Ui, url: str) -> dict:
    client = ui.client()
    answer = client.get(url, headers={"Authorization": f"Bearer {ui.keys['investigator']}"})
    assert answer.status_code == 200, (url, answer.text)
    return answer.json()


@pytest.mark.parametrize("factory", list(SLASHED))
def test_v1_reaches_a_factory_whose_id_holds_a_slash(ui: Ui, factory: str) -> None:
    listed = v1(ui, f"/v1/affiliates/AF-UNB/exposure?as_of={AS_OF}")
    assert {f["id"]: f["tier"] for f in listed["factories"]}[factory] == 2
    for form in (quote(factory, safe=""), factory):  # %2F-encoded as links are built, or as typed
        if form.startswith(".."):
            form = quote(factory, safe="")  # a client normalises a raw ../ away before it is sent
        reverse = v1(ui, f"/v1/factories/{form}/exposed-affiliates?as_of={AS_OF}")
        assert reverse["item"]["id"] == factory and "AF-UNB" in {a["id"] for a in reverse["items"]}
        entity = v1(ui, f"/v1/entities/factory/{form}")
        assert entity["id"] == factory and entity["name"] == SLASHED[factory]
    found = v1(ui, f"/v1/entities?q={quote(SLASHED[factory])}")
    assert factory in {i["id"] for i in found["items"]}


def test_v1_reaches_an_ocds_contract_and_an_affiliate_by_slashed_id(ui: Ui) -> None:
    contracts = [r["id"] for r in ui.store.run("MATCH (c:Contract) WHERE c.id CONTAINS '/' RETURN c.id AS id")]
    assert contracts
    for contract in contracts:
        assert v1(ui, f"/v1/entities/contract/{quote(contract, safe='')}")["id"] == contract


def links(page: str, containing: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page) if containing in unquote(html.unescape(h))]


@pytest.mark.parametrize("factory", list(SLASHED))
def test_ui_links_to_a_slashed_id_reach_it(ui: Ui, factory: str) -> None:
    client = ui.client("investigator")
    pages = [
        client.get("/ui/search", params={"q": SLASHED[factory]}),
        client.get("/ui/exposure/affiliate/AF-UNB", params={"as_of": AS_OF}),
        client.get(f"/ui/entity/factory/{quote(factory, safe='')}"),
    ]
    followed = 0
    for page in pages:
        assert page.status_code == 200, page.text
        for href in links(page.text, factory):
            path = href.split("?")[0]
            assert "/../" not in path and quote(factory, safe="") in path, href  # `/` encoded: stays one id
            answer = client.get(href)
            assert answer.status_code == 200, (href, answer.text[:300])
            assert html.escape(factory) in answer.text or factory in answer.text
            followed += 1
    assert followed >= 5  # search (entity, exposure), entity page (exposure view, three exports), ...
    drawing = client.get(f"/ui/api/neighbours/factory/{quote(factory, safe='')}")
    assert drawing.status_code == 200 and "FA-SH2" in drawing.text
