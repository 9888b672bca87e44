"""Webhooks: change events POSTed from a persistent outbox, signed, retried, to allowed hosts only.

Each event of a watch with a webhook gets an outbox row in the same transaction that records it
(api/watches/store.py), so a crash or restart loses none: a row stays due until a receiver answers
2xx, and is sent again (the same body, the same event id) after a crash during its delivery. So
delivery is at least once: a receiver drops repeats by `Supplygraph-Event-Id`.

A request carries
  Supplygraph-Event-Id: ev_...            the event's stable id
  Supplygraph-Timestamp: 1764442800       seconds since 1970 (UTC) when this attempt was signed
  Supplygraph-Signature: v1=<hex>         HMAC-SHA256 with the watch's secret over `<timestamp>.<body>`
(docs/watches.md shows a receiver checking it). A failed attempt (no answer in `timeout_s`, or any
status but 2xx, redirects included: they are not followed) is tried again after 30 s, 1 min, 2 min,
... doubling up to 1 h apart, until 24 h after the first attempt; then the row is given up. Requests
go only to hosts an admin allowed (`supplygraph watch hosts allow HOST`), checked when a webhook is
set and again before every attempt, and never through a proxy; a watch whose keys were all revoked
sends nothing more.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from supplygraph.api.watches.model import now_text
from supplygraph.api.watches.store import WatchStore
from supplygraph.graph.errors import InvalidParameter, NotFound, SupplygraphError

logger = logging.getLogger(__name__)

EVENT_HEADER = "Supplygraph-Event-Id"
TIMESTAMP_HEADER = "Supplygraph-Timestamp"
SIGNATURE_HEADER = "Supplygraph-Signature"
BATCH = 100
HOST_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789.-")  # names and IPv4 addresses


class HostNotAllowed(SupplygraphError):
    """A webhook to a host no admin allowed: refused (403), whatever the URL."""

    http_status = 403
    exit_code = 2
    title = "Host not allowed"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: v1=hex(HMAC-SHA256(secret, b"<timestamp>." + body))."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


@dataclass(frozen=True)
class Backoff:
    first_s: float = 30.0
    max_delay_s: float = 3600.0
    give_up_s: float = 24 * 3600.0

    def delay(self, attempts: int) -> float:
        """The wait after the `attempts`-th failed attempt (1, 2, ...)."""
        return float(min(self.first_s * 2 ** max(attempts - 1, 0), self.max_delay_s))


# ---------------------------------------------------------------------- allowed hosts


def normal_host(host: str) -> str:
    name = host.strip().lower().rstrip(".")
    if not name or len(name) > 253 or not set(name) <= HOST_CHARS:
        raise InvalidParameter("host", f"{host!r} is not a host name or address")
    return name


def allow_host(watches: WatchStore, host: str, by: str) -> str:
    name = normal_host(host)
    with watches.connect() as conn:
        conn.execute(
            "INSERT OR IGNORE INTO webhook_hosts (host, added, added_by) VALUES (?, ?, ?)", (name, now_text(), by)
        )
    return name


def remove_host(watches: WatchStore, host: str) -> None:
    with watches.connect() as conn:
        if conn.execute("DELETE FROM webhook_hosts WHERE host = ?", (normal_host(host),)).rowcount == 0:
            raise NotFound(f"host {host!r} is not on the webhook allow-list")


def allowed_hosts(watches: WatchStore) -> list[dict[str, str]]:
    with watches.connect() as conn:
        rows = conn.execute("SELECT host, added, added_by FROM webhook_hosts ORDER BY host").fetchall()
    return [{"host": h, "added": a, "added_by": b} for h, a, b in rows]


def check_webhook(watches: WatchStore, url: str) -> str:
    """`url` if it is an http(s) URL on an allowed host; InvalidParameter saying what is wrong otherwise."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise InvalidParameter("webhook", f"{url!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidParameter("webhook", f"{url!r}: expected an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise InvalidParameter("webhook", "a webhook URL may not carry a user name or password")
    if host not in {h["host"] for h in allowed_hosts(watches)}:
        raise HostNotAllowed(
            f"webhook: host {host!r} is not allowed; an admin allows it with `supplygraph watch hosts allow {host}`"
        )
    return url


# ---------------------------------------------------------------------- delivery


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is an answer like any other non-2xx: a failed attempt


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


class Deliverer:
    """Sends the outbox's due rows; `run` does so until stopped (a thread of the server)."""

    def __init__(
        self,
        watches: WatchStore,
        backoff: Backoff | None = None,
        timeout_s: float = 10.0,
        tenants: Callable[[], set[str]] | None = None,
    ) -> None:
        self.watches = watches
        self.backoff = backoff or Backoff()
        self.timeout_s = timeout_s
        self.tenants = tenants  # the tenants whose watches may still deliver (api/watch_access.live_tenants)

    def due(self, now: float) -> list[tuple[Any, ...]]:
        with self.watches.connect() as conn:
            return conn.execute(
                "SELECT o.event_id, o.url, o.attempts, o.first_at, w.secret, e.body, w.tenant FROM outbox o"
                " JOIN watches w ON w.id = o.watch_id JOIN events e ON e.id = o.event_id"
                " WHERE o.delivered_at IS NULL AND o.gave_up_at IS NULL AND o.next_at <= ?"
                " ORDER BY o.next_at, e.seq LIMIT ?",
                (now, BATCH),
            ).fetchall()

    def deliver_due(self) -> int:
        """One pass over the due rows; returns how many were delivered."""
        delivered = 0
        hosts = {h["host"] for h in allowed_hosts(self.watches)}
        live = self.tenants() if self.tenants is not None else None
        for event_id, url, attempts, first_at, secret, body, tenant in self.due(time.time()):
            if live is not None and tenant not in live:
                self.settle(event_id, attempts, first_at, "the watch's keys are revoked", give_up=True)
                continue
            host = urlsplit(url).hostname or ""
            error = "host not allowed" if host not in hosts else self.send(url, event_id, secret, body.encode())
            self.settle(event_id, attempts + 1, first_at, error)
            delivered += error is None
        return delivered

    def send(self, url: str, event_id: str, secret: str, body: bytes) -> str | None:
        """POSTs one event; None when the receiver answered 2xx, else what went wrong."""
        stamp = int(time.time())
        request = urllib.request.Request(url, data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header("User-Agent", "supplygraph-webhooks")
        request.add_header(EVENT_HEADER, event_id)
        request.add_header(TIMESTAMP_HEADER, str(stamp))
        request.add_header(SIGNATURE_HEADER, sign(secret, stamp, body))
        try:
            with OPENER.open(request, timeout=self.timeout_s) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            return f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return f"{type(exc).__name__}: {exc}"[:300]
        return None if 200 <= status < 300 else f"HTTP {status}"

    def settle(
        self, event_id: str, attempts: int, first_at: float, error: str | None, *, give_up: bool = False
    ) -> None:
        now = time.time()
        with self.watches.connect() as conn:
            if error is None:
                conn.execute(
                    "UPDATE outbox SET attempts = ?, delivered_at = ?, last_error = NULL WHERE event_id = ?",
                    (attempts, now, event_id),
                )
                return
            next_at = now + self.backoff.delay(attempts)
            gave_up = now if give_up or next_at - first_at > self.backoff.give_up_s else None
            conn.execute(
                "UPDATE outbox SET attempts = ?, next_at = ?, gave_up_at = ?, last_error = ? WHERE event_id = ?",
                (attempts, next_at, gave_up, error, event_id),
            )
        if gave_up is not None:
            logger.warning("webhook delivery of %s given up after %d attempts: %s", event_id, attempts, error)

    def run(self, stop: threading.Event, every_s: float = 1.0) -> None:
        while not stop.is_set():
            try:
                self.deliver_due()
            except Exception:  # the thread must outlive a broken file or a bug in one pass
                logger.exception("webhook delivery pass failed")
            stop.wait(every_s)


def deliveries(watches: WatchStore, watch_id: str) -> list[dict[str, Any]]:
    """The watch's deliveries, newest first (GET /v1/watches/{id}/deliveries, `watch deliveries`)."""
    with watches.connect() as conn:
        rows = conn.execute(
            "SELECT event_id, url, attempts, next_at, delivered_at, gave_up_at, last_error FROM outbox"
            " WHERE watch_id = ? ORDER BY first_at DESC, event_id LIMIT 500",
            (watch_id,),
        ).fetchall()
    keys = ("event", "url", "attempts", "next_at", "delivered_at", "gave_up_at", "last_error")
    return [dict(zip(keys, row, strict=True)) for row in rows]
