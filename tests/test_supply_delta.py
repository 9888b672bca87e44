"""The supply walk's arrays updated from a change (queries/supply_delta.py) against a fresh build: after random
changes (links added, removed, replaced by others of other ends, dates or sources; parallel and repeated links),
every part written as a file equals, byte for byte, the file a fresh build of the links after the change writes,
whatever order the rows are read in. The full path through a store is in tests/test_link_reuse.py."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from supplygraph.queries.link_files import read_parts, write_parts
from supplygraph.queries.supply_delta import updated_supply_parts
from supplygraph.queries.supply_walk import supply_parts

FACTORIES = [f"F{i}" for i in range(12)] + ["F1x", "Fé"]  # ids of several widths, one not ASCII
DAYS = [None, date(2020, 1, 1), date(2024, 6, 30), date(2026, 1, 1)]
SOURCES = [None, "S1", "S2", "S1|S2", "S10"]

link = st.tuples(
    st.sampled_from(FACTORIES), st.sampled_from(FACTORIES), st.sampled_from(DAYS), st.sampled_from(DAYS),
    st.sampled_from(SOURCES),
)  # fmt: skip


def table(rows: list[tuple]) -> pa.Table:
    """Links as the supply walk's bulk read gives them (buyer, supplier, valid_from, valid_to, sources)."""
    columns = list(zip(*rows, strict=True)) if rows else [[]] * 5
    return pa.table({
        "buyer": pa.array(columns[0], pa.string()), "supplier": pa.array(columns[1], pa.string()),
        "valid_from": pa.array(columns[2], pa.date32()), "valid_to": pa.array(columns[3], pa.date32()),
        "sources": pa.array(columns[4], pa.string()),
    })  # fmt: skip


def files(folder: Path, parts: dict) -> dict[str, bytes]:
    assert write_parts(folder, parts, "g")
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=st.lists(link, max_size=40),
    parallel=st.lists(link, max_size=6),
    data=st.data(),
    seed=st.integers(0, 2**16),
)
def test_updated_parts_equal_a_fresh_build(tmp_path_factory, before, parallel, data, seed) -> None:
    rng = random.Random(seed)
    before = before + [(*a[:2], *b[2:]) for a, b in zip(before, parallel, strict=False)]  # parallel: same ends
    ids = pa.chunked_array([pa.array(FACTORIES, pa.string())])
    tmp = tmp_path_factory.mktemp("delta")
    old = read_parts(tmp / "old", "g") if write_parts(tmp / "old", supply_parts(table(before), ids), "g") else None
    assert old is not None  # memory-mapped, as an incremental load reads them
    gone = data.draw(st.lists(st.integers(0, len(before) - 1), unique=True)) if before else []
    removed = [before[i] for i in gone]
    replaced = [
        (b if rng.random() < 0.5 else rng.choice(FACTORIES), s if rng.random() < 0.5 else rng.choice(FACTORIES),
         rng.choice(DAYS), f if rng.random() < 0.5 else rng.choice(DAYS), rng.choice(SOURCES))
        for b, s, _f, f, _src in removed
    ]  # fmt: skip
    added = replaced + data.draw(st.lists(link, max_size=10))
    after = list(before)
    for row in removed:
        after.remove(row)
    after += added
    rng.shuffle(after)  # the order a store happens to return the rows in
    updated = updated_supply_parts(old, table(added), table(removed))
    assert updated is not None
    fresh = supply_parts(table(after), ids)
    assert updated.keys() == {k for k in fresh if k.startswith("supply_")}
    assert files(tmp / "updated", updated) == files(tmp / "fresh", {k: fresh[k] for k in updated})


def test_a_removed_link_the_arrays_do_not_have_is_refused(tmp_path: Path) -> None:
    links = [("F1", "F2", None, None, "S1"), ("F1", "F3", date(2020, 1, 1), None, None)]
    ids = pa.chunked_array([pa.array(FACTORIES, pa.string())])
    assert write_parts(tmp_path / "old", supply_parts(table(links), ids), "g")
    old = read_parts(tmp_path / "old", "g")
    assert old is not None
    other = [("F1", "F2", None, None, "S2")]  # same ends, other sources: not a link of the graph
    assert updated_supply_parts(old, table([]), table(other)) is None
    twice = [links[0], links[0]]  # one link cannot be removed twice
    assert updated_supply_parts(old, table([]), table(twice)) is None
    unknown = [("F1", "F99", None, None, None)]  # an end without a code
    assert updated_supply_parts(old, table(unknown), table([])) is None
    day = date(2020, 1, 1) + timedelta(days=1)
    assert updated_supply_parts(old, table([("F2", "F1", day, None, "S1")]), table([links[1]])) is not None
