"""Load test of the HTTP API's exposure endpoint: N concurrent clients on loopback for a fixed time.

Starts `supplygraph serve` on a free port against --db (or --neo4j), creates a key in a temporary key
file, asks /v1/entities for the affiliates, then runs --clients asyncio + httpx clients for --seconds,
each asking for the exposure of a random affiliate (seeded), and prints throughput, latency
percentiles and errors. It stops by itself: at the time limit or after --max-requests.

    .venv/bin/python benchmarks/synthetic.py bench-data/synthetic-100000 --factories 100000
    .venv/bin/supplygraph load bench-data/synthetic-100000 --db bench-data/db-100000
    .venv/bin/python benchmarks/load_api.py --db bench-data/db-100000

The server caches exposure answers per immutable generation (embedded store), so the first request
for an affiliate costs the walk and later ones do not. So there are two phases: a first pass asking
for every affiliate once (all cache misses: the cost of computing answers), then the timed run over
random affiliates; each reports latency for all requests, misses and hits (the server's X-Cache).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks.http_client import Connection

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Sample:
    seconds: float
    status: int
    cache: str  # the server's X-Cache: "hit" (answer cached) or "miss" (computed now)
    size: int


@dataclass
class Run:
    samples: list[Sample] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc), to tell the server's own cost
    per request apart from what a shared machine and the client cost."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cli(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "supplygraph.api.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise SystemExit(f"supplygraph {args[0]} failed: {done.stderr.strip()}")
    return done.stdout.strip()


async def wait_ready(base: str, server: subprocess.Popen[bytes], limit_s: float) -> float:
    started = time.monotonic()
    async with httpx.AsyncClient() as client:
        while time.monotonic() - started < limit_s:
            if server.poll() is not None:
                raise SystemExit(f"the server exited with status {server.returncode}")
            try:
                if (await client.get(f"{base}/healthz", timeout=2)).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"the server did not answer /healthz within {limit_s:.0f} s")


async def affiliates(base: str, headers: dict[str, str], wanted: int) -> list[str]:
    ids: list[str] = []
    async with httpx.AsyncClient(headers=headers, timeout=60) as client:
        while len(ids) < wanted:
            page = (
                await client.get(f"{base}/v1/entities", params={"type": "affiliate", "limit": 500, "offset": len(ids)})
            ).json()
            ids.extend(item["id"] for item in page["items"])
            if not page["items"] or len(ids) >= page["count"]:
                break
    return ids[:wanted]


async def client_loop(
    base: str,
    headers: dict[str, str],
    pick: Callable[[], str | None],
    params: dict[str, str | int],
    run: Run,
    stop_at: float,
    budget: list[int],
) -> None:
    connection = Connection(base, headers)
    query = urllib.parse.urlencode(params)
    try:
        while time.monotonic() < stop_at and budget[0] > 0:
            affiliate = pick()
            if affiliate is None:
                return
            budget[0] -= 1
            started = time.perf_counter()
            try:
                status, got, body = await connection.get(f"/v1/affiliates/{urllib.parse.quote(affiliate)}/exposure?{query}")
                size, cache = len(body), got.get("x-cache", "")
                if status != 200:
                    run.failures.append(f"{affiliate}: {status} {body[:200]!r}")
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                status, size, cache = 0, 0, ""
                run.failures.append(f"{affiliate}: {type(exc).__name__} {exc}")
                await connection.close()
            run.samples.append(Sample(time.perf_counter() - started, status, cache, size))
    finally:
        await connection.close()


def report(title: str, run: Run, seconds: float, clients: int, server_cpu: float) -> None:
    ok = [s for s in run.samples if s.status == 200]
    print(
        f"{title}: {len(run.samples):,} requests in {seconds:.1f} s with {clients} clients "
        f"→ {len(run.samples) / seconds:,.1f} requests/s; errors: {len(run.samples) - len(ok)}"
        + (f" (first: {run.failures[0]})" if run.failures else "")
    )
    if run.samples:
        print(f"  server CPU: {server_cpu:.1f} s, {server_cpu / len(run.samples) * 1000:.2f} ms per request")
    groups = (("all", ok), ("miss", [s for s in ok if s.cache == "miss"]), ("hit", [s for s in ok if s.cache == "hit"]))
    for name, group in groups:
        ms = [s.seconds * 1000 for s in group]
        if not ms:
            continue
        print(
            f"  {name:>4}: n={len(ms):>6,}  p50 {percentile(ms, 50):8.1f} ms  p95 {percentile(ms, 95):8.1f} ms  "
            f"p99 {percentile(ms, 99):8.1f} ms  max {max(ms):8.1f} ms  mean {statistics.fmean(ms):7.1f} ms"
        )


async def main_async(args: argparse.Namespace) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    keys = Path(tempfile.mkdtemp(prefix="supplygraph-bench-keys-")) / "keys.sqlite"
    env["SUPPLYGRAPH_KEYS"] = str(keys)
    store_args = ["--neo4j", args.neo4j] if args.neo4j else ["--db", str(args.db)]
    if not args.neo4j:
        env.pop("NEO4J_URI", None)
    admin_key = cli("keys", "create", "--role", "investigator", "--name", "load_api", *store_args, env=env)
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "supplygraph.api.cli", "serve", "--port", str(port), "--workers", str(args.workers), *store_args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ready = await wait_ready(base, server, args.start_timeout)
        print(f"server ready in {ready:.1f} s ({args.workers} worker process{'es' if args.workers > 1 else ''})")
        admin = {"Authorization": f"Bearer {admin_key}"}
        ids = await affiliates(base, admin, args.affiliates)
        if not ids:
            raise SystemExit("no affiliates in the graph")
        if args.role == "affiliate":  # one key per client, each for its own affiliate
            from supplygraph.api.keys import KeyRing

            ids = ids[: args.clients]
            keyed = {a: KeyRing(keys).create("affiliate", a, "load_api")[0] for a in ids}
        if args.noisy:
            from benchmarks.noisy_neighbour import scenario

            await scenario(args, base, keys, ids, server.pid)
            return
        print(f"{len(ids)} affiliates, role {args.role}, as_of {args.as_of}, depth {args.depth}")
        params: dict[str, str | int] = {"as_of": args.as_of, "depth": args.depth}

        def headers_for(i: int) -> tuple[dict[str, str], list[str]]:
            if args.role == "affiliate":  # each client is one affiliate, asking for its own exposure
                own = ids[i % len(ids)]
                return {"Authorization": f"Bearer {keyed[own]}"}, [own]
            return admin, ids

        if args.first_pass:  # every affiliate once: the answers are computed (cache misses)
            shared = list(ids)  # investigators share one queue; an affiliate asks for its own exposure
            queues = [shared if args.role == "investigator" else list(headers_for(i)[1]) for i in range(args.clients)]
            first = Run()
            started = time.monotonic()
            cpu_before = cpu_seconds(server.pid)
            await asyncio.gather(
                *(
                    client_loop(
                        base,
                        headers_for(i)[0],
                        lambda q=queues[i]: q.pop() if q else None,
                        params,
                        first,
                        started + args.start_timeout,
                        [len(ids)],
                    )
                    for i in range(args.clients)
                )
            )
            report(
                "first pass (each affiliate once)",
                first,
                time.monotonic() - started,
                args.clients,
                cpu_seconds(server.pid) - cpu_before,
            )
        run = Run()
        budget = [args.max_requests]
        started = time.monotonic()
        cpu_before = cpu_seconds(server.pid)
        tasks = []
        for i in range(args.clients):
            headers, choices = headers_for(i)
            rng = random.Random(args.seed + i)
            tasks.append(
                client_loop(
                    base, headers, lambda r=rng, c=choices: r.choice(c), params, run, started + args.seconds, budget
                )
            )
        await asyncio.gather(*tasks)
        report(
            f"{args.seconds:.0f} s run (random affiliates)",
            run,
            time.monotonic() - started,
            args.clients,
            cpu_seconds(server.pid) - cpu_before,
        )
        sizes = [s.size for s in run.samples if s.status == 200]
        if sizes:
            print(f"answer size (gzip-compressed JSON as sent): median {statistics.median(sizes) / 1024:,.0f} KiB")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        keys.unlink(missing_ok=True)
        keys.parent.rmdir()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="data folder of the embedded store (e.g. bench-data/db-100000)")
    parser.add_argument("--neo4j", help="a Neo4j URI instead of --db")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="stop after this many requests")
    parser.add_argument("--affiliates", type=int, default=1000, help="how many affiliates to ask about")
    parser.add_argument("--role", choices=["investigator", "affiliate"], default="investigator")
    parser.add_argument("--as-of", default="2026-06-01")
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--no-first-pass",
        dest="first_pass",
        action="store_false",
        help="skip asking for each affiliate once before the timed run",
    )
    parser.add_argument("--start-timeout", type=float, default=300.0)
    noisy = parser.add_argument_group("noisy neighbour (benchmarks/noisy_neighbour.py)")
    noisy.add_argument("--noisy", action="store_true", help="run the noisy-neighbour scenario instead")
    noisy.add_argument("--flood", choices=["exposure", "cypher", "both"], default="both", help="what the flood asks")
    noisy.add_argument("--flood-clients", type=int, default=20, help="concurrent flooding loops per kind")
    noisy.add_argument("--flood-retry", type=float, default=0.05, help="seconds the flood waits after a refusal")
    noisy.add_argument("--others", type=int, default=8, help="other affiliate keys asking ordinary requests")
    noisy.add_argument("--think", type=float, default=0.05, help="seconds between an other's requests")
    noisy.add_argument("--rounds", type=int, default=3, help="quiet + flood phase pairs")
    args = parser.parse_args()
    if not args.db and not args.neo4j:
        parser.error("give --db PATH or --neo4j URI")
    if args.db and not (args.db / "CURRENT").exists():
        parser.error(f"{args.db} holds no graph: load one first (see this script's docstring)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server on the way out
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
