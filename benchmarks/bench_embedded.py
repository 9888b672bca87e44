"""Load and exposure figures for the embedded store at 10k and 100k factories (a script, not a test).

    .venv/bin/python benchmarks/bench_embedded.py [--sizes 10000 100000] [--queries 200] [--workdir bench-data]
        [--provenance]

Prints, for each size: rows, load seconds and rows/s (end to end: read, validate, merge, COPY, swap),
then the exposure query for random affiliates on 2026-06-01 at depth 4: cold first call, and warm
p50/p95/max over --queries calls; then exposed-affiliates for --reverse random factories, agencies
and findings each. `--provenance` times the exposure answers with their origins (queries/provenance.py).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries import cypher
from supplygraph.queries.exposure import exposure_for_affiliate
from supplygraph.queries.reverse import exposed_affiliates

from benchmarks.synthetic import generate


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench(size: int, queries: int, workdir: Path, reverse: int, provenance: bool = False) -> None:
    bundle = workdir / f"synthetic-{size}"
    if not (bundle / "supply.csv").exists():
        generate(bundle, factories=size)
    db = workdir / f"db-{size}"
    shutil.rmtree(db, ignore_errors=True)
    store = LadybugStore(db)
    report = load_bundles(store, [bundle], fresh=True)
    print(
        f"[{size:>7,} factories] load: {report.rows_read:,} rows → {report.nodes:,} nodes + "
        f"{report.relationships:,} rels in {report.seconds:.1f} s = {report.rows_per_second:,.0f} rows/s"
    )
    affiliates = [r["id"] for r in store.run("MATCH (a:Affiliate) RETURN a.id AS id")]
    rng = random.Random(1)
    day = date(2026, 6, 1)
    started = time.perf_counter()
    first = exposure_for_affiliate(store, rng.choice(affiliates), day, provenance=provenance)
    cold = time.perf_counter() - started
    timings, sizes = [], []
    for _ in range(queries):
        affiliate = rng.choice(affiliates)
        started = time.perf_counter()
        answer = exposure_for_affiliate(store, affiliate, day, provenance=provenance)
        timings.append((time.perf_counter() - started) * 1000)
        sizes.append(len(answer.factories))
    print(
        f"[{size:>7,} factories] exposure depth 4: cold {cold * 1000:.0f} ms ({len(first.factories)} factories); "
        f"warm over {queries}: p50 {percentile(timings, 0.5):.1f} ms, p95 {percentile(timings, 0.95):.1f} ms, "
        f"max {max(timings):.1f} ms; factories per answer median {statistics.median(sizes):.0f}, max {max(sizes)}"
    )
    for kind, every in (("factory", cypher.ALL_FACTORIES), ("agency", cypher.ALL_AGENCIES), ("finding", cypher.ALL_FINDINGS)):
        ids = sorted(r["id"] for r in store.run(every))
        seconds, found = [], []
        for item in rng.sample(ids, min(reverse, len(ids))):
            started = time.perf_counter()
            answer = exposed_affiliates(store, kind, item, day)
            seconds.append(time.perf_counter() - started)
            found.append(len(answer.affiliates))
        if seconds:
            print(
                f"[{size:>7,} factories] exposed-affiliates {kind} over {len(seconds)}: p50 {percentile(seconds, 0.5):.2f} s, "
                f"max {max(seconds):.2f} s; affiliates per answer median {statistics.median(found):.0f}, max {max(found)}"
            )
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--workdir", type=Path, default=Path("bench-data"))
    parser.add_argument("--reverse", type=int, default=10, help="exposed-affiliates calls per kind")
    parser.add_argument("--provenance", action="store_true", help="exposure answers with their origins")
    args = parser.parse_args()
    args.workdir.mkdir(exist_ok=True)
    for size in args.sizes:
        bench(size, args.queries, args.workdir, args.reverse, args.provenance)


if __name__ == "__main__":
    main()
