"""The API's `min_basis` (exposure, exposed-affiliates, the named query) on the demo's AF-KST, both stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.test_api_access import Api, serve_demo

AS_OF = "2026-06-01"


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from serve_demo(request.param, tmp_path_factory)


def test_exposure_min_basis(api: Api) -> None:
    url = f"/v1/affiliates/AF-KST/exposure?as_of={AS_OF}"
    full = api.call("investigator", "GET", url).json()
    assert {f["basis"] for f in full["factories"]} == {"matched", "brand_list"}
    for minimum, kept in (("disclosed", set()), ("matched", {"matched"}), ("brand_list", {"matched", "brand_list"})):
        narrow = api.call("investigator", "GET", f"{url}&min_basis={minimum}").json()
        assert {f["basis"] for f in narrow["factories"] + narrow["agencies"] + narrow["findings"]} == kept
        assert narrow["gaps"] == full["gaps"]  # gaps are always listed
    named = api.call("investigator", "POST", "/v1/queries/exposure",
                     {"affiliate_id": "AF-KST", "as_of": AS_OF, "min_basis": "matched"}).json()
    assert {f["basis"] for f in named["factories"]} == {"matched"}
    assert api.call("investigator", "GET", f"{url}&min_basis=rumour").status_code in (400, 422)


def test_exposed_affiliates_min_basis(api: Api) -> None:
    url = f"/v1/findings/FI-301/exposed-affiliates?as_of={AS_OF}"
    full = api.call("investigator", "GET", url).json()
    assert {a["id"]: a["basis"] for a in full["items"]}["AF-KST"] == "brand_list"
    narrow = api.call("investigator", "GET", f"{url}&min_basis=disclosed").json()
    assert "AF-KST" not in {a["id"] for a in narrow["items"]}
    assert full["leverage"]["by_basis"]["brand_list"] == 1 and narrow["leverage"]["by_basis"]["brand_list"] == 0
