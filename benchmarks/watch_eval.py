"""Evaluating many watches after a load, and what it does to the API's other answers (a script, not a test).

    .venv/bin/python -m benchmarks.watch_eval [--factories 100000] [--watches 1000] [--workdir bench-data]
        [--seconds 20] [--reuse]

1. Generates the synthetic graph (benchmarks/synthetic.py) and loads it into the embedded store
   (--reuse: the database from an earlier run), makes --watches affiliate watches (every affiliate,
   then again at depth 3 and 2), and answers them all for 2026-06-01 (the baseline).
2. Loads the bundle again (a new generation, as after a load) and times the pass that answers every
   watch again and records the changes (api/watches/runner.py), here in this process, and then a pass
   for the next month (the day moved: real changes).
3. Serves the graph (`supplygraph serve`) and measures the p95 of cheap answers (entity pages and
   cached exposure answers, 4 clients) for --seconds while nothing else runs, then while a pass
   runs as the server runs it (api/watches/service.py: a worker process at a lower priority).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import httpx
from supplygraph.api import walkers
from supplygraph.api.keys import KeyRing
from supplygraph.api.watches.runner import evaluate_watches
from supplygraph.api.watches.service import evaluate_in_worker
from supplygraph.api.watches.store import WatchStore
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.changes import Question

from benchmarks.synthetic import generate

DAY, NEXT_MONTH = date(2026, 6, 1), date(2026, 7, 1)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(factories: int, count: int, workdir: Path, reuse: bool) -> tuple[Path, Path, WatchStore]:
    bundle, db = workdir / f"synthetic-{factories}", workdir / f"watch-db-{factories}"
    if not (bundle / "supply.csv").exists():
        generate(bundle, factories=factories)
    store = LadybugStore(db)
    if not reuse or store.generation is None:
        shutil.rmtree(db, ignore_errors=True)
        store = LadybugStore(db)
        report = load_bundles(store, [bundle], fresh=True)
        print(f"loaded {report.rows_read:,} rows in {report.seconds:.0f} s")
    (db / "watches.sqlite").unlink(missing_ok=True)
    watches = WatchStore(db / "watches.sqlite")
    affiliates = sorted(r["id"] for r in store.run("MATCH (a:Affiliate) RETURN a.id AS id"))
    depths = [4, 3, 2]
    for n in range(count):
        question = Question("affiliate", affiliates[n % len(affiliates)], depths[(n // len(affiliates)) % 3])
        watches.create("local", None, question, None)
    done = evaluate_watches(store, watches, DAY)
    print(
        f"{count} watches ({len(affiliates)} affiliates): first answers (baseline) in {done.seconds:.1f} s "
        f"({done.cpu_seconds:.1f} s CPU)"
    )
    store.close()
    return bundle, db, watches


def in_process(bundle: Path, db: Path, watches: WatchStore) -> None:
    store = LadybugStore(db)
    load_bundles(store, [bundle], fresh=True)  # a new generation
    done = evaluate_watches(store, watches, DAY)
    print(
        f"after a load: {done.answered} answered, {done.events} events, {len(done.failed)} failed in "
        f"{done.seconds:.1f} s ({done.cpu_seconds:.1f} s CPU; the new generation's exposure index built first, included)"
    )
    done = evaluate_watches(store, watches, NEXT_MONTH)
    print(
        f"the day moved: {done.answered} answered, {done.events} events in {done.seconds:.1f} s "
        f"({done.cpu_seconds:.1f} s CPU)"
    )
    store.close()


def timed_requests(base: str, key: str, urls: list[str], seconds: float, clients: int = 4) -> list[float]:
    took: list[float] = []
    end = time.monotonic() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
            while time.monotonic() < end:
                started = time.perf_counter()
                http.get(rng.choice(urls)).raise_for_status()
                took.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return took


def beside_the_api(db: Path, watches: WatchStore, seconds: float) -> None:
    folder = Path(tempfile.mkdtemp(prefix="watch-bench-"))
    key = KeyRing(folder / "keys.sqlite").create("investigator", name="bench")[0]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "NEO4J_URI"} | {
        "SUPPLYGRAPH_KEYS": str(folder / "keys.sqlite"),  # a watch file of its own: the server evaluates nothing
    }
    command = [sys.executable, "-m", "supplygraph.api.cli", "serve", "--port", str(port), "--db", str(db)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        store = LadybugStore(db)
        affiliates = sorted(r["id"] for r in store.run("MATCH (a:Affiliate) RETURN a.id AS id"))[:50]
        factories = [r["id"] for r in store.run("MATCH (f:Factory) RETURN f.id AS id LIMIT 500")]
        config, generation = walkers.walker_config(store, 256 * 2**20), store.generation
        store.close()
        urls = [f"/v1/affiliates/{a}/exposure?as_of={DAY}" for a in affiliates]
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=300) as http:
            for url in urls:  # into the server's answer cache
                http.get(url).raise_for_status()
        urls += [f"/v1/entities/factory/{f}" for f in factories]
        quiet = timed_requests(base, key, urls, seconds)
        pool = walkers.pool(1)
        with watches.connect() as conn:
            conn.execute("DELETE FROM answers WHERE watch_id IN (SELECT id FROM watches)")  # all to answer again
        started = time.perf_counter()
        running = pool.submit(evaluate_in_worker, config, generation, str(watches.path), NEXT_MONTH)
        time.sleep(3)  # past the worker's start and index build, into the answers
        during = timed_requests(base, key, urls, seconds)
        busy = not running.done()
        done = running.result()
        pool.shutdown()
        print(
            f"worker pass: {done.answered} answered in {time.perf_counter() - started:.1f} s ({done.cpu_seconds:.1f} s "
            f"CPU in the worker; still running at the end of the sample: {busy})"
        )
        print(
            f"API (entity pages and cached exposures, 4 clients): quiet p50 {percentile(quiet, 0.5):.1f} ms, "
            f"p95 {percentile(quiet, 0.95):.1f} ms ({len(quiet)} requests); during the pass p50 "
            f"{percentile(during, 0.5):.1f} ms, p95 {percentile(during, 0.95):.1f} ms ({len(during)} requests); "
            f"p95 ratio {percentile(during, 0.95) / percentile(quiet, 0.95):.2f}"
        )
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factories", type=int, default=100_000)
    parser.add_argument("--watches", type=int, default=1000)
    parser.add_argument("--workdir", type=Path, default=Path("bench-data"))
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--reuse", action="store_true", help="keep the database of an earlier run")
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")
    bundle, db, watches = prepare(args.factories, args.watches, args.workdir, args.reuse)
    in_process(bundle, db, watches)
    beside_the_api(db, watches, args.seconds)
    print(f"load average: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")


if __name__ == "__main__":
    main()
