"""Change events equal the difference of two oracle answers (tests/oracle.py), on both stores (bundles 1.0
for what enters and leaves, 1.1 for tier and basis changes over several days).

For generated pairs of bundles and days: load A, answer every watch on day 1 (the baseline), again on
day 2 (the day moved), then load B and answer on day 2 (a load): each time the recorded events must
be what an independent diff of the oracle's two answers says. Also: answering again records nothing,
and the same change computed again (from a copy of the watch file) has the same event id.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from supplygraph.api.watches.runner import evaluate_watches
from supplygraph.api.watches.store import WatchStore
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.changes import Question

from tests import oracle
from tests.strategies import bundles, bundles_11, query_dates, write_bundle

Change = tuple[str, str, object, object]


def oracle_diff(old_rows, old_day: date, new_rows, new_day: date, affiliate: str, depth: int) -> set[Change]:
    """The expected events, written from the two oracle answers and the findings' rows only."""
    known = {r["affiliate_id"] for r in new_rows["affiliates"]}
    before = oracle.exposure_oracle(old_rows, affiliate, old_day, depth)
    after = oracle.exposure_oracle(new_rows, affiliate, new_day, depth) if affiliate in known else None
    after = after or {"factories": {}, "agencies": set(), "findings": set(), "gaps": set()}
    out: set[Change] = set()
    for f in after["factories"].keys() - before["factories"].keys():
        out.add(("factory_added", f, None, after["factories"][f]))
    for f in before["factories"].keys() - after["factories"].keys():
        out.add(("factory_removed", f, before["factories"][f], None))
    for f in before["factories"].keys() & after["factories"].keys():
        if before["factories"][f] != after["factories"][f]:
            out.add(("tier_changed", f, before["factories"][f], after["factories"][f]))
    out |= {("agency_added", a, None, None) for a in after["agencies"] - before["agencies"]}
    out |= {("agency_removed", a, None, None) for a in before["agencies"] - after["agencies"]}
    out |= {("gap_added", g, None, None) for g in after["gaps"] - before["gaps"]}
    out |= {("gap_removed", g, None, None) for g in before["gaps"] - after["gaps"]}
    old_findings = {r["finding_id"]: r for r in old_rows["findings"]}
    new_findings = {r["finding_id"]: r for r in new_rows["findings"]}
    out |= {("finding_exposed", f, None, None) for f in after["findings"] - before["findings"]}
    for f in before["findings"] - after["findings"]:
        row = new_findings.get(f)
        closed = row is not None and not oracle.finding_open(row, new_day)
        out.add(("finding_no_longer_open" if closed else "finding_unexposed", f, None, None))
    for f in before["findings"] & after["findings"]:
        was, now = old_findings[f]["severity"] or None, new_findings[f]["severity"] or None
        if was != now:
            out.add(("severity_changed", f, was, now))
    return out


def reverse_diff(old_rows, old_day: date, new_rows, new_day: date, factory: str, depth: int) -> set[Change]:
    """Who is exposed to `factory`, and at which tier, before and after, from the oracle's forward answers."""

    def tiers(rows, day: date) -> dict[str, int]:
        found = {a: oracle.exposure_oracle(rows, a, day, depth)["factories"] for a in oracle.all_affiliates(rows)}
        return {a: f[factory] for a, f in found.items() if factory in f}

    before, after = tiers(old_rows, old_day), tiers(new_rows, new_day)
    out = {("affiliate_added", a, None, after[a]) for a in after.keys() - before.keys()}
    out |= {("affiliate_removed", a, before[a], None) for a in before.keys() - after.keys()}
    return out | {("tier_changed", a, before[a], after[a]) for a in before.keys() & after.keys() if before[a] != after[a]}


def recorded(watches: WatchStore, watch_id: str, affiliate: str, since: int) -> tuple[set[Change], int]:
    got: set[Change] = set()
    last = since
    for seq, event in watches.events(watch_id, since, 100_000):
        last = seq
        kind, item = event["type"], event["item"]["id"]
        field = {"tier_changed": "tier", "factory_added": "tier", "factory_removed": "tier"}.get(kind)
        field = "severity" if kind == "severity_changed" else field
        was = (event["before"] or {}).get(field) if field else None
        now = (event["after"] or {}).get(field) if field else None
        got.add((kind, item, was, now))
        if kind.startswith("gap_"):
            assert event["details"]["item"]
        else:  # the item's path in the answer it is in (the new one, or the old one for what left)
            assert event["path"][0] == affiliate and event["path"][-1] == item
        assert event["watch"] == watch_id and event["as_of"]
    return got, last


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(first=bundles(), second=bundles(), data=st.data())
def test_events_are_the_oracle_difference(store_factory, tmp_path_factory, first, second, data) -> None:
    store = store_factory()
    folder = tmp_path_factory.mktemp("watches")
    watches = WatchStore(folder / "watches.sqlite")
    depth = data.draw(st.sampled_from([4, 2, 1]))
    day1, day2 = data.draw(query_dates(first)), data.draw(query_dates(second))
    with tempfile.TemporaryDirectory() as tmp:
        write_bundle(first, Path(tmp) / "a")
        write_bundle(second, Path(tmp) / "b")
        rows_a, rows_b = oracle.read_bundle(Path(tmp) / "a"), oracle.read_bundle(Path(tmp) / "b")
        affiliates = sorted({r["affiliate_id"] for r in rows_a["affiliates"]})
        made = {a: watches.create("local", None, Question("affiliate", a, depth), None)[0].id for a in affiliates}
        reverse = watches.create("local", None, Question("factory", "F1", depth), None)[0].id

        load_bundles(store, [Path(tmp) / "a"], fresh=True)
        assert evaluate_watches(store, watches, day1).events == 0  # the baseline
        cursors = dict.fromkeys(affiliates, 0)
        steps = [(rows_a, day1, rows_a, day2, False), (rows_a, day2, rows_b, day2, True)]
        for old_rows, old_day, new_rows, new_day, reload in steps:
            if reload:
                copy = folder / "copy.sqlite"
                shutil.copy(watches.path, copy)
                load_bundles(store, [Path(tmp) / "b"], fresh=True)
            done = evaluate_watches(store, watches, new_day)
            assert not done.failed
            for affiliate, watch_id in made.items():
                got, cursors[affiliate] = recorded(watches, watch_id, affiliate, cursors[affiliate])
                assert got == oracle_diff(old_rows, old_day, new_rows, new_day, affiliate, depth), (affiliate, reload)
            got = {
                (e["type"], e["item"]["id"], (e["before"] or {}).get("tier"), (e["after"] or {}).get("tier"))
                for _s, e in watches.events(reverse, 0, 100_000)
                if e["as_of"] == new_day.isoformat() and e["cause"]["kind"] == ("load" if reload else "day")
            }
            assert got == reverse_diff(old_rows, old_day, new_rows, new_day, "F1", depth), reload
            assert evaluate_watches(store, watches, new_day).events == 0  # answered already: nothing again
        again = WatchStore(copy)
        evaluate_watches(store, again, day2)
        for watch_id in made.values():
            assert [e["id"] for _s, e in again.events(watch_id, 0, 100_000)] == [
                e["id"] for _s, e in watches.events(watch_id, 0, 100_000)
            ]


def oracle_diff_11(old, new) -> set[Change]:
    """Bundle 1.1: tier and basis changes of factories, basis changes of agencies and findings, from two
    answers of oracle.exposure_oracle_11 (what enters or leaves is checked above, on 1.0 bundles)."""
    out: set[Change] = set()
    for f in old["factories"].keys() & new["factories"].keys():
        (t0, b0), (t1, b1) = old["factories"][f], new["factories"][f]
        if t0 != t1:
            out.add(("tier_changed", f, t0, t1))
        if b0 != b1:
            out.add(("basis_changed", f, b0, b1))
    for section in ("agencies", "findings"):
        for item in old[section].keys() & new[section].keys():
            if old[section][item] != new[section][item]:
                out.add(("basis_changed", item, old[section][item], new[section][item]))
    return out


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=bundles_11(), data=st.data())
def test_tier_and_basis_changes_are_the_oracle_difference(store_factory, tmp_path_factory, rows, data) -> None:
    store = store_factory()
    watches = WatchStore(tmp_path_factory.mktemp("watches-11") / "watches.sqlite")
    depth = data.draw(st.integers(1, 5))
    days = [data.draw(query_dates(rows)) for _ in range(3)]
    with tempfile.TemporaryDirectory() as tmp:
        write_bundle(rows, Path(tmp) / "a")
        back = oracle.read_bundle(Path(tmp) / "a")
        load_bundles(store, [Path(tmp) / "a"], fresh=True)
    made = {
        a: watches.create("local", None, Question("affiliate", a, depth), None)[0].id
        for a in sorted(r["affiliate_id"] for r in back["affiliates"])
    }
    evaluate_watches(store, watches, days[0])
    cursors = dict.fromkeys(made, 0)
    for old_day, new_day in zip(days, days[1:]):
        evaluate_watches(store, watches, new_day)
        for affiliate, watch_id in made.items():
            got: set[Change] = set()
            for seq, event in watches.events(watch_id, cursors[affiliate], 100_000):
                cursors[affiliate] = seq
                if event["type"] in ("tier_changed", "basis_changed"):
                    field = "tier" if event["type"] == "tier_changed" else "basis"
                    got.add((event["type"], event["item"]["id"], event["before"][field], event["after"][field]))
            before = oracle.exposure_oracle_11(back, affiliate, old_day, depth)
            after = oracle.exposure_oracle_11(back, affiliate, new_day, depth)
            assert got == oracle_diff_11(before, after), (affiliate, old_day, new_day)
