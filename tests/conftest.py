"""One parametrised `store_factory` fixture: every query and loader test runs on both stores.

Neo4j tests need a server: `scripts/neo4j-server start` (or NEO4J_URI pointing at any Neo4j).
Without one they are skipped on a laptop, and fail in CI (CI=true), where a missing Neo4j is an error.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from supplygraph.graph.settings import Neo4jSettings
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.graph.stores.neo4j_store import Neo4jStore
from supplygraph.graph.stores.protocol import Store

DEFAULT_NEO4J = "bolt://127.0.0.1:7687"


def neo4j_uri() -> str:
    return os.environ.get("NEO4J_URI") or DEFAULT_NEO4J


def neo4j_reachable(uri: str) -> bool:
    parsed = urlparse(uri)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 7687), timeout=2):
            return True
    except OSError:
        return False


def require_neo4j() -> str:
    uri = neo4j_uri()
    if neo4j_reachable(uri):
        return uri
    message = (
        f"no Neo4j at {uri}: run `scripts/neo4j-server start` (needs Java 17 and Maven) "
        "or set NEO4J_URI to a Neo4j 5 server"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


StoreFactory = Callable[[], Store]


@pytest.fixture(params=["ladybug", "neo4j"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_factory(store_kind: str, tmp_path: Path) -> Iterator[StoreFactory]:
    """Returns a function making an empty store of the parametrised kind (the same store on each call)."""
    made: list[Store] = []

    if store_kind == "ladybug":
        def make() -> Store:
            if not made:
                made.append(LadybugStore(tmp_path / "db"))
            return made[0]
    else:
        uri = require_neo4j()
        settings = Neo4jSettings()

        def make() -> Store:
            if not made:
                store = Neo4jStore(uri, settings.user, settings.password, settings.database)
                store.wipe()
                made.append(store)
            return made[0]

    yield make
    for store in made:
        store.close()


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    return store_factory()


DEMO = Path(__file__).resolve().parent.parent / "demo" / "bundle"
