"""Neo4j and the embedded store side by side (a script, not a test).

    .venv/bin/python benchmarks/bench_neo4j.py [--factories 100000] [--queries 200] [--uri bolt://127.0.0.1:7687]
        [--repeat 3]

1. batch size: loads the 10k-factory bundle into Neo4j with UNWIND batches of 1k, 10k and 50k rows;
2. the naive baseline: one MERGE per row, each its own transaction, on a sample of supply links;
3. the big load: the --factories bundle into Neo4j (chosen batch; --repeat times, median) and
   into the embedded store; with the Neo4j server's CPU seconds (read from /proc when the server
   runs on this machine under scripts/neo4j-server) and this process's;
4. the exposure link index on Neo4j: built over Bolt, then again from its saved reads;
5. exposure for random affiliates on both stores (Neo4j once its server is idle again): warm p50/p95 over --queries calls, and the
   Neo4j-side steps alone (affiliate, purchases, assembly Cypher).
Needs a Neo4j (scripts/neo4j-server start); the Neo4j database is wiped. Load averages are printed
at the start and the end: on a shared machine, wall-clock figures move with them.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from supplygraph.graph.settings import Neo4jSettings
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.graph.stores.neo4j_store import Neo4jStore
from supplygraph.graph.tables import build_tables
from supplygraph.loaders.bundle import read_bundle
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries import cypher
from supplygraph.queries.exposure import exposure_for_affiliate
from supplygraph.queries.steps import steps_for

from benchmarks.synthetic import generate

ROOT = Path(__file__).resolve().parent.parent


def bundle(workdir: Path, size: int) -> Path:
    path = workdir / f"synthetic-{size}"
    if not (path / "supply.csv").exists():
        generate(path, factories=size)
    return path


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]  # noqa: E731
    return f"p50 {pick(0.5):.1f} ms, p95 {pick(0.95):.1f} ms, max {ordered[-1]:.1f} ms"


def exposure_timings(stores: list, queries: int) -> list[str]:
    """Warm exposure p50/p95 for the same random affiliates on each store, the stores taking turns
    affiliate by affiliate (so that a background burst on the machine hits them alike)."""
    affiliates = [r["id"] for r in stores[0].run("MATCH (a:Affiliate) RETURN a.id AS id")]
    rng = random.Random(1)
    day = date(2026, 6, 1)
    for _ in range(5):
        chosen = rng.choice(affiliates)
        for store in stores:
            exposure_for_affiliate(store, chosen, day)
    timings: list[list[float]] = [[] for _ in stores]
    for _ in range(queries):
        chosen = rng.choice(affiliates)
        for store, times in zip(stores, timings, strict=True):
            started = time.perf_counter()
            exposure_for_affiliate(store, chosen, day)
            times.append((time.perf_counter() - started) * 1000)
    return [percentiles(times) for times in timings]


def step_timings(store: Neo4jStore, queries: int) -> str:
    """The Cypher steps of exposure that stay on Neo4j: affiliate, purchases (both kinds), assembly."""
    affiliates = [r["id"] for r in store.run(cypher.AFFILIATES_WITH_CONTRACTS)]
    rng = random.Random(2)
    params = {"as_of": date(2026, 6, 1)}
    timings = []
    for i in range(queries + 5):
        params["affiliate_id"] = rng.choice(affiliates)
        started = time.perf_counter()
        store.run(cypher.AFFILIATE, params)
        bought = store.run(cypher.PURCHASES_DIRECT, params) + store.run(cypher.PURCHASES_FRAMEWORK, params)
        store.run(cypher.ASSEMBLY_OF_PRODUCTS, {**params, "product_ids": sorted({r["product"] for r in bought})})
        if i >= 5:
            timings.append((time.perf_counter() - started) * 1000)
    return percentiles(timings)


def server_cpu_seconds(state_dir: Path) -> float | None:
    """CPU seconds the local Neo4j JVM has used so far (None when it is not ours to read)."""
    try:
        pid = (state_dir / "neo4j.pid").read_text().strip()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def wait_until_server_idle(state_dir: Path, limit_s: float = 120.0) -> str:
    """Wait until the local Neo4j JVM uses under 10% of a CPU over a second (after a big load it
    checkpoints and collects for a while, and on 2 CPUs that would be timed as exposure latency,
    although the indexed exposure does not call the server)."""
    started = time.perf_counter()
    before = server_cpu_seconds(state_dir)
    while before is not None and time.perf_counter() - started < limit_s:
        time.sleep(1.0)
        now = server_cpu_seconds(state_dir)
        if now is None or now - before < 0.1:
            break
        before = now
    return f"server idle after {time.perf_counter() - started:.0f} s"


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def naive_rows_per_second(store: Neo4jStore, path: Path, sample: int) -> float:
    """One MERGE per row in its own transaction: the baseline the batched loader must beat."""
    tables = build_tables([(path.name, read_bundle(path).tables)])
    supply = next(p for p in tables.rels if p.type == "SUPPLIES").table.slice(0, sample).to_pylist()
    started = time.perf_counter()
    for row in supply:
        store.write(
            "MATCH (a:Factory {id: $from}) MATCH (b:Factory {id: $to}) MERGE (a)-[r:SUPPLIES {naive: true}]->(b)"
            " SET r.component = $component",
            {"from": row["from"], "to": row["to"], "component": row["component"]},
        )
    return len(supply) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factories", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--uri", default=Neo4jSettings().uri or "bolt://127.0.0.1:7687")
    parser.add_argument("--workdir", type=Path, default=Path("bench-data"))
    parser.add_argument("--batches", type=int, nargs="+", default=[1_000, 10_000, 50_000])
    parser.add_argument("--batch", type=int, default=10_000, help="batch size for the big load")
    parser.add_argument("--repeat", type=int, default=1, help="big Neo4j loads to run (the median is printed)")
    parser.add_argument(
        "--state-dir", type=Path, default=Path(os.environ.get("NEO4J_STATE_DIR", ROOT / ".neo4j")),
        help="scripts/neo4j-server's state folder, to read the server's CPU time",
    )
    args = parser.parse_args()
    args.workdir.mkdir(exist_ok=True)
    settings = Neo4jSettings()
    small = bundle(args.workdir, 10_000)
    print(f"load average at start: {load_average()} ({os.cpu_count()} CPUs)")

    warm = Neo4jStore(args.uri, settings.user, settings.password, settings.database)
    warm.wipe()
    load_bundles(warm, [small], fresh=True)  # not timed: the server's JIT compiles the load's code paths
    warm.close()
    for size in args.batches:
        store = Neo4jStore(args.uri, settings.user, settings.password, settings.database, batch_size=size)
        store.wipe()
        report = load_bundles(store, [small], fresh=True)
        print(f"neo4j batch {size:>6,}: {report.rows_read:,} rows in {report.seconds:.1f} s = {report.rows_per_second:,.0f} rows/s")
        store.close()

    store = Neo4jStore(args.uri, settings.user, settings.password, settings.database)
    naive = naive_rows_per_second(store, small, 2_000)
    print(f"neo4j naive, one MERGE per row and transaction: {naive:,.0f} rows/s (2,000 supply links)")

    big = bundle(args.workdir, args.factories)
    store.batch_size = args.batch
    speeds = []
    for _ in range(args.repeat):
        store.wipe()
        server, client = server_cpu_seconds(args.state_dir), time.process_time()
        report = load_bundles(store, [big], fresh=True)
        used = server_cpu_seconds(args.state_dir)
        cpu = f"server CPU {used - server:.0f} s, " if used is not None and server is not None else ""
        speeds.append(report.rows_per_second)
        print(f"neo4j load {args.factories:,} factories (batch {args.batch:,}): {report.rows_read:,} rows in "
              f"{report.seconds:.1f} s = {report.rows_per_second:,.0f} rows/s ({report.rows_per_second / naive:.0f}x naive;"
              f" {cpu}client CPU {time.process_time() - client:.0f} s; load average {load_average()})")
    if args.repeat > 1:
        print(f"neo4j load median of {args.repeat}: {statistics.median(speeds):,.0f} rows/s")
    db = args.workdir / f"db-neo4j-bench-{args.factories}"
    shutil.rmtree(db, ignore_errors=True)
    embedded = LadybugStore(db)
    report = load_bundles(embedded, [big], fresh=True)
    print(f"embedded load {args.factories:,} factories: {report.rows_read:,} rows in {report.seconds:.1f} s = "
          f"{report.rows_per_second:,.0f} rows/s")

    with tempfile.TemporaryDirectory() as saved:
        store.index_cache = Path(saved)
        started = time.perf_counter()
        steps_for(store)
        print(f"neo4j exposure index built over Bolt in {time.perf_counter() - started:.1f} s")
        again = Neo4jStore(args.uri, settings.user, settings.password, settings.database, index_cache=Path(saved))
        started = time.perf_counter()
        steps_for(again)
        print(f"neo4j exposure index built again from its saved reads (a new process) in {time.perf_counter() - started:.1f} s")
        again.close()
        idle = wait_until_server_idle(args.state_dir)
        on_neo4j, on_embedded = exposure_timings([store, embedded], args.queries)
        print(f"neo4j exposure depth 4 warm over {args.queries} ({idle}; taking turns with the embedded store): {on_neo4j}")
    print(f"neo4j Cypher steps (affiliate, purchases, assembly) over {args.queries}: {step_timings(store, args.queries)}")
    print(f"embedded exposure depth 4 warm over {args.queries} (the same affiliates): {on_embedded}")
    print(f"load average at end: {load_average()}")
    store.close()
    embedded.close()


if __name__ == "__main__":
    main()
