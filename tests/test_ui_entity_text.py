"""Entity pages read as text, not Python (on both stores): lists as lists, no findings box on a finding's own
page, and findings that are not closed (disputed, in remediation) said to be that, with their status; ids
naming other entities link to their pages, and only http(s) URLs are links."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from supplygraph.api.ui.entity_links import property_links, web_url

from tests import oracle
from tests.conftest import DEMO
from tests.test_api_access import Api, serve_demo


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def ui(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    for api in serve_demo(request.param, tmp_path_factory):
        yield login(api)


def login(api: Api) -> TestClient:
    client = TestClient(api.client.app, base_url="https://testserver", headers={"Origin": "https://testserver"})
    assert client.post("/ui/login", data={"key": api.keys["investigator"]}, follow_redirects=False).status_code == 303
    return client


def test_lists_are_lists_and_findings_boxes_say_what_they_hold(ui: TestClient) -> None:
    factory = ui.get("/ui/entity/factory/FA-TWP1").text
    properties = factory.split('id="properties"')[1].split("</table>")[0]
    assert "['" not in properties and "bundle/factories.csv:" in properties
    box = factory.split('id="findings"')[1].split("</ul>")[0]
    assert "FI-206" in box and "in_remediation" in box  # not closed, and its status says how
    assert "Findings not closed" in factory and "Open findings" not in factory
    finding = ui.get("/ui/entity/finding/FI-203").text
    assert 'id="findings"' not in finding and "Findings not closed" not in finding
    assert "['" not in finding.split('id="properties"')[1].split("</table>")[0]


def test_ids_naming_entities_link_to_their_pages(ui: TestClient) -> None:
    """operator_id, subject_id, source_ids: each id a link to that entity's page, as the input files name them."""
    rows = oracle.read_bundle(DEMO)
    for factory in rows["factories"]:
        if not factory["operator_id"]:
            continue
        page = ui.get(f"/ui/entity/factory/{factory['factory_id']}").text
        row = page.split('id="properties"')[1].split("</table>")[0].split("<th>operator_id</th>")[1].split("</tr>")[0]
        assert f'<a class="entity-ref" href="/ui/entity/company/{factory["operator_id"]}">' in row
        assert ui.get(f"/ui/entity/company/{factory['operator_id']}").status_code == 200  # the link opens
    for finding in rows["findings"]:
        page = ui.get(f"/ui/entity/finding/{finding['finding_id']}").text
        properties = page.split('id="properties"')[1].split("</table>")[0]
        subject = f'href="/ui/entity/{finding["subject_type"]}/{finding["subject_id"]}"'
        assert subject in properties.split("<th>subject_id</th>")[1].split("</tr>")[0]
        for source in filter(None, finding["source_id"].split("|")):
            assert f'href="/ui/entity/source/{source}"' in properties


def test_source_urls_are_links_and_only_web_ones(ui: TestClient) -> None:
    rows = oracle.read_bundle(DEMO)
    for source in rows["sources"]:
        page = ui.get(f"/ui/entity/source/{source['source_id']}").text
        assert f'<a class="web" href="{source["url"]}" rel="noopener noreferrer">' in page
    factory = ui.get("/ui/entity/factory/FA-TWP1").text.split('id="sources"')[1].split("</ul>")[0]
    linked = re.findall(r'<a class="web" href="([^"]+)" rel="noopener noreferrer">', factory)
    assert linked and all(url.startswith("https://") for url in linked)
    for refused in ("javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", " javascript:x", "ftp://a/b"):
        assert web_url(refused) is None
    assert web_url("https://example.org/a") == "https://example.org/a" and web_url("HTTP://x.org") == "HTTP://x.org"


def test_a_list_of_ids_gives_a_link_each() -> None:
    named = property_links("Contract", {"supplier_id": ["CO-A", "CO-B"], "framework_id": "CT-1", "affiliate_id": None})
    assert named == {"supplier_id": [{"type": "company", "id": "CO-A"}, {"type": "company", "id": "CO-B"}],
                     "framework_id": [{"type": "contract", "id": "CT-1"}]}
    assert property_links("Finding", {"subject_type": "agency", "subject_id": "AG-1"})["subject_id"] == [
        {"type": "agency", "id": "AG-1"}]
