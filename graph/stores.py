"""Choosing a store from settings: the embedded default, or Neo4j when a URI is given."""

from __future__ import annotations

from pathlib import Path

from graph.settings import Neo4jSettings, Settings
from graph.store import Store


def open_store(db: Path | None = None, neo4j_uri: str | None = None) -> Store:
    """--neo4j URI wins; then an explicit --db; then NEO4J_URI; then the embedded default folder."""
    neo = Neo4jSettings()
    uri = neo4j_uri or (None if db is not None else neo.uri)
    if uri:
        from graph.neo4j_store import Neo4jStore

        return Neo4jStore(uri, neo.user, neo.password, neo.database)
    from graph.ladybug_store import LadybugStore

    return LadybugStore(db or Settings().db)
