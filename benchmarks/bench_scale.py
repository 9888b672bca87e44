"""The scale figures of issue 17, old targets beside new (a script that prints figures, not a test).

    .venv/bin/python benchmarks/bench_scale.py --sizes 100000 1000000 [--workdir bench-data] [--neo4j URI]

For each size: the synthetic bundle (benchmarks/synthetic.py, cached in --workdir), a full embedded load by
`supplygraph load` in a child process (wall time, and the peak RSS of its whole process tree sampled every
0.25 s), `supplygraph exposure` in a new process, warm exposure p50/p95 over --queries random affiliates in
this process, and the incremental load (`supplygraph load`, incremental by default) of a 1k-row and a 10k-row
bundle of findings, then of findings, supply links and placements, about the graph's own factories and agencies. With --neo4j the same on Neo4j (the database at URI is
replaced). `uptime` is printed at the start and the end: figures on a busy machine are not those of an idle one.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from supplygraph.graph.stores import open_store
from supplygraph.graph.stores.protocol import Store
from supplygraph.queries.exposure import exposure_for_affiliate

from benchmarks.bench_incremental import write_small_bundle
from benchmarks.synthetic import generate
from benchmarks.tree_memory import TreeMemory

CLI = str(Path(sys.executable).with_name("supplygraph"))
AS_OF = "2026-06-01"
# issue 17's figures before the work on it, and its targets (None: not measured or no target)
OLD = {
    1_000_000: {"load": "102 s idle / 239 s busy", "memory": "7.8 GB", "exposure_cli": "13.5 s",
                "p50": "36 ms (busy)", "p95": "172 ms (busy)", "add": "127 s (full rebuild)"},
    100_000: {"load": "22.2 s (busy)", "memory": "", "exposure_cli": "", "p50": "14.7 ms", "p95": "53.6 ms",
              "add": ""},
}  # fmt: skip
TARGET = {
    1_000_000: {"load": "<= 60 s idle", "memory": "<= 4 GiB", "exposure_cli": "<= 3 s", "p50": "",
                "p95": "<= 150 ms", "add": "<= 10 s"},
    100_000: {"load": "<= 8 s idle", "memory": "", "exposure_cli": "", "p50": "", "p95": "<= 50 ms",
              "add": "<= 10 s"},
}  # fmt: skip


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_measured(command: list[str]) -> tuple[float, int, str]:
    """(wall seconds, peak RSS of the command's process tree in bytes, its summary line); fails loudly."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with TreeMemory(child.pid) as sampler:
        out, err = child.communicate()
    seconds = time.perf_counter() - started
    if child.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}): {err.strip()[-2000:]}")
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    said = max((i for i, line in enumerate(lines) if line.startswith("loaded:")), default=len(lines) - 1)
    return seconds, sampler.peak, " ".join(lines[said:])  # the summary, which the console may have wrapped


def delta_bundle(folder: Path, size: int, rows: int, findings_only: bool) -> Path:
    """A monitor's bundle of about `rows` rows about the graph's factories and agencies (benchmarks/
    bench_incremental.py): sources and findings, or half findings and half supply links and placements."""
    kind = "findings" if findings_only else "monitor"
    out = folder / f"delta-{size}" / f"{kind}-{rows}"
    if not (out / "findings.csv").exists():
        agencies = max(5, size // 20)  # as benchmarks/synthetic.py makes them
        write_small_bundle(out, rows, size, agencies, seed=rows, findings_only=findings_only)
    return out


def warm_exposure(store: Store, queries: int) -> tuple[float, float, float]:
    """(cold ms, p50 ms, p95 ms) of exposure_for_affiliate for random affiliates, in this process."""
    affiliates = sorted(r["id"] for r in store.run("MATCH (a:Affiliate) RETURN a.id AS id"))
    rng, day = random.Random(1), date.fromisoformat(AS_OF)
    started = time.perf_counter()
    exposure_for_affiliate(store, affiliates[0], day)
    cold = (time.perf_counter() - started) * 1000
    timings = []
    for affiliate in rng.sample(affiliates, min(queries, len(affiliates))):
        started = time.perf_counter()
        exposure_for_affiliate(store, affiliate, day)
        timings.append((time.perf_counter() - started) * 1000)
    return cold, percentile(timings, 0.5), percentile(timings, 0.95)


def bench(
    size: int, workdir: Path, queries: int, target: list[str], label: str, first_load: list[str]
) -> dict[str, str]:
    bundle = workdir / f"synthetic-{size}"
    if not (bundle / "findings.csv").exists():
        generate(bundle, factories=size)
    db = workdir / f"db-{size}"
    if not target:
        shutil.rmtree(db, ignore_errors=True)
    where = target or ["--db", str(db)]
    print(f"[{label} {size:,}] loading {bundle} ({uptime()})", flush=True)
    seconds, peak, said = run_measured([CLI, "load", str(bundle), "--fresh", *where, *first_load])
    figures = {"load": f"{seconds:.1f} s", "memory": f"{peak / 2**30:.2f} GiB"}
    print(f"[{label} {size:,}] load {seconds:.1f} s, peak RSS of the process tree {peak / 2**20:,.0f} MB: {said}")
    store = open_store(None if target else db, target[1] if target else None)
    affiliate = sorted(r["id"] for r in store.run("MATCH (a:Affiliate) RETURN a.id AS id"))[0]
    seconds, peak, _ = run_measured([CLI, "exposure", affiliate, "--as-of", AS_OF, "--json", *where])
    figures["exposure_cli"] = f"{seconds:.1f} s"
    print(
        f"[{label} {size:,}] `supplygraph exposure {affiliate}` in a new process: {seconds:.1f} s, {peak / 2**20:,.0f} MB"
    )
    cold, p50, p95 = warm_exposure(store, queries)
    figures.update(p50=f"{p50:.1f} ms", p95=f"{p95:.1f} ms")
    print(f"[{label} {size:,}] exposure: first {cold:.0f} ms, warm over {queries}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    adds = []
    for findings_only in (True, False):
        for rows in (1_000, 10_000):
            delta = delta_bundle(workdir, size, rows, findings_only)
            seconds, peak, said = run_measured([CLI, "load", str(delta), *where])
            how = "rebuilt" if "rebuil" in said else "incremental"
            what = "findings" if findings_only else "links"
            adds.append(f"{what} {rows // 1000}k: {seconds:.1f} s ({how})")
            print(f"[{label} {size:,}] adding {rows:,} rows of {what}: {seconds:.1f} s, {peak / 2**20:,.0f} MB: {said}")
    figures["add"] = ", ".join(adds)
    store.close()
    return figures


NAMES = {"load": "load", "memory": "peak memory, process tree", "exposure_cli": "`supplygraph exposure`, new process",
         "p50": "exposure warm p50", "p95": "exposure warm p95", "add": "incremental load, 1k / 10k rows (findings; half links)"}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="factories")
    parser.add_argument("--workdir", type=Path, default=Path("bench-data"), help="generated data and databases")
    parser.add_argument("--queries", type=int, default=100, help="random affiliates for the warm exposure figures")
    parser.add_argument("--neo4j", help="also on Neo4j at this URI (its database is replaced)")
    parser.add_argument(
        "--neo4j-home",
        type=Path,
        help="the local Neo4j's home: the first load of each size goes through neo4j-admin (docs/neo4j.md; set "
        "NEO4J_ADMIN and NEO4J_CONTROL for scripts/neo4j-server)",
    )
    parser.add_argument("--embedded", action=argparse.BooleanOptionalAction, default=True, help="the embedded store")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"start: {uptime()}  ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, pid {os.getpid()})")
    results = []
    for size in args.sizes:
        if args.embedded:
            results.append(("embedded", size, bench(size, args.workdir, args.queries, [], "embedded", [])))
        if args.neo4j:
            where, first = ["--neo4j", args.neo4j], ["--neo4j-home", str(args.neo4j_home)] if args.neo4j_home else []
            results.append(("neo4j", size, bench(size, args.workdir, args.queries, where, "neo4j", first)))
    print(f"end: {uptime()}")
    print("\n| store | factories | figure | before (issue 17) | target | now |\n|---|---|---|---|---|---|")
    for store, size, figures in results:
        for key, name in NAMES.items():
            old = OLD.get(size, {}).get(key, "") if store == "embedded" else ""
            goal = TARGET.get(size, {}).get(key, "")
            print(f"| {store} | {size:,} | {name} | {old} | {goal} | {figures.get(key, '')} |")


if __name__ == "__main__":
    main()
