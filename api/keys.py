"""API keys: `sg_<token>` given out once, stored only as a SHA-256 hash in a small local SQLite file.

The file is Settings().keys (SUPPLYGRAPH_KEYS) or `keys.sqlite` in the embedded data folder. With a Neo4j
store and no SUPPLYGRAPH_KEYS, keys live in Neo4j instead, shared by every API server (api/shared_keys.py). A key is 32 random bytes, so a plain hash is enough (no salt or
slow hash is needed against guessing); lookups are by hash, and revoked keys stay listed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from supplygraph.api.file_cache import FileCache
from supplygraph.graph.errors import InvalidParameter, NotFound
from supplygraph.graph.private_files import PRIVATE_FILE, make_private_file, make_private_folder, readable_by_others
from supplygraph.graph.settings import Settings

logger = logging.getLogger(__name__)

PREFIX = "sg_"
UNREVOKED_BY = {  # a key's principal by its id or by its hash, if it is not revoked
    "id": "SELECT id, role, affiliate_id, name FROM api_keys WHERE id = ? AND revoked IS NULL",
    "hash": "SELECT id, role, affiliate_id, name FROM api_keys WHERE hash = ? AND revoked IS NULL",
}


class Role(StrEnum):
    affiliate = "affiliate"  # one affiliate's own exposure, nothing about any other affiliate
    investigator = "investigator"  # reads everything
    researcher = "researcher"  # investigator plus sandboxed Cypher
    admin = "admin"  # researcher plus loads


RANK = {Role.affiliate: 0, Role.investigator: 1, Role.researcher: 2, Role.admin: 3}


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: Role
    affiliate_id: str | None
    name: str

    def at_least(self, role: Role) -> bool:
        return self.role != Role.affiliate and RANK[self.role] >= RANK[role]


@dataclass(frozen=True)
class KeyInfo:
    id: str
    role: str
    affiliate_id: str | None
    name: str
    created: str
    revoked: str | None


class Keys(Protocol):
    """What the API needs of a key ring: this file's KeyRing, or the Neo4j one (api/shared_keys.py)."""

    @property
    def path(self) -> Path: ...

    def create(self, role: Role | str, affiliate_id: str | None = None, name: str = "") -> tuple[str, KeyInfo]: ...

    def list(self) -> list[KeyInfo]: ...

    def revoke(self, key_id: str) -> KeyInfo: ...

    def by_id(self, key_id: str) -> Principal | None: ...

    def lookup(self, key: str) -> Principal | None: ...


def keys_path(settings: Settings, db: Path | None = None) -> Path:
    return settings.keys or (db or settings.db) / "keys.sqlite"


def tighten(path: Path) -> None:
    """A key file others can read is made 0600, with a warning; one that cannot be changed is warned about."""
    try:
        if make_private_file(path):
            logger.warning("%s was readable by other users; it is now 0600 (owner only)", path)
    except PermissionError:
        if readable_by_others(path):
            logger.warning("%s is readable by other users and cannot be changed: chmod 600 it", path)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key(role: Role | str, affiliate_id: str | None, name: str) -> tuple[str, KeyInfo]:
    """A new key and what is stored about it, once its role and affiliate are checked."""
    role = Role(role)
    if role == Role.affiliate and not affiliate_id:
        raise InvalidParameter("--affiliate", "an affiliate key must name its affiliate")
    if role != Role.affiliate and affiliate_id:
        raise InvalidParameter("--affiliate", f"only affiliate keys are bound to an affiliate, not {role} keys")
    key = PREFIX + secrets.token_urlsafe(32)
    info = KeyInfo(
        id="k_" + secrets.token_hex(4),
        role=role.value,
        affiliate_id=affiliate_id,
        name=name,
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        revoked=None,
    )
    return key, info


class KeyLookups:
    """What every key ring answers the same way, over its own `principal_by(column, value)` ("id" or "hash")."""

    def principal_by(self, column: str, value: str) -> Principal | None:
        raise NotImplementedError

    def list(self) -> list[KeyInfo]:
        raise NotImplementedError

    def by_id(self, key_id: str) -> Principal | None:
        """The principal of an unrevoked key by its id (a UI session names its key so); None otherwise."""
        return self.principal_by("id", key_id)

    def lookup(self, key: str) -> Principal | None:
        """The principal of a valid, unrevoked key; None for anything else."""
        if not key.startswith(PREFIX) or len(key) > 200:
            return None
        return self.principal_by("hash", digest(key))

    def listed(self, key_id: str) -> KeyInfo:
        """The key `key_id` as listed (revoked or not); NotFound if there is none."""
        found = next((k for k in self.list() if k.id == key_id), None)
        if found is None:
            raise NotFound(f"no key with id {key_id!r}; `supplygraph keys list` shows them")
        return found


class KeyRing(KeyLookups):
    """The key file. Lookups are cached until the file changes (a create or revoke rewrites it), so a
    revoked key stops working with the next request while most requests cost one stat() call."""

    MAX_CACHED = 10_000

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._cache: FileCache[Principal] = FileCache(self.path, self.MAX_CACHED)
        if self.path.exists():
            tighten(self.path)

    @contextmanager
    def _db(self, *, create: bool = False) -> Iterator[sqlite3.Connection]:
        if create:
            make_private_folder(self.path.parent)
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE))  # 0600 before sqlite writes to it
        elif not self.path.exists():
            raise FileNotFoundError(self.path)
        with closing(sqlite3.connect(self.path, timeout=10)) as conn:
            if create:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS api_keys (id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE,"
                    " role TEXT NOT NULL, affiliate_id TEXT, name TEXT NOT NULL, created TEXT NOT NULL, revoked TEXT)"
                )
            with conn:
                yield conn

    def create(self, role: Role | str, affiliate_id: str | None = None, name: str = "") -> tuple[str, KeyInfo]:
        """A new key: (the key itself, to be shown once; what is stored about it)."""
        key, info = new_key(role, affiliate_id, name)
        with self._db(create=True) as conn:
            conn.execute(
                "INSERT INTO api_keys (id, hash, role, affiliate_id, name, created) VALUES (?, ?, ?, ?, ?, ?)",
                (info.id, digest(key), info.role, info.affiliate_id, info.name, info.created),
            )
        return key, info

    def list(self) -> list[KeyInfo]:
        try:
            with self._db() as conn:
                rows = conn.execute(
                    "SELECT id, role, affiliate_id, name, created, revoked FROM api_keys ORDER BY created, id"
                ).fetchall()
        except FileNotFoundError:
            return []
        return [KeyInfo(*row) for row in rows]

    def revoke(self, key_id: str) -> KeyInfo:
        try:
            with self._db() as conn:
                conn.execute(
                    "UPDATE api_keys SET revoked = ? WHERE id = ? AND revoked IS NULL",
                    (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), key_id),
                )
        except FileNotFoundError:
            pass
        return self.listed(key_id)

    def _unrevoked(self, column: str, value: str) -> Principal | None:
        """The principal of the unrevoked key whose `column` (id or hash) is `value`; None otherwise."""
        try:
            with self._db() as conn:
                row = conn.execute(UNREVOKED_BY[column], (value,)).fetchone()
        except FileNotFoundError:
            return None
        return None if row is None else Principal(key_id=row[0], role=Role(row[1]), affiliate_id=row[2], name=row[3])

    def principal_by(self, column: str, value: str) -> Principal | None:
        """The unrevoked key's principal, kept until the key file changes."""
        entry = f"{column}:{value}"
        stamp, found = self._cache.get(entry)
        if stamp is None or found is not None:
            return found
        found = self._unrevoked(column, value)
        if found is not None:  # unknown keys are not kept: anyone may send any number of them
            self._cache.put(entry, found, stamp)
        return found
