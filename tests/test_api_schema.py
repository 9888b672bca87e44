"""schemathesis against the OpenAPI schema, with valid keys, on the embedded store: no 5xx, every
response (status, content type, headers, body) as the schema documents it; 20 examples per operation.

(schemathesis' lazy pytest fixture loader does not work with pytest 9, so each operation's strategy
is run with hypothesis inside one test per key.)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from supplygraph.api.app import create_app
from supplygraph.api.keys import KeyRing
from supplygraph.graph.settings import Settings
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO

EXAMPLES = 20
schemathesis.serializer.alias("application/zip", "application/octet-stream")  # POST /v1/loads bodies
# Bodies that the schema cannot fully describe: a Cypher text (the allowlist refuses most strings, 400),
# a bundle zip (422 with its problems), a named query's parameters (422 names the unknown one).
CHECKED_BEYOND_SCHEMA = {("POST", "/v1/cypher"), ("POST", "/v1/loads"), ("POST", "/v1/queries/{name}")}


@dataclass
class Target:
    schema: schemathesis.BaseSchema
    keys: dict[str, str]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    folder = tmp_path_factory.mktemp("schemathesis")
    store = LadybugStore(folder / "db")
    load_bundles(store, [DEMO])
    keyring = KeyRing(folder / "keys.sqlite")
    keys = {role: keyring.create(role)[0] for role in ("admin", "investigator")}
    keys["affiliate"] = keyring.create("affiliate", "AF-LIN")[0]
    app = create_app(Settings(db=folder / "db", query_timeout_s=3.0), store, keyring=keyring, warm=False)
    yield Target(schemathesis.openapi.from_asgi("/openapi.json", app), keys)
    app.state.supplygraph.sandbox.close()
    store.close()


@pytest.mark.parametrize("role", ["admin", "investigator", "affiliate"])
def test_every_operation_conforms_to_the_schema(target: Target, role: str) -> None:
    headers = {"Authorization": f"Bearer {target.keys[role]}"}
    operations = [result.ok() for result in target.schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:
        semantic = (operation.method.upper(), operation.path) in CHECKED_BEYOND_SCHEMA
        run_examples(operation, headers, [positive_data_acceptance] if semantic else [])


def run_examples(operation: Any, headers: dict[str, str], excluded: list[Any]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: schemathesis.Case) -> None:
        # A page cursor is opaque: only one the API gave is accepted (422 otherwise, 410 after a reload), which
        # a schema cannot say; tests/test_affiliate_answers.py checks cursors themselves.
        opaque = [positive_data_acceptance] if "cursor" in (case.query or {}) else []
        case.call_and_validate(headers=headers, excluded_checks=excluded + opaque)

    check()
