"""Exposure with brand lists against exposure before them, in one run (a script, not a test).

    .venv/bin/python -m benchmarks.bench_basis --factories 100000 --old-commit COMMIT [--queries 200] [--rounds 2]

Generates the synthetic bundle twice from one seed (benchmarks/synthetic.py): as it was (version 1) and
with brand lists and described items (`--brand-lists`). The code of `--old-commit` (extracted with
`git archive`, no worktree) loads the first into its own embedded store, this checkout loads the second;
then both answer exposure for the same random affiliates on 2026-06-01 at depth 4, in turns (old, new,
old, new, ...: `--rounds`), each turn in a fresh process of its own code, so that machine load falls on
both alike. Prints p50/p95 per turn and over all turns, and the ratio new/old.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TIMER = """
import json, sys, time
from datetime import date
from pathlib import Path
if Path("graph/stores").is_dir():  # the code run here (cwd) has the one installed name, supplygraph
    from supplygraph.graph.stores.ladybug_store import LadybugStore
    from supplygraph.loaders.pipeline import load_bundles
    from supplygraph.queries.exposure import exposure_for_affiliate
else:  # a commit from before it: its own top-level packages, found on PYTHONPATH
    from graph.ladybug_store import LadybugStore
    from graph.loading import load_bundles
    from queries.exposure import exposure_for_affiliate
db, bundle, affiliates = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
fresh = not (db / "CURRENT").exists()
store = LadybugStore(db)
if fresh:
    started = time.perf_counter()
    load_bundles(store, [bundle], fresh=True)
    print("loaded in %.0f s" % (time.perf_counter() - started), file=sys.stderr)
day = date(2026, 6, 1)
exposure_for_affiliate(store, affiliates[0], day)  # opens (or builds) the link index
out = []
for a in affiliates:
    started, cpu = time.perf_counter(), time.process_time()
    answer = exposure_for_affiliate(store, a, day)
    out.append([(time.perf_counter() - started) * 1000, len(answer.factories), (time.process_time() - cpu) * 1000])
print(json.dumps(out))
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def extract(commit: str, target: Path) -> Path:
    if not (target / "graph").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
    return target


def turn(code: Path, db: Path, bundle: Path, affiliates: list[str]) -> list[list[float]]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run(
        [sys.executable, "-c", TIMER, str(db), str(bundle), json.dumps(affiliates)],
        cwd=code, env=env, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    if done.stderr.strip():
        print(f"  {code.name}: {done.stderr.strip()}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factories", type=int, default=100_000)
    parser.add_argument("--old-commit", required=True, help="the commit to compare against (e.g. main)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path("bench-data"))
    parser.add_argument(
        "--also-plain", action="store_true", help="also this checkout on the bundle without brand lists (new-plain)"
    )
    args = parser.parse_args()
    from benchmarks.synthetic import generate

    work = args.workdir.resolve()
    plain, lists = work / f"synthetic-{args.factories}", work / f"synthetic-lists-{args.factories}"
    for folder, with_lists in ((plain, False), (lists, True)):
        if not (folder / "supply.csv").exists():
            generate(folder, factories=args.factories, brand_lists=with_lists)
    old = extract(args.old_commit, work / f"code-{args.old_commit[:12]}")
    n_aff = max(5, args.factories // 100)
    rng = random.Random(1)
    affiliates = [f"A{rng.randrange(n_aff)}" for _ in range(args.queries)]
    series = [
        ("old", old, work / f"db-old-{args.factories}", plain),
        ("new", ROOT, work / f"db-lists-{args.factories}", lists),
    ]
    if args.also_plain:
        series.append(("new-plain", ROOT, work / f"db-new-plain-{args.factories}", plain))
    runs: dict[str, list[list[float]]] = {name: [] for name, *_ in series}
    for r in range(args.rounds):
        for name, code, db, bundle in series:
            got = turn(code, db, bundle, affiliates)
            ms = [t for t, *_ in got]
            runs[name].extend(got)
            print(
                f"round {r + 1} {name}: p50 {percentile(ms, 0.5):.1f} ms, p95 {percentile(ms, 0.95):.1f} ms, "
                f"max {max(ms):.1f} ms; factories per answer max {max(int(n) for _, n, _cpu in got)}"
            )
    p95 = {k: percentile([t for t, *_ in v], 0.95) for k, v in runs.items()}
    p50 = {k: percentile([t for t, *_ in v], 0.5) for k, v in runs.items()}
    for name, got in runs.items():
        per = [t / max(n, 1) * 1000 for t, n, _cpu in got]
        print(
            f"all rounds {name}: p50 {p50[name]:.1f} ms, p95 {p95[name]:.1f} ms; per 1,000 factories listed: "
            f"p50 {percentile(per, 0.5):.1f} ms, p95 {percentile(per, 0.95):.1f} ms; factories per answer median "
            f"{percentile([n for _, n, _cpu in got], 0.5):.0f}"
        )
    cpu95 = {k: percentile([row[2] for row in v], 0.95) for k, v in runs.items()}
    print("CPU time p95 (less sensitive to other processes): " + ", ".join(f"{k} {v:.1f} ms" for k, v in cpu95.items()))
    for name in runs:
        if name != "old":
            print(f"p95 {name}/old = {p95[name] / p95['old']:.2f} (CPU time: {cpu95[name] / cpu95['old']:.2f})")

if __name__ == "__main__":
    main()
