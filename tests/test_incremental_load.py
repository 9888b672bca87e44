"""Incremental loads (loaders/incremental.py) against a full rebuild, on both stores: after any sequence of adds and
replacements of small bundles, the graph and every exposure answer equal those of ONE fresh load of the same
bundles; a bundle that incremental loading cannot take is rebuilt instead, and says why."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.exposure import exposure_for_affiliate
from supplygraph.queries.reverse import exposed_affiliates

from tests.conftest import DEMO
from tests.graph_dump import dump_graph
from tests.killed_load import kill_load_when
from tests.strategies import GRID, bundles, write_bundle

NAMES = ["m1", "m2", "m3"]
SOURCES = ["MS1", "MS2", "MS3"]  # shared by the small bundles: a source restated by several is one merged node
FINDINGS = ["MF1", "MF2", "MF3", "MF4", "MF5"]  # likewise: a finding in two bundles is one node, later values win


@st.composite
def small_bundle(draw, base: dict[str, list[dict[str, str]]]) -> dict[str, list[dict[str, str]]]:
    """A monitor's bundle about the base's factories and agencies: sources, findings, links; now and then a
    factory (a record entity resolution takes in: loaded by a full rebuild)."""
    factories = [r["factory_id"] for r in base["factories"]]
    agencies = [r["agency_id"] for r in base["agencies"]]
    products = [r["product_id"] for r in base["products"]]
    own = draw(st.lists(st.sampled_from(SOURCES), min_size=1, max_size=3, unique=True))
    date = st.sampled_from(["", *(d.isoformat() for d in GRID[::3])])
    rows: dict[str, list[dict[str, str]]] = {
        "sources": [{"source_id": s, "title": draw(st.sampled_from(["", f"Report {s}", "Audit"])), "kind": "audit"}
                    for s in own],
    }  # fmt: skip
    subjects = [("factory", f) for f in factories] + [("agency", a) for a in agencies]
    if subjects:
        rows["findings"] = [
            {"finding_id": fid, "subject_type": kind, "subject_id": subject,
             "category": draw(st.sampled_from(["wages", "debt_bondage", "recruitment_fees"])),
             "severity": draw(st.sampled_from(["", "low", "high"])), "status": draw(st.sampled_from(["", "open", "remediated"])),
             "reported_on": draw(date), "source_id": draw(st.sampled_from(["", *own]))}
            for fid in draw(st.lists(st.sampled_from(FINDINGS), max_size=3, unique=True))
            for kind, subject in [draw(st.sampled_from(subjects))]
        ]  # fmt: skip
    if len(factories) >= 1:
        pairs = st.tuples(st.sampled_from(factories), st.sampled_from(factories))
        rows["supply"] = [{"supplier_factory_id": a, "buyer_factory_id": b, "valid_from": draw(date),
                           "source_id": draw(st.sampled_from(["", *own]))}
                          for a, b in draw(st.lists(pairs, max_size=3))]  # fmt: skip
    if factories and agencies:
        rows["placements"] = [{"agency_id": draw(st.sampled_from(agencies)), "factory_id": draw(st.sampled_from(factories)),
                               "worker_origin": "NP", "valid_to": draw(date)} for _ in range(draw(st.integers(0, 2)))]  # fmt: skip
    if factories and products:
        rows["assembly"] = [{"product_id": draw(st.sampled_from(products)), "factory_id": draw(st.sampled_from(factories)),
                             "source_id": own[0]} for _ in range(draw(st.integers(0, 2)))]  # fmt: skip
    if draw(st.integers(0, 5)) == 0:
        rows["factories"] = [{"factory_id": "FA-MON", "name": "Monitor Listed Plant", "country": "VN"}]
    return rows


def answers(store, rows: dict[str, list[dict[str, str]]]) -> dict:
    """Every affiliate's exposure on a few days, and who is exposed to each finding."""
    out = {}
    for day in (GRID[8], GRID[20], GRID[26]):
        for affiliate in sorted(r["affiliate_id"] for r in rows["affiliates"]):
            out[(affiliate, day)] = exposure_for_affiliate(store, affiliate, day).as_json()
        for finding in [*(r["finding_id"] for r in rows["findings"]), *FINDINGS]:
            try:
                found = exposed_affiliates(store, "finding", finding, day)
            except Exception as exc:  # a finding not (or no longer) in the graph: the same error both ways
                out[(finding, day)] = type(exc).__name__
                continue
            out[(finding, day)] = sorted(a["id"] for a in found.affiliates)
    return out


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(base=bundles(), data=st.data())
def test_adds_and_replacements_equal_one_fresh_load(store_factory, tmp_path_factory, base, data) -> None:
    store = store_factory()
    tmp = tmp_path_factory.mktemp("inc")
    write_bundle(base, tmp / "base")
    load_bundles(store, [tmp / "base"], names=["base"], fresh=True, incremental=False)
    order, folders = ["base"], {"base": tmp / "base"}
    for step in range(data.draw(st.integers(1, 4))):
        name = data.draw(st.sampled_from(NAMES))
        rows = data.draw(small_bundle(base))
        folder = tmp / f"step{step}" / name
        write_bundle(rows, folder)
        report = load_bundles(store, [folder], names=[name], incremental=True)
        assert (report.rebuilt_because == "") == (
            "factories" not in rows and "factories" not in _rows_of(folders.get(name))
        )
        order = [n for n in order if n != name] + [name]
        folders[name] = folder
    incremental_dump, incremental_answers = dump_graph(store), answers(store, base)
    load_bundles(store, [folders[n] for n in order], names=order, fresh=True, incremental=False)
    assert [b.name for b in store.bundles()] == order
    assert incremental_dump == dump_graph(store)
    assert incremental_answers == answers(store, base)


def _rows_of(folder: Path | None) -> set[str]:
    return set() if folder is None else {p.stem for p in folder.glob("*.csv")}


def test_cli_says_how_it_loaded(tmp_path: Path) -> None:
    from tests.test_cli import cli

    db = tmp_path / "db"
    assert cli("load", str(DEMO), db=db).returncode == 0
    extra = tmp_path / "monitor"
    extra.mkdir()
    (extra / "findings.csv").write_text(
        "finding_id,subject_type,subject_id,category,source_id\nFI-M1,factory,FA-SH2,wages,SRC-01\n"
    )
    added = cli("load", str(extra), db=db)
    assert added.returncode == 0 and "incremental" in added.stdout, added.stdout
    rebuilt = cli("load", str(extra), "--rebuild", db=db)
    assert rebuilt.returncode == 0 and "full rebuild" in rebuilt.stdout and "--rebuild" in rebuilt.stdout
    (extra / "factories.csv").write_text("factory_id,name,country\nFA-M1,Monitor Plant,VN\n")
    resolved = cli("load", str(extra), db=db).stdout
    assert "full rebuild" in resolved and "factories" in resolved
    assert "--rebuild" in cli("load", "--help").stdout


def test_sigkill_during_an_incremental_load_leaves_the_graph_before(tmp_path: Path) -> None:
    from supplygraph.graph.stores.ladybug_store import LadybugStore

    from benchmarks.bench_incremental import write_small_bundle
    from benchmarks.synthetic import generate

    db = tmp_path / "db"
    store = LadybugStore(db)
    generate(tmp_path / "graph", factories=5_000)
    load_bundles(store, [tmp_path / "graph"])
    write_small_bundle(tmp_path / "monitor", 5_000, 5_000, 250, seed=3)
    before, current = dump_graph(store), (db / "CURRENT").read_text()
    # killed while the current database is being copied, or the delta written into the copy
    kill_load_when(tmp_path / "monitor", db, lambda folders: any((g / "graph.lbug").exists() for g in folders))
    assert (db / "CURRENT").read_text() == current
    reopened = LadybugStore(db)
    assert dump_graph(reopened) == before
    report = load_bundles(
        reopened, [tmp_path / "monitor"]
    )  # the next load goes through and clears the half-written one
    assert report.rebuilt_because == "" and len(list((db / "generations").iterdir())) <= 2
    assert reopened.run("MATCH (f:Finding) WHERE f.id STARTS WITH 'INC-' RETURN count(f) AS n")[0]["n"] == 2495


def test_readers_see_the_graph_before_until_the_change_is_whole(store_factory, tmp_path: Path) -> None:
    """At the last stage before an incremental load is made visible (the copy written but not current; the
    transaction written but not committed), another reader still gets the graph before; a load that fails
    there leaves it."""
    import pytest
    from supplygraph.graph.stores import load_lock

    store = store_factory()
    load_bundles(store, [DEMO], fresh=True)
    before = dump_graph(store)
    monitor = tmp_path / "monitor"
    monitor.mkdir()
    (monitor / "findings.csv").write_text(
        "finding_id,subject_type,subject_id,category,source_id\nFI-M1,factory,FA-SH2,wages,SRC-01\n"
    )
    (monitor / "supply.csv").write_text("supplier_factory_id,buyer_factory_id,source_id\nFA-SH2,FA-DVB,SRC-01\n")
    seen: list[dict] = []

    def read_then(fail: bool):
        def hook(stage: str) -> None:
            if stage == load_lock.WRITTEN:
                reader = store if store.dialect == "neo4j" else type(store)(tmp_path / "db")
                seen.append(dump_graph(reader))
                if fail:
                    raise RuntimeError("the load dies here")

        return hook

    load_lock.stage_hooks.append(read_then(fail=True))
    try:
        with pytest.raises(RuntimeError, match="dies here"):
            load_bundles(store, [monitor], incremental=True)
    finally:
        load_lock.stage_hooks.clear()
    assert seen == [before] and dump_graph(store) == before and [b.name for b in store.bundles()] == ["bundle"]
    load_lock.stage_hooks.append(read_then(fail=False))
    try:
        assert load_bundles(store, [monitor], incremental=True).rebuilt_because == ""
    finally:
        load_lock.stage_hooks.clear()
    assert seen[1] == before and dump_graph(store) != before
    assert store.run("MATCH (f:Finding {id: 'FI-M1'})-[:CONCERNS]->(x) RETURN x.id AS id") == [{"id": "FA-SH2"}]
