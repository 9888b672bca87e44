"""Webhook deliveries to a real HTTP receiver on loopback, on both stores: signed, retried, stopped."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from supplygraph.api.watches.runner import evaluate_watches
from supplygraph.api.watches.store import WatchStore
from supplygraph.api.watches.webhooks import (
    Backoff,
    Deliverer,
    HostNotAllowed,
    allow_host,
    check_webhook,
    deliveries,
    remove_host,
)
from supplygraph.graph.errors import InvalidParameter
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.changes import Question

from tests.conftest import DEMO
from tests.watch_receiver import Receiver, signature_ok

BEFORE, AFTER = date(2019, 1, 1), date(2026, 6, 1)
FAST = Backoff(first_s=0.01, max_delay_s=0.05, give_up_s=3600)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def watched(store, tmp_path: Path, url: str) -> tuple[WatchStore, str, str, list[str]]:
    """The demo graph, a watch of AF-LIN with a webhook, its baseline before any contract and the day
    after: (watch file, watch id, its secret, the ids of the events recorded)."""
    load_bundles(store, [DEMO])
    watches = WatchStore(tmp_path / "watches.sqlite")
    allow_host(watches, "127.0.0.1", "test")
    watch, secret, _feed = watches.create("local", None, Question("affiliate", "AF-LIN"), check_webhook(watches, url))
    evaluate_watches(store, watches, BEFORE)
    evaluate_watches(store, watches, AFTER)
    ids = [event["id"] for _seq, event in watches.events(watch.id)]
    assert len(ids) > 5
    return watches, watch.id, secret, ids


def deliver_all(deliverer: Deliverer, want: int, receiver: Receiver, timeout_s: float = 20) -> None:
    end = time.monotonic() + timeout_s
    while len({e["id"] for e in receiver.events()}) < want and time.monotonic() < end:
        deliverer.deliver_due()
        time.sleep(0.02)


def test_every_event_arrives_signed(store, tmp_path: Path, receiver: Receiver) -> None:
    watches, watch_id, secret, ids = watched(store, tmp_path, receiver.url)
    deliver_all(Deliverer(watches, FAST), len(ids), receiver)
    assert sorted(e["id"] for e in receiver.events()) == sorted(ids)
    recorded = {e["id"]: e for _s, e in watches.events(watch_id)}
    for headers, body in receiver.requests:
        assert signature_ok(secret, headers, body)
        assert not signature_ok("whsec_other", headers, body)
        event = json.loads(body)
        assert headers["Supplygraph-Event-Id"] == event["id"] and event == recorded[event["id"]]
    assert all(d["delivered_at"] and d["attempts"] == 1 for d in deliveries(watches, watch_id))
    for path in tmp_path.glob("watches.sqlite*"):  # the secrets' file (and SQLite's journal files) owner-only
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_receiver_failing_for_a_while_gets_everything_after(store, tmp_path: Path, receiver: Receiver) -> None:
    watches, watch_id, _secret, ids = watched(store, tmp_path, receiver.url)
    deliverer = Deliverer(watches, FAST)
    receiver.failing = True
    for _ in range(4):
        deliverer.deliver_due()
        time.sleep(0.06)
    assert receiver.events() == []
    tried = deliveries(watches, watch_id)
    assert all(d["attempts"] >= 2 and d["last_error"] == "HTTP 500" and not d["delivered_at"] for d in tried)
    receiver.failing = False
    deliver_all(deliverer, len(ids), receiver)
    assert sorted(e["id"] for e in receiver.events()) == sorted(ids)


def test_backoff_doubles_and_gives_up(store, tmp_path: Path, receiver: Receiver) -> None:
    assert [Backoff(30, 3600).delay(n) for n in (1, 2, 3, 8, 9)] == [30, 60, 120, 3600, 3600]
    watches, watch_id, _secret, _ids = watched(store, tmp_path, receiver.url)
    deliverer = Deliverer(watches, Backoff(first_s=0.01, max_delay_s=0.02, give_up_s=0.2))
    receiver.failing = True
    end = time.monotonic() + 10
    while any(not d["gave_up_at"] for d in deliveries(watches, watch_id)) and time.monotonic() < end:
        deliverer.deliver_due()
        time.sleep(0.02)
    assert all(d["gave_up_at"] and not d["delivered_at"] for d in deliveries(watches, watch_id))
    receiver.failing = False
    deliverer.deliver_due()
    assert receiver.events() == []  # given up: not sent again


def test_a_deleted_watch_stops_its_deliveries(store, tmp_path: Path, receiver: Receiver) -> None:
    watches, watch_id, _secret, _ids = watched(store, tmp_path, receiver.url)
    watches.delete(watch_id)
    Deliverer(watches, FAST).deliver_due()
    assert receiver.events() == []
    assert {d["last_error"] for d in deliveries(watches, watch_id)} == {"watch deleted"}
    assert evaluate_watches(store, watches, date(2026, 12, 1)).answered == 0


def test_only_allowed_hosts(store, tmp_path: Path, receiver: Receiver) -> None:
    watches, watch_id, _secret, _ids = watched(store, tmp_path, receiver.url)
    with pytest.raises(HostNotAllowed):
        check_webhook(watches, "http://10.0.0.1/x")
    for url in ("ftp://127.0.0.1/x", "http://user:pw@127.0.0.1/x", "127.0.0.1/x", "http://[::1"):
        with pytest.raises(InvalidParameter):
            check_webhook(watches, url)
    remove_host(watches, "127.0.0.1")  # removed after the watch was made: nothing goes there any more
    Deliverer(watches, FAST).deliver_due()
    assert receiver.events() == []
    assert {d["last_error"] for d in deliveries(watches, watch_id)} == {"host not allowed"}


def test_a_watch_whose_keys_are_revoked_sends_nothing(store, tmp_path: Path, receiver: Receiver) -> None:
    watches, watch_id, _secret, _ids = watched(store, tmp_path, receiver.url)
    Deliverer(watches, FAST, tenants=lambda: {"affiliate:AF-LIN"}).deliver_due()  # not the local operator's
    assert receiver.events() == []
    assert {d["last_error"] for d in deliveries(watches, watch_id)} == {"the watch's keys are revoked"}
    assert all(d["gave_up_at"] for d in deliveries(watches, watch_id))
