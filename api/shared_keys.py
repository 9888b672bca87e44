"""API keys kept in Neo4j, so that several API servers on one Neo4j share them (docs/scaling.md).

The same keys as api/keys.py (`sg_<token>`, only a SHA-256 hash stored, revoked keys stay listed), held
in `(:SupplygraphKey)` nodes of the graph's database instead of a local SQLite file. The researchers'
sandbox refuses every query that could read these nodes (graph/stores/neo4j_guard.py).

A lookup asks Neo4j, except that a found key is remembered for `cache_s` (0.5 s): a key revoked on any
server, or by `supplygraph keys revoke`, is refused everywhere within that time, while a burst of
requests with one key costs one query.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from supplygraph.api.keys import KeyInfo, KeyLookups, KeyRing, Keys, Principal, Role, digest, keys_path, new_key
from supplygraph.graph.settings import Settings
from supplygraph.graph.stores.neo4j_guard import KEY_LABEL
from supplygraph.graph.stores.neo4j_store import Neo4jStore
from supplygraph.graph.stores.protocol import Store, ident

KEY_CACHE_S = 0.5  # how long a found key is trusted without asking Neo4j again
FIELDS = "k.id AS id, k.role AS role, k.affiliate_id AS affiliate_id, k.name AS name"
UNREVOKED_BY = {
    "id": f"MATCH (k:{KEY_LABEL} {{id: $value}}) WHERE k.revoked IS NULL RETURN {FIELDS}",
    "hash": f"MATCH (k:{KEY_LABEL} {{hash: $value}}) WHERE k.revoked IS NULL RETURN {FIELDS}",
}


class Neo4jKeyRing(KeyLookups):
    """The key ring of a Neo4j store: create, list, revoke and look up keys as api/keys.KeyRing does.

    `path` is where this server keeps its local files (watches): keys themselves are not there."""

    MAX_CACHED = 10_000

    def __init__(self, store: Neo4jStore, local_path: Path, cache_s: float = KEY_CACHE_S) -> None:
        self.store = store
        self.path = Path(local_path)
        self.cache_s = cache_s
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()
        self._constrained = False

    def _constraints(self) -> None:
        if self._constrained:
            return
        for field in ("id", "hash"):
            name = ident(f"supplygraphkey_{field}")
            self.store.write(f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (k:{KEY_LABEL}) REQUIRE k.{field} IS UNIQUE")
        self._constrained = True

    def create(self, role: Role | str, affiliate_id: str | None = None, name: str = "") -> tuple[str, KeyInfo]:
        """A new key: (the key itself, to be shown once; what is stored about it)."""
        key, info = new_key(role, affiliate_id, name)
        self._constraints()
        self.store.write(
            f"CREATE (:{KEY_LABEL} {{id: $id, hash: $hash, role: $role, affiliate_id: $affiliate_id, name: $name,"
            " created: $created})",
            {
                "id": info.id,
                "hash": digest(key),
                "role": info.role,
                "affiliate_id": affiliate_id,
                "name": name,
                "created": info.created,
            },
        )
        return key, info

    def list(self) -> list[KeyInfo]:
        rows = self.store.run(
            f"MATCH (k:{KEY_LABEL}) RETURN {FIELDS}, k.created AS created, k.revoked AS revoked ORDER BY created, id"
        )
        return [KeyInfo(**row) for row in rows]

    def revoke(self, key_id: str) -> KeyInfo:
        self.store.write(
            f"MATCH (k:{KEY_LABEL} {{id: $id}}) WHERE k.revoked IS NULL SET k.revoked = $now",
            {"id": key_id, "now": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
        )
        with self._lock:
            self._cache.clear()
        return self.listed(key_id)

    def principal_by(self, column: str, value: str) -> Principal | None:
        """The unrevoked key's principal, trusted for `cache_s` once found."""
        entry = f"{column}:{value}"
        now = time.monotonic()
        with self._lock:
            kept = self._cache.get(entry)
        if kept is not None and now - kept[0] < self.cache_s:
            return kept[1]
        rows = self.store.run(UNREVOKED_BY[column], {"value": value})
        if not rows:
            with self._lock:
                self._cache.pop(entry, None)
            return None  # unknown keys are not kept: anyone may send any number of them
        row = rows[0]
        found = Principal(key_id=row["id"], role=Role(row["role"]), affiliate_id=row["affiliate_id"], name=row["name"])
        with self._lock:
            if len(self._cache) >= self.MAX_CACHED:
                self._cache.clear()
            self._cache[entry] = (now, found)
        return found


def keyring_for(settings: Settings, store: Store | None, db: Path | None = None) -> Keys:
    """The key ring a server or command uses: the file SUPPLYGRAPH_KEYS names if set; else, with a Neo4j
    store, the keys in Neo4j (shared by every server on it); else `keys.sqlite` in the data folder."""
    local = keys_path(settings, db or (store.data_folder if store is not None else None))
    if settings.keys is None and isinstance(store, Neo4jStore):
        return Neo4jKeyRing(store, local)
    return KeyRing(local)
