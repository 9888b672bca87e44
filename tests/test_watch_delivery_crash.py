"""A server killed (SIGKILL) while it delivers webhooks, and started again, delivers every event at least
once, with the same ids and valid signatures (the outbox is in the watch file, not in memory)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from supplygraph.api.watches.store import WatchStore
from supplygraph.api.watches.webhooks import allow_host, check_webhook
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.changes import Question, encoded, watch_answer

from tests.conftest import DEMO
from tests.watch_receiver import Receiver, signature_ok


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(db: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "NEO4J_URI"}
    env.update(
        SUPPLYGRAPH_WATCH_EVERY_S="0.2", SUPPLYGRAPH_WATCH_DELIVER_EVERY_S="0.1", SUPPLYGRAPH_WATCH_RETRY_FIRST_S="0.2"
    )
    command = [sys.executable, "-m", "supplygraph.api.cli", "serve", "--port", str(free_port()), "--db", str(db)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_for(check, timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_killed_during_delivery_and_restarted(tmp_path: Path) -> None:
    db = tmp_path / "db"
    store = LadybugStore(db)
    load_bundles(store, [DEMO])
    receiver = Receiver(delay_s=0.25)  # slow: the kill comes with deliveries still waiting
    watches = WatchStore(db / "watches.sqlite")
    allow_host(watches, "127.0.0.1", "test")
    watch, secret, _feed = watches.create(
        "local", None, Question("affiliate", "AF-LIN"), check_webhook(watches, receiver.url)
    )
    before = date(2019, 1, 1)  # the baseline: before every contract, so today's answer is all change
    baseline = encoded(watch_answer(store, watch.question, before))
    watches.record(watch.id, baseline, store.generation, before.isoformat(), [])
    store.close()
    server = serve(db)
    try:
        assert wait_for(lambda: len(receiver.events()) >= 2, 60), "no deliveries from the first server"
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        recorded = [e["id"] for _s, e in watches.events(watch.id, 0, 10_000)]
        assert len(recorded) > len({e["id"] for e in receiver.events()}) + 2  # killed half-way
        server = serve(db)
        assert wait_for(lambda: {e["id"] for e in receiver.events()} >= set(recorded), 60), "not all delivered"
        assert [e["id"] for _s, e in watches.events(watch.id, 0, 10_000)] == recorded  # nothing new, the same ids
        for headers, body in receiver.requests:
            assert signature_ok(secret, headers, body)
    finally:
        server.kill()
        server.wait(10)
        receiver.close()
