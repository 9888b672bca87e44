"""Browser sessions of the /ui pages: the cookie holds a random session id, never the API key.

A session is made at login from a valid key: its id is 32 random bytes (`secrets`), given to the browser
once and stored only as a SHA-256 hash, with the key's id and an expiry (Settings.ui_session_hours), in
`sessions.sqlite` beside the key file (mode 0600). Every request checks, in this order, that the hash is
known, that the session has not expired, and that its key is still valid in the key ring: so logout
(which deletes the row), expiry and `supplygraph keys revoke` each end the session at the next request.
Live sessions are kept in memory until the file changes (api/file_cache.py), as keys are.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from typing import Protocol

from supplygraph.api.file_cache import FileCache
from supplygraph.api.keys import KeyRing, Keys, Principal, digest

SESSION_PREFIX = "sgs_"


class Sessions(Protocol):
    """What the /ui pages need of a session store (this file's, or the Neo4j one)."""

    lifetime_s: float

    def create(self, principal: Principal) -> str: ...

    def lookup(self, session_id: str) -> Principal | None: ...

    def end(self, session_id: str) -> None: ...

    def end_all(self, key_id: str) -> int: ...


class SessionStore:
    """Server-side sessions over the key ring `keys`; `clock` gives the time in seconds (tests move it)."""

    def __init__(self, keys: KeyRing, lifetime_s: float, clock: Callable[[], float] = time.time) -> None:
        self.keys = keys
        self.path = keys.path.with_name("sessions.sqlite")
        self.lifetime_s = lifetime_s
        self.clock = clock
        self._lock = threading.Lock()
        self._cache: FileCache[tuple[str, float]] = FileCache(self.path)  # hash -> (key id, expiry)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if not self.path.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            with closing(sqlite3.connect(self.path, timeout=10)) as conn:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS ui_sessions (hash TEXT PRIMARY KEY, key_id TEXT NOT NULL,"
                    " created REAL NOT NULL, expires REAL NOT NULL)"
                )
                with conn:
                    yield conn

    def create(self, principal: Principal) -> str:
        """A new session for this key's principal: its id, to be sent to the browser only."""
        session_id = SESSION_PREFIX + secrets.token_urlsafe(32)
        now = self.clock()
        with self._db() as conn:
            conn.execute("DELETE FROM ui_sessions WHERE expires <= ?", (now,))
            conn.execute(
                "INSERT INTO ui_sessions (hash, key_id, created, expires) VALUES (?, ?, ?, ?)",
                (digest(session_id), principal.key_id, now, now + self.lifetime_s),
            )
        return session_id

    def lookup(self, session_id: str) -> Principal | None:
        """The principal of a live session whose key is still valid; None for anything else."""
        if not session_id.startswith(SESSION_PREFIX) or len(session_id) > 100:
            return None
        hashed = digest(session_id)
        stamp, row = self._cache.get(hashed)
        if stamp is None:
            return None
        if row is None:
            with self._db() as conn:
                found = conn.execute("SELECT key_id, expires FROM ui_sessions WHERE hash = ?", (hashed,)).fetchone()
            if found is None:
                return None  # unknown ids are not kept: anyone may send any number of them
            row = (str(found[0]), float(found[1]))
            self._cache.put(hashed, row, stamp)
        if row[1] <= self.clock():
            return None
        return self.keys.by_id(row[0])

    def end(self, session_id: str) -> None:
        with self._db() as conn:
            conn.execute("DELETE FROM ui_sessions WHERE hash = ?", (digest(session_id),))
        self._cache.drop(digest(session_id))  # the file changed too; this is at once

    def end_all(self, key_id: str) -> int:
        """Ends every session of a key (when it is revoked); returns how many there were."""
        if not self.path.exists():
            return 0
        with self._db() as conn:
            return conn.execute("DELETE FROM ui_sessions WHERE key_id = ?", (key_id,)).rowcount


def sessions_for(keys: Keys, hours: float) -> Sessions:
    """Sessions beside the key ring: in Neo4j with the shared keys (api/ui/shared_sessions.py), else a file."""
    from supplygraph.api.shared_keys import Neo4jKeyRing
    from supplygraph.api.ui.shared_sessions import Neo4jSessionStore

    if isinstance(keys, Neo4jKeyRing):
        return Neo4jSessionStore(keys, hours * 3600.0)
    assert isinstance(keys, KeyRing)
    return SessionStore(keys, hours * 3600.0)


def revoke_sessions(keys: Keys, key_id: str) -> int:
    """Ends the sessions of a revoked key (`supplygraph keys revoke`); lookups refuse them in any case."""
    return sessions_for(keys, 0.0).end_all(key_id)
