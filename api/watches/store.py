"""Watches, their last answers and their change events, in a small private SQLite file next to the keys.

The file is `watches.sqlite` beside the key file (api/keys.py: `keys.sqlite` in the embedded data
folder unless SUPPLYGRAPH_KEYS names another place), 0600 in a 0700 folder: it holds each watch's
webhook secret. One transaction records a watch's new answer, its change events and their webhook
deliveries (api/watches/webhooks.py), so an event is never recorded without its delivery or lost half-way.

A watch belongs to a tenant: an affiliate key's affiliate (every key of that affiliate shares them),
another key itself, or `local` (the CLI without --key). Events are numbered in the order they are
recorded; that number is the cursor of GET /v1/watches/{id}/changes.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import closing, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from supplygraph.api.keys import tighten
from supplygraph.api.watches.model import (
    FEED_PREFIX,
    SCHEMA,
    WATCH_COLUMNS,
    Recorded,
    Watch,
    feed_digest,
    now_text,
    watch_from_row,
)
from supplygraph.graph.errors import NotFound
from supplygraph.graph.private_files import PRIVATE_FILE, make_private_folder
from supplygraph.queries.changes import Question


def watches_path(keys_file: Path) -> Path:
    """`watches.sqlite` in the folder of the key file."""
    return Path(keys_file).parent / "watches.sqlite"


class WatchStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._made = False  # the tables exist (checked once per object)
        self._kept = threading.local()
        if self.path.exists():
            tighten(self.path)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in a transaction (committed at the end, rolled back on an error); the file and its
        tables are made on first use, 0600 before SQLite writes anything to it. Inside `kept_open()` the
        thread's one connection is used again."""
        kept = getattr(self._kept, "conn", None)
        with nullcontext(kept) if kept is not None else self._opened() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def kept_open(self) -> Iterator[None]:
        """One connection for everything this thread does inside (an evaluation's many small transactions)."""
        with self._opened() as conn:
            self._kept.conn = conn
            try:
                yield
            finally:
                self._kept.conn = None

    @contextmanager
    def _opened(self) -> Iterator[sqlite3.Connection]:
        if not self.path.exists():
            make_private_folder(self.path.parent)
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE))
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as conn:
            # WAL: readers do not wait for the writer. NORMAL: a commit survives the process being killed; a
            # power cut may lose the last ones, answers and events together, which the next pass computes
            # again with the same ids.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            if not self._made:
                with conn:
                    for statement in SCHEMA:
                        conn.execute(statement)
                self._made = True
            yield conn

    # ------------------------------------------------------------------ watches

    def create(
        self, tenant: str, owner_key: str | None, question: Question, webhook: str | None
    ) -> tuple[Watch, str, str]:
        """A new watch: (the watch, its webhook secret, its feed token): both secrets are shown once."""
        wid = "w_" + secrets.token_hex(6)
        secret = "whsec_" + secrets.token_urlsafe(32)
        token = FEED_PREFIX + secrets.token_urlsafe(32)
        with self.connect() as conn:
            conn.execute(
                f"INSERT INTO watches ({WATCH_COLUMNS}, secret) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    wid,
                    tenant,
                    owner_key,
                    question.kind,
                    question.target,
                    question.depth,
                    question.min_basis,
                    question.min_severity,
                    webhook,
                    feed_digest(token),
                    now_text(),
                    secret,
                ),
            )
        return self.get(wid), secret, token

    def get(self, watch_id: str) -> Watch:
        """A watch not deleted; NotFound otherwise."""
        with self.connect() as conn:
            row = conn.execute(
                f"SELECT {WATCH_COLUMNS} FROM watches WHERE id = ? AND deleted IS NULL", (watch_id,)
            ).fetchone()
        if row is None:
            raise NotFound(f"no watch with id {watch_id!r}")
        return watch_from_row(row)

    def watches(self, tenant: str | None = None) -> list[Watch]:
        """The watches not deleted, of one tenant or (None) of all, oldest first."""
        query = f"SELECT {WATCH_COLUMNS} FROM watches WHERE deleted IS NULL"
        params: tuple[Any, ...] = ()
        if tenant is not None:
            query, params = query + " AND tenant = ?", (tenant,)
        with self.connect() as conn:
            rows = conn.execute(query + " ORDER BY created, id", params).fetchall()
        return [watch_from_row(r) for r in rows]

    def delete(self, watch_id: str) -> None:
        """Deletes a watch: no more answers, events or deliveries (those waiting are dropped)."""
        with self.connect() as conn:
            done = conn.execute(
                "UPDATE watches SET deleted = ?, feed_hash = NULL WHERE id = ? AND deleted IS NULL",
                (now_text(), watch_id),
            )
            if done.rowcount == 0:
                raise NotFound(f"no watch with id {watch_id!r}")
            conn.execute(
                "UPDATE outbox SET gave_up_at = ?, last_error = 'watch deleted'"
                " WHERE watch_id = ? AND delivered_at IS NULL AND gave_up_at IS NULL",
                (time.time(), watch_id),
            )

    def secret(self, watch_id: str) -> str:
        with self.connect() as conn:
            row = conn.execute("SELECT secret FROM watches WHERE id = ?", (watch_id,)).fetchone()
        if row is None:
            raise NotFound(f"no watch with id {watch_id!r}")
        return str(row[0])

    def new_feed(self, watch_id: str) -> str:
        """A new secret feed token for the watch; the one before stops working."""
        self.get(watch_id)
        token = FEED_PREFIX + secrets.token_urlsafe(32)
        with self.connect() as conn:
            conn.execute("UPDATE watches SET feed_hash = ? WHERE id = ?", (feed_digest(token), watch_id))
        return token

    def revoke_feed(self, watch_id: str) -> None:
        self.get(watch_id)
        with self.connect() as conn:
            conn.execute("UPDATE watches SET feed_hash = NULL WHERE id = ?", (watch_id,))

    def by_feed(self, token: str) -> Watch:
        """The watch whose current feed token this is; NotFound for any other string."""
        if not token.startswith(FEED_PREFIX) or len(token) > 200:
            raise NotFound("no such feed")
        with self.connect() as conn:
            row = conn.execute(
                f"SELECT {WATCH_COLUMNS} FROM watches WHERE feed_hash = ? AND deleted IS NULL", (feed_digest(token),)
            ).fetchone()
        if row is None:
            raise NotFound("no such feed")
        return watch_from_row(row)

    # ------------------------------------------------------------------ answers and events

    def answered(self) -> dict[str, tuple[str | None, str]]:
        """Every watch's last answer's (generation, day), without the answers themselves."""
        with self.connect() as conn:
            rows = conn.execute("SELECT watch_id, generation, day FROM answers").fetchall()
        return {w: (g, d) for w, g, d in rows}

    def last_answer(self, watch_id: str) -> Recorded | None:
        with self.connect() as conn:
            row = conn.execute(
                "SELECT snapshot, digest, generation, day FROM answers WHERE watch_id = ?", (watch_id,)
            ).fetchone()
        return None if row is None else Recorded(*row)

    def record(
        self,
        watch_id: str,
        answer: tuple[bytes, str],
        generation: str | None,
        day: str,
        events: list[dict[str, Any]],
    ) -> int:
        """The watch's new answer (JSON and digest: queries.changes.encoded) and its events (each once, by id), with a webhook delivery each when the
        watch has a webhook; all in one transaction. A watch deleted meanwhile records nothing. Returns
        how many events were new."""
        stamp = now_text()
        added = 0
        with self.connect() as conn:
            row = conn.execute("SELECT webhook FROM watches WHERE id = ? AND deleted IS NULL", (watch_id,)).fetchone()
            if row is None:
                return 0
            webhook = row[0]
            conn.execute(
                "INSERT OR REPLACE INTO answers (watch_id, snapshot, digest, generation, day, recorded)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (watch_id, zlib.compress(answer[0], 1), answer[1], generation, day, stamp),
            )
            for event in events:
                body = json.dumps({**event, "recorded": stamp}, ensure_ascii=False, sort_keys=True)
                done = conn.execute(
                    "INSERT OR IGNORE INTO events (id, watch_id, body, recorded) VALUES (?, ?, ?, ?)",
                    (event["id"], watch_id, body, stamp),
                )
                if done.rowcount and webhook:
                    now = time.time()
                    conn.execute(
                        "INSERT OR IGNORE INTO outbox (event_id, watch_id, url, first_at, next_at) VALUES (?, ?, ?, ?, ?)",
                        (event["id"], watch_id, webhook, now, now),
                    )
                added += done.rowcount
        return added

    def events(self, watch_id: str, since: int = 0, limit: int = 100) -> list[tuple[int, dict[str, Any]]]:
        """(cursor, event) of the watch recorded after cursor `since`, oldest first."""
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT seq, body FROM events WHERE watch_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                (watch_id, since, limit),
            ).fetchall()
        return [(int(seq), json.loads(body)) for seq, body in rows]

    def latest_events(self, watch_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The watch's last `limit` events, newest first (the feed, the UI)."""
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT body FROM events WHERE watch_id = ? ORDER BY seq DESC LIMIT ?", (watch_id, limit)
            ).fetchall()
        return [json.loads(body) for (body,) in rows]
