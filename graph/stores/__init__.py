"""The stores: opening one from settings (the embedded default, or Neo4j when a URI is given) or from the
configuration another process was given."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from supplygraph.graph.errors import EmptyGraph
from supplygraph.graph.settings import Neo4jSettings, Settings
from supplygraph.graph.stores.protocol import Store


def open_store(db: Path | None = None, neo4j_uri: str | None = None, *, default_db: Path | None = None) -> Store:
    """--neo4j URI wins; then an explicit --db; then NEO4J_URI; then the embedded store in `default_db`
    (else the settings' data folder)."""
    neo = Neo4jSettings()
    uri = neo4j_uri or (None if db is not None else neo.uri)
    if uri:
        from supplygraph.graph.stores.neo4j_store import Neo4jStore

        return Neo4jStore(uri, neo.user, neo.password, neo.database)
    from supplygraph.graph.stores.ladybug_store import LadybugStore

    return LadybugStore(db or default_db or Settings().db)


def open_from_config(config: Mapping[str, Any], generation: str | None, **database_options: Any) -> Store:
    """In another process: the graph `store.worker_config()` described, at `generation` (the embedded store's
    database options, such as a bounded buffer pool, apply to it; a server ignores them)."""
    if config["dialect"] == "ladybug":
        from supplygraph.graph.stores.ladybug_store import PinnedLadybugStore

        if not generation:
            raise EmptyGraph(f"no graph in {config['root']}: load a bundle first (supplygraph load BUNDLE)")
        return PinnedLadybugStore(Path(config["root"]), generation, **database_options)
    from supplygraph.graph.stores.neo4j_store import Neo4jStore

    index_cache = Path(config["index_cache"]) if config.get("index_cache") else None
    return Neo4jStore(config["uri"], config["user"], config["password"], config["database"], index_cache=index_cache)
