"""The cyclic collector is paused while walks run and runs again after the last one (queries/cycle_pause.py)."""

from __future__ import annotations

import gc
import threading

from supplygraph.queries.cycle_pause import cycles_paused


def test_paused_during_overlapping_walks_and_enabled_after_the_last() -> None:
    assert gc.isenabled()
    first_in, second_in, release_first, release_second = (threading.Event() for _ in range(4))
    seen: dict[str, bool] = {}

    @cycles_paused
    def walk(name: str, started: threading.Event, release: threading.Event) -> None:
        started.set()
        seen[name] = gc.isenabled()
        release.wait(10)

    one = threading.Thread(target=walk, args=("one", first_in, release_first))
    two = threading.Thread(target=walk, args=("two", second_in, release_second))
    one.start()
    first_in.wait(10)
    two.start()
    second_in.wait(10)
    release_first.set()
    one.join(10)
    assert not gc.isenabled()  # the second walk still runs
    release_second.set()
    two.join(10)
    assert seen == {"one": False, "two": False}
    assert gc.isenabled()


def test_enabled_again_when_a_walk_fails() -> None:
    @cycles_paused
    def failing() -> None:
        raise ValueError("no such affiliate")

    try:
        failing()
    except ValueError:
        pass
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled() -> None:
    gc.disable()
    try:
        cycles_paused(lambda: None)()
        assert not gc.isenabled()
    finally:
        gc.enable()
