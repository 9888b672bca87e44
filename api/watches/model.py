"""What the watch file holds: its tables, a watch, a watch's last recorded answer (api/watches/store.py)."""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from dataclasses import dataclass
from typing import Any

from supplygraph.queries.changes import Question, Snapshot

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS watches (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, owner_key TEXT,"
    " kind TEXT NOT NULL, target TEXT NOT NULL, depth INTEGER NOT NULL, min_basis TEXT, min_severity TEXT,"
    " webhook TEXT, secret TEXT NOT NULL, feed_hash TEXT, created TEXT NOT NULL, deleted TEXT)",
    "CREATE TABLE IF NOT EXISTS answers (watch_id TEXT PRIMARY KEY, snapshot BLOB NOT NULL, digest TEXT NOT NULL,"
    " generation TEXT, day TEXT NOT NULL, recorded TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
    " watch_id TEXT NOT NULL, body TEXT NOT NULL, recorded TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS events_by_watch ON events (watch_id, seq)",
    "CREATE TABLE IF NOT EXISTS outbox (event_id TEXT PRIMARY KEY, watch_id TEXT NOT NULL, url TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, first_at REAL NOT NULL, next_at REAL NOT NULL,"
    " delivered_at REAL, gave_up_at REAL, last_error TEXT)",
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_at) WHERE delivered_at IS NULL AND gave_up_at IS NULL",
    "CREATE TABLE IF NOT EXISTS webhook_hosts (host TEXT PRIMARY KEY, added TEXT NOT NULL, added_by TEXT NOT NULL)",
)
WATCH_COLUMNS = "id, tenant, owner_key, kind, target, depth, min_basis, min_severity, webhook, feed_hash, created"
FEED_PREFIX = "feed_"


def now_text() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def feed_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Watch:
    id: str
    tenant: str
    owner_key: str | None
    kind: str
    target: str
    depth: int
    min_basis: str | None
    min_severity: str | None
    webhook: str | None
    feed: bool  # whether a feed URL is valid now
    created: str

    @property
    def question(self) -> Question:
        return Question(self.kind, self.target, self.depth, self.min_basis, self.min_severity)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "target": self.target,
            "depth": self.depth,
            "min_basis": self.min_basis,
            "min_severity": self.min_severity,
            "webhook": self.webhook,
            "feed": self.feed,
            "created": self.created,
        }


@dataclass(frozen=True)
class Recorded:
    """A watch's last recorded answer: its digest, the generation and day it answered, the answer itself
    (compressed JSON: paths repeat their first nodes a lot; decoded only when asked for)."""

    packed: bytes
    digest: str
    generation: str | None
    day: str

    @property
    def snapshot(self) -> Snapshot:
        return json.loads(zlib.decompress(self.packed))  # type: ignore[no-any-return]


def watch_from_row(row: tuple[Any, ...]) -> Watch:
    wid, tenant, owner, kind, target, depth, min_basis, min_severity, webhook, feed_hash, created = row
    return Watch(
        wid, tenant, owner, kind, target, int(depth), min_basis, min_severity, webhook, feed_hash is not None, created
    )
