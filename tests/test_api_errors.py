"""Every error is a problem details object: unknown routes, wrong methods, bad bodies, validation
(naming the parameter), unknown ids, a crash (no stack trace); and the OpenAPI schema says so."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from supplygraph.api.app import create_app
from supplygraph.api.keys import KeyRing
from supplygraph.graph.settings import Settings
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def client_and_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    folder = tmp_path_factory.mktemp("errors")
    store = LadybugStore(folder / "db")
    load_bundles(store, [DEMO])
    keyring = KeyRing(folder / "keys.sqlite")
    key = keyring.create("admin")[0]
    app = create_app(Settings(db=folder / "db"), store, keyring=keyring)

    @app.get("/v1/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("secret internals /etc/shadow")

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, key
    store.close()


def is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail"} and body["status"] == status
    assert "Traceback" not in response.text
    return body


def test_problem_details_everywhere(client_and_key: tuple[TestClient, str]) -> None:
    client, key = client_and_key
    auth = {"Authorization": f"Bearer {key}"}
    is_problem(client.get("/nowhere"), 404)
    is_problem(client.get("/v1/nowhere", headers=auth), 404)
    wrong = is_problem(client.delete("/v1/queries", headers=auth), 405)
    assert wrong["title"] == "Method Not Allowed"
    bad_json = is_problem(
        client.post("/v1/cypher", content=b"{not json", headers={**auth, "Content-Type": "application/json"}), 422
    )
    assert bad_json["errors"]
    depth = is_problem(client.get("/v1/affiliates/AF-LIN/exposure?depth=abc", headers=auth), 422)
    assert depth["errors"][0]["parameter"] == "depth" and "depth" in depth["detail"]
    as_of = is_problem(client.get("/v1/affiliates/AF-LIN/exposure?as_of=2026-13-01", headers=auth), 422)
    assert as_of["errors"][0]["parameter"] == "as_of"
    registry = is_problem(
        client.post("/v1/queries/exposure", json={"affiliate_id": "AF-LIN", "depth": 99}, headers=auth), 422
    )
    assert registry["errors"][0]["parameter"] == "depth"
    unknown = is_problem(
        client.post("/v1/queries/exposure", json={"affiliate_id": "AF-LIN", "bogus": 1}, headers=auth), 422
    )
    assert unknown["errors"][0]["parameter"] == "bogus"
    missing = is_problem(client.get("/v1/paths?from=AF-LIN", headers=auth), 422)
    assert missing["errors"][0]["parameter"] == "to"
    is_problem(client.get("/v1/affiliates/AF-NOPE/exposure", headers=auth), 404)
    is_problem(client.get("/v1/findings/FI-NOPE/exposed-affiliates", headers=auth), 404)
    no_key = is_problem(client.get("/v1/queries"), 401)
    assert "Bearer" in no_key["detail"]
    assert client.get("/v1/queries").headers["www-authenticate"].startswith("Bearer")
    crash = is_problem(client.get("/v1/boom", headers=auth), 500)
    assert "secret" not in crash["detail"] and "shadow" not in client.get("/v1/boom", headers=auth).text


def test_large_bodies_are_refused(client_and_key: tuple[TestClient, str]) -> None:
    client, key = client_and_key
    auth = {"Authorization": f"Bearer {key}"}
    huge = {"query": "MATCH (n) RETURN $x", "params": {"x": "y" * 2_000_000}}
    body = is_problem(client.post("/v1/cypher", json=huge, headers=auth), 413)
    assert "at most" in body["detail"]


def test_bad_bundle_upload_lists_its_problems(client_and_key: tuple[TestClient, str]) -> None:
    client, key = client_and_key
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/zip"}
    body = is_problem(client.post("/v1/loads?name=junk", content=b"not a zip", headers=headers), 422)
    assert body["title"] == "Invalid bundle" and body["problems"][0]["message"]
    bad_name = is_problem(client.post("/v1/loads?name=../x", content=b"", headers=headers), 422)
    assert bad_name["errors"][0]["parameter"] == "name"


def test_openapi_documents_problems_and_bearer_keys(client_and_key: tuple[TestClient, str]) -> None:
    client, _key = client_and_key
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    exposure = schema["paths"]["/v1/affiliates/{affiliate_id}/exposure"]["get"]
    for status in ("401", "403", "404", "422"):
        assert list(exposure["responses"][status]["content"]) == [PROBLEM]
    assert "security" not in schema["paths"]["/healthz"]["get"]
    assert client.get("/docs").status_code == 200
