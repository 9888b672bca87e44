"""Browser sessions kept in Neo4j beside the shared keys (api/shared_keys.py), for several API servers.

The same sessions as api/ui/sessions.py (a random id in the cookie, stored only as a SHA-256 hash, with its
key's id and expiry), in `(:SupplygraphSession)` nodes: a login on one server is valid on every other,
a logout or a revoked key ends it on all. A session found is remembered for the key ring's `cache_s`
(0.5 s); its key is checked on every request through the key ring (itself cached as briefly).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable

from supplygraph.api.keys import Principal, digest
from supplygraph.api.shared_keys import Neo4jKeyRing
from supplygraph.api.ui.sessions import SESSION_PREFIX
from supplygraph.graph.stores.neo4j_guard import SESSION_LABEL


class Neo4jSessionStore:
    """Server-side sessions over a Neo4j key ring; `clock` gives the time in seconds (tests move it)."""

    def __init__(self, keys: Neo4jKeyRing, lifetime_s: float, clock: Callable[[], float] = time.time) -> None:
        self.keys = keys
        self.store = keys.store
        self.lifetime_s = lifetime_s
        self.clock = clock
        self._cache: dict[str, tuple[float, str, float]] = {}  # hash -> (when read, key id, expiry)
        self._lock = threading.Lock()
        self._constrained = False

    def create(self, principal: Principal) -> str:
        """A new session for this key's principal: its id, to be sent to the browser only."""
        if not self._constrained:
            self.store.write(
                f"CREATE CONSTRAINT supplygraphsession_hash IF NOT EXISTS FOR (s:{SESSION_LABEL}) REQUIRE s.hash IS UNIQUE"
            )
            self._constrained = True
        session_id = SESSION_PREFIX + secrets.token_urlsafe(32)
        now = self.clock()
        self.store.write(f"MATCH (s:{SESSION_LABEL}) WHERE s.expires <= $now DELETE s", {"now": now})
        self.store.write(
            f"CREATE (:{SESSION_LABEL} {{hash: $hash, key_id: $key_id, created: $now, expires: $expires}})",
            {"hash": digest(session_id), "key_id": principal.key_id, "now": now, "expires": now + self.lifetime_s},
        )
        return session_id

    def lookup(self, session_id: str) -> Principal | None:
        """The principal of a live session whose key is still valid; None for anything else."""
        if not session_id.startswith(SESSION_PREFIX) or len(session_id) > 100:
            return None
        hashed = digest(session_id)
        now = time.monotonic()
        with self._lock:
            kept = self._cache.get(hashed)
        if kept is None or now - kept[0] >= self.keys.cache_s:
            rows = self.store.run(
                f"MATCH (s:{SESSION_LABEL} {{hash: $hash}}) RETURN s.key_id AS key_id, s.expires AS expires",
                {"hash": hashed},
            )
            if not rows:
                with self._lock:
                    self._cache.pop(hashed, None)
                return None
            kept = (now, str(rows[0]["key_id"]), float(rows[0]["expires"]))
            with self._lock:
                if len(self._cache) >= 10_000:
                    self._cache.clear()
                self._cache[hashed] = kept
        if kept[2] <= self.clock():
            return None
        return self.keys.by_id(kept[1])

    def end(self, session_id: str) -> None:
        hashed = digest(session_id)
        self.store.write(f"MATCH (s:{SESSION_LABEL} {{hash: $hash}}) DELETE s", {"hash": hashed})
        with self._lock:
            self._cache.pop(hashed, None)

    def end_all(self, key_id: str) -> int:
        """Ends every session of a key (when it is revoked); returns how many there were."""
        rows = self.store.write(
            f"MATCH (s:{SESSION_LABEL} {{key_id: $key_id}}) DELETE s RETURN count(*) AS n", {"key_id": key_id}
        )
        with self._lock:
            self._cache.clear()
        return int(rows[0]["n"]) if rows else 0
