"""Entity pages read as text, not Python (on both stores): lists as lists, no findings box on a finding's own
page, and findings that are not closed (disputed, in remediation) said to be that, with their status."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

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
