"""Per-key fairness (api/fairness.py), on both stores: one key at its bound of expensive requests is
refused at once (429, Retry-After, problem details) while other keys' requests, cached answers and
/healthz are answered; a full sandbox refuses at once (503) instead of holding a thread; a refusal
says nothing about other tenants.

The flood is real: a researcher key runs queries that only end at their timeout, and every check
happens while they still hold their slots (asserted, not assumed from timings)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from supplygraph.api.fairness import Fairness, ServerBusy, TooManyRequests
from supplygraph.api.keys import Principal

from tests.test_api_access import AFFILIATES, Api, serve_demo

TIMEOUT_S = 15.0  # the flood's queries run this long, then are killed (504): longer than the checks take
PER_KEY = 2
# Runs until it is killed (~1,000x the timeout even on an idle machine): CPU only, no memory to run out of.
ENDLESS = "UNWIND range(1, 400000) AS x UNWIND range(1, 400000) AS y WITH x, y WHERE (x * y) % 7 = 3 RETURN count(*)"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    for api in serve_demo(
        request.param, tmp_path_factory, query_timeout_s=TIMEOUT_S, expensive_per_key=PER_KEY, cypher_workers=2
    ):
        # A walker process started before the checks (on a busy machine that takes seconds).
        assert api.call("investigator", "GET", uncached("AF-DBH", 28)).status_code == 200
        yield api


def principal(api: Api, who: str) -> Principal:
    found = api.keyring.lookup(api.keys[who])
    assert found is not None
    return found


def fairness(api: Api) -> Fairness:
    return api.client.app.state.supplygraph.fairness  # type: ignore[attr-defined, no-any-return]


@contextmanager
def flooding(api: Api, who: str = "researcher") -> Iterator[list[int]]:
    """`who` runs PER_KEY endless queries (every sandbox worker); yields once they hold their slots.
    Yields the statuses they end with (filled after the block)."""
    statuses: list[int] = []
    key_id = principal(api, who).key_id

    def endless() -> None:
        response = api.call(who, "POST", "/v1/cypher", {"query": ENDLESS, "params": {}, "timeout_s": TIMEOUT_S})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=endless) for _ in range(PER_KEY)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while fairness(api).held(key_id) < PER_KEY:
        assert time.monotonic() < deadline, "the flood's queries never started"
        assert not statuses, f"a flood query ended early: {statuses}"
        time.sleep(0.01)
    try:
        yield statuses
        assert fairness(api).held(key_id) == PER_KEY, "the flood ended before the checks did: raise TIMEOUT_S"
    finally:
        for thread in threads:
            thread.join(timeout=60)
    assert len(statuses) == PER_KEY and set(statuses) <= {400, 504}  # served, and stopped at a limit


def uncached(affiliate: str, n: int) -> str:
    """An exposure no one has asked for yet: a day of its own."""
    return f"/v1/affiliates/{affiliate}/exposure?as_of=2019-01-{n:02d}&depth=8&provenance=true"


def assert_refused(response: object, status: int) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    assert int(response.headers["retry-after"]) >= 1  # type: ignore[attr-defined]
    assert response.json()["status"] == status  # type: ignore[attr-defined]


def test_a_key_past_its_bound_gets_429_while_another_key_is_answered(api: Api) -> None:
    with flooding(api):
        assert_refused(api.call("researcher", "GET", uncached("AF-LIN", 1)), 429)
        assert_refused(api.call("researcher", "POST", "/v1/cypher", {"query": "RETURN 1", "params": {}}), 429)
        assert_refused(api.call("researcher", "GET", "/v1/factories/FA-TWP1/exposed-affiliates"), 429)
        # Another key's expensive requests run beside the flood, and its exposure is the right one.
        other = api.call("affiliate:AF-LIN", "GET", uncached("AF-LIN", 2))
        assert other.status_code == 200, other.text
        assert other.headers["x-cache"] == "miss" and other.json()["affiliate"]["id"] == "AF-LIN"
        reverse = api.call("investigator", "GET", "/v1/factories/FA-TWP1/exposed-affiliates?as_of=2026-06-01")
        assert reverse.status_code == 200 and reverse.json()["count"] > 0
    # Once its requests have ended, the key is served again.
    assert api.call("researcher", "GET", uncached("AF-LIN", 1)).status_code == 200


def ui_client(api: Api, who: str) -> TestClient:
    """A browser logged in to /ui with `who`'s key (it posts its page's origin, as a browser does)."""
    client = TestClient(
        api.client.app, base_url="https://testserver", follow_redirects=False, headers={"Origin": "https://testserver"}
    )
    answer = client.post("/ui/login", data={"key": api.keys[who], "next": "/ui/"})
    assert answer.status_code == 303, answer.text
    return client


def test_ui_exposure_views_take_a_slot_of_the_key_too(api: Api) -> None:
    """A drawing not yet made is expensive in the browser as on /v1: past the key's bound it is refused at
    once (no thread waits), while another key's drawing is made."""
    flooder, other = ui_client(api, "researcher"), ui_client(api, "investigator")
    with flooding(api):
        refused = flooder.get("/ui/exposure/affiliate/AF-LIN?as_of=2019-02-01")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        drawn = other.get("/ui/exposure/affiliate/AF-LIN?as_of=2019-02-02")
        assert drawn.status_code == 200 and "AF-LIN" in drawn.text
    assert flooder.get("/ui/exposure/affiliate/AF-LIN?as_of=2019-02-01").status_code == 200


def test_a_cached_answer_is_served_while_the_keys_slots_are_full(api: Api) -> None:
    cached = "/v1/affiliates/AF-UNB/exposure?as_of=2026-06-01"
    first = api.call("researcher", "GET", cached)
    assert first.status_code == 200
    with flooding(api):
        again = api.call("researcher", "GET", cached)
        assert again.status_code == 200 and again.headers["x-cache"] == "hit"
        assert again.json() == first.json()
        entity = api.call("researcher", "GET", "/v1/entities/factory/FA-TWP1")
        assert entity.status_code == 200  # an entity page is cheap: no slot
        assert_refused(api.call("researcher", "GET", uncached("AF-UNB", 3)), 429)


def test_healthz_and_cheap_requests_answer_while_the_sandbox_is_full(api: Api) -> None:
    with flooding(api):
        started = time.monotonic()
        busy = api.call("admin", "POST", "/v1/cypher", {"query": "RETURN 1", "params": {}})
        assert_refused(busy, 503)  # every sandbox worker is busy: refused at once, no thread waits
        assert time.monotonic() - started < TIMEOUT_S / 2
        health = api.call(None, "GET", "/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert api.call("affiliate:AF-DBH", "GET", "/v1/entities/affiliate/AF-DBH").status_code == 200


def test_a_refusal_says_nothing_about_other_tenants(api: Api) -> None:
    lin = principal(api, "affiliate:AF-LIN").key_id
    slots = fairness(api)
    for _ in range(PER_KEY):  # AF-LIN's key holds every slot it may (as if its own walks were running)
        slots.take(lin, "walkers")
    try:
        alone = api.call("affiliate:AF-LIN", "GET", uncached("AF-LIN", 4))
        with flooding(api):  # other tenants busy: the refusal must not change
            beside = api.call("affiliate:AF-LIN", "GET", uncached("AF-LIN", 5))
    finally:
        for _ in range(PER_KEY):
            slots.give_back(lin, "walkers")
    for refused in (alone, beside):
        assert_refused(refused, 429)
    assert alone.json() == beside.json()
    assert alone.headers["retry-after"] == beside.headers["retry-after"]
    text = beside.text
    for affiliate, name in AFFILIATES.items():
        if affiliate != "AF-LIN":
            assert affiliate not in text and name not in text
    for other in ("researcher", "investigator", "admin", "cypher", "sandbox"):
        assert other not in text.lower()


def test_admission_never_waits() -> None:
    """The bounds themselves: per key, then per executor; a slot given back is free again at once."""
    fair = Fairness(per_key=2, total=3, retry_after_s=4, sandbox_threads=1)
    try:
        fair.take("a", "threads")
        fair.take("a", "threads")
        with pytest.raises(TooManyRequests) as refused:
            fair.take("a", "sandbox")  # the bound is the key's, whatever the executor
        assert refused.value.headers == {"Retry-After": "4"}
        fair.take("b", "threads")
        with pytest.raises(ServerBusy):
            fair.take("c", "threads")  # the executor is full
        fair.take("c", "sandbox")
        with pytest.raises(ServerBusy):
            fair.take("b", "sandbox")
        fair.give_back("a", "threads")
        fair.take("c", "threads")
        assert (fair.held("a"), fair.held("b"), fair.held("c")) == (1, 1, 2)
    finally:
        fair.close()


def test_a_request_past_its_bound_waits_briefly_for_its_own_slot() -> None:
    """Within `wait_s` a slot the key gives back goes to its waiting request; past it, 429."""

    async def scenario() -> None:
        fair = Fairness(per_key=1, total=3, retry_after_s=1, sandbox_threads=1, wait_s=5.0)
        try:
            fair.take("a", "threads")
            waiting = asyncio.create_task(fair.admit("a", "threads"))
            await asyncio.sleep(0.05)
            assert not waiting.done()  # no slot of its own yet: it waits (in the event loop)
            fair.take("b", "threads")  # another key's slot does not free "a"'s
            await asyncio.sleep(0.05)
            assert not waiting.done()
            fair.give_back("a", "threads")
            await asyncio.wait_for(waiting, 5.0)
            assert fair.held("a") == 1
            fair.wait_s = 0.1
            started = time.monotonic()
            with pytest.raises(TooManyRequests):
                await fair.admit("a", "threads")
            assert 0.1 <= time.monotonic() - started < 2.0
        finally:
            fair.close()

    asyncio.run(scenario())
