"""Small texts kept in Neo4j, one `(:SupplygraphDocument {name, text})` node each, so that every process
on the same database (several API servers, the CLI) reads and writes the same one: the review decisions
(loaders/resolve/decisions.py). The researchers' sandbox cannot read them (graph/stores/neo4j_guard.py)."""

from __future__ import annotations

from typing import Any

from supplygraph.graph.stores.neo4j_guard import DOCUMENT_LABEL


class Neo4jDocument:
    """One named text in a Neo4j store (`store` has `run` and `write`)."""

    def __init__(self, store: Any, name: str) -> None:
        self.store, self.name = store, name

    def __repr__(self) -> str:
        return f"({DOCUMENT_LABEL} {self.name!r} in {self.store.uri})"

    def _read(self) -> str | None:
        rows = self.store.run(f"MATCH (d:{DOCUMENT_LABEL} {{name: $name}}) RETURN d.text AS text", {"name": self.name})
        return rows[0]["text"] if rows else None

    def exists(self) -> bool:
        return self._read() is not None

    def read_text(self) -> str:
        text = self._read()
        if text is None:
            raise FileNotFoundError(repr(self))
        return text

    def write_text(self, text: str) -> None:
        """Replaces the text in one transaction: readers see the old text or the new one."""
        self.store.write(
            f"MERGE (d:{DOCUMENT_LABEL} {{name: $name}}) SET d.text = $text, d.saved = datetime()",
            {"name": self.name, "text": text},
        )
