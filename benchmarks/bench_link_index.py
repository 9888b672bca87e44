"""Exposure on a loaded embedded graph from a new process: the first answer (start-up, opening the link index
files or building the index) and warm answers for random affiliates, wall and CPU time (a script, not a test).

    .venv/bin/python -m benchmarks.bench_link_index --db DATA_FOLDER [--queries 100] [--seed 3] [--python PY]

Each measurement runs in a fresh process of `--python` (default: this one), so another checkout's virtualenv
(`/work/main/.venv/bin/python`) measures that code on the same graph. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile

TIMER = """
import json, random, sys, time
started = time.perf_counter()
from datetime import date
from pathlib import Path
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.queries.exposure import exposure_for_affiliate
store = LadybugStore(Path(sys.argv[1]))
affiliates = [r["id"] for r in store.run("MATCH (a:Affiliate) RETURN a.id AS id ORDER BY id")]
pick = random.Random(int(sys.argv[2])).sample(affiliates, min(int(sys.argv[3]), len(affiliates)))
day = date(2026, 6, 1)
exposure_for_affiliate(store, pick[0], day)
first, first_cpu = time.perf_counter() - started, time.process_time()
wall, cpu, sizes = [], [], []
for a in pick:
    s, c = time.perf_counter(), time.process_time()
    sizes.append(len(exposure_for_affiliate(store, a, day).factories))
    wall.append((time.perf_counter() - s) * 1000)
    cpu.append((time.process_time() - c) * 1000)
def pct(v, q):
    v = sorted(v)
    return round(v[round(q * (len(v) - 1))], 1)
print(json.dumps({"first_answer_s": round(first, 2), "first_answer_cpu_s": round(first_cpu, 2),
                  "wall_p50_ms": pct(wall, .5), "wall_p95_ms": pct(wall, .95),
                  "cpu_p50_ms": pct(cpu, .5), "cpu_p95_ms": pct(cpu, .95), "max_factories": max(sizes)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="data folder of a loaded embedded store")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--python", default=sys.executable, help="the interpreter (and so the code) to measure")
    args = parser.parse_args()
    done = subprocess.run(
        [args.python, "-c", TIMER, args.db, str(args.seed), str(args.queries)],
        capture_output=True, text=True, check=False, cwd=tempfile.gettempdir(),  # nothing there shadows a module
    )
    if done.returncode:
        raise SystemExit(done.stderr)
    print(done.stdout.strip())


if __name__ == "__main__":
    main()
