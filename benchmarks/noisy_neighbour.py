"""Noisy neighbour: one key floods expensive requests while other keys ask ordinary ones.

    .venv/bin/python -m benchmarks.load_api --db bench-data/db-demo --noisy --flood both --seconds 10

Quiet and flood phases alternate (`--rounds` of each, `--seconds` each), so that a shared machine's
noise falls on both alike. The others (`--others` affiliate keys, one client each) ask in turn for
their own exposure (as_of, depth 4: answered once before the timed phases, so cached), their own
entity page and /healthz, with `--think` seconds between requests. In flood phases one researcher key
(it may ask for any affiliate's exposure and run Cypher) also runs `--flood-clients` loops asking for
uncached exposures (the first affiliate, depth 8, provenance=true, a new as_of day each time) and/or a
Cypher query that runs until its timeout; a refusal (429/503) is retried after `--flood-retry` seconds
(default 0.05, as a client that ignores Retry-After would). The flood runs in a process of its own at a
low CPU priority (a flooding client's CPU is its own machine's). Printed: the others' p50/p95/max and
errors per phase kind, the flood's answers by status and the server process's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import multiprocessing
import os
import random
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.http_client import Connection
from benchmarks.load_api import cpu_seconds, percentile

# Runs until its timeout kills it, on CPU alone (tests/test_api_cypher.py)
FLOOD_QUERY = "UNWIND range(1, 40000) AS x UNWIND range(1, 40000) AS y WITH x, y WHERE (x * y) % 7 = 3 RETURN count(*)"
FLOOD_NICENESS = 15


@dataclass
class Phase:
    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    flood: Counter[int] = field(default_factory=Counter)
    server_cpu: float = 0.0  # CPU seconds of the server process itself (not its workers)
    wall: float = 0.0


async def others_loop(base: str, key: str, targets: list[str], phase: Phase, stop_at: float, think: float) -> None:
    connection = Connection(base, {"Authorization": f"Bearer {key}"})
    i = 0
    try:
        while time.monotonic() < stop_at:
            target = targets[i % len(targets)]
            i += 1
            started = time.perf_counter()
            try:
                status, _, body = await connection.get(target)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                status, body = 0, f"{type(exc).__name__} {exc}".encode()
                await connection.close()
            phase.seconds.append(time.perf_counter() - started)
            if status != 200:
                phase.errors.append(f"{target}: {status} {body[:160]!r}")
            await asyncio.sleep(think)
    finally:
        await connection.close()


async def flood_loop(
    base: str, key: str, kind: str, affiliate: str, seed: int, phase: Phase, stop_at: float, retry_s: float
) -> None:
    connection = Connection(base, {"Authorization": f"Bearer {key}"})
    rng = random.Random(seed)
    first_day = datetime.date(2016, 1, 1)
    cypher = json.dumps({"query": FLOOD_QUERY, "params": {}, "timeout_s": 5}).encode()
    try:
        while time.monotonic() < stop_at:
            try:
                if kind == "exposure":
                    day = first_day + datetime.timedelta(days=rng.randrange(5000))
                    target = f"/v1/affiliates/{urllib.parse.quote(affiliate)}/exposure?as_of={day}&depth=8&provenance=true"
                    status, _, _ = await connection.get(target)
                else:
                    status, _, _ = await connection.send("POST", "/v1/cypher", cypher)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                status = 0
                await connection.close()
            phase.flood[status] += 1
            if status in (0, 429, 503):
                await asyncio.sleep(retry_s)
    finally:
        await connection.close()


def flood_process(
    base: str, key: str, kinds: list[str], affiliate: str, clients: int, seed: int, seconds: float, retry_s: float
) -> Counter[int]:
    """The flood, in a process of its own and at a low CPU priority: a flooding client's CPU is its own
    machine's, so here it must not be measured as the others' latency."""
    os.nice(FLOOD_NICENESS)
    phase = Phase()

    async def flood() -> None:
        stop_at = time.monotonic() + seconds
        await asyncio.gather(
            *(
                flood_loop(base, key, kind, affiliate, seed + 100 * k + c, phase, stop_at, retry_s)
                for k, kind in enumerate(kinds)
                for c in range(clients)
            )
        )

    asyncio.run(flood())
    return phase.flood


def summary(name: str, phase: Phase) -> str:
    ms = [s * 1000 for s in phase.seconds]
    if not ms:
        return f"{name}: no requests"
    flood = ", ".join(f"{status}: {n}" for status, n in sorted(phase.flood.items())) or "none"
    return (
        f"{name:>5}: others n={len(ms):,}  p50 {percentile(ms, 50):7.1f} ms  p95 {percentile(ms, 95):7.1f} ms  "
        f"max {max(ms):7.1f} ms  errors {len(phase.errors)}"
        + (f" (first: {phase.errors[0]})" if phase.errors else "")
        + f"\n       flood answers by status: {flood}; server process CPU {phase.server_cpu / max(phase.wall, 1e-9):.0%}"
    )


async def scenario(args: argparse.Namespace, base: str, keys: Path, ids: list[str], server_pid: int) -> None:
    from supplygraph.api.keys import KeyRing

    if len(ids) < 2:
        raise SystemExit("the noisy-neighbour scenario needs at least two affiliates")
    ring = KeyRing(keys)
    flooded, others = ids[0], ids[1 : 1 + args.others]
    own = {a: ring.create("affiliate", a, "noisy-other")[0] for a in others}
    flooder = ring.create("researcher", None, "noisy-flood")[0]
    kinds = ["exposure", "cypher"] if args.flood == "both" else [args.flood]
    query = urllib.parse.urlencode({"as_of": args.as_of, "depth": 4})
    targets = {
        a: [f"/v1/affiliates/{urllib.parse.quote(a)}/exposure?{query}", f"/v1/entities/affiliate/{a}", "/healthz"]
        for a in others
    }
    for a in others:  # each other's exposure once, so that the timed phases ask for cached answers
        connection = Connection(base, {"Authorization": f"Bearer {own[a]}"})
        await connection.get(targets[a][0])
        await connection.close()
    print(
        f"noisy neighbour: {len(others)} other affiliate keys (think {args.think * 1000:.0f} ms), one researcher key "
        f"flooding {' and '.join(kinds)} with {args.flood_clients} clients per kind, retrying after "
        f"{args.flood_retry * 1000:.0f} ms; "
        f"{args.rounds} x ({args.seconds:.0f} s quiet + {args.seconds:.0f} s flood)"
    )
    phases = {"quiet": Phase(), "flood": Phase()}
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as flooding:
        await loop.run_in_executor(flooding, time.sleep, 0)  # started before the first phase
        for round_ in range(args.rounds):
            for name in ("quiet", "flood"):
                phase = phases[name]
                cpu_before, started = cpu_seconds(server_pid), time.monotonic()
                stop_at = started + args.seconds
                tasks = [others_loop(base, own[a], targets[a], phase, stop_at, args.think) for a in others]
                if name == "flood":
                    flood = loop.run_in_executor(
                        flooding,
                        flood_process,
                        *(base, flooder, kinds, flooded, args.flood_clients, args.seed + 1000 * round_, args.seconds),
                        args.flood_retry,
                    )
                    tasks.append(flood)
                results = await asyncio.gather(*tasks)
                if name == "flood":
                    phase.flood.update(results[-1])
                phase.server_cpu += cpu_seconds(server_pid) - cpu_before
                phase.wall += time.monotonic() - started
                await asyncio.sleep(1.0)  # let the last flooded requests end before the next phase
    for name, phase in phases.items():
        print(summary(name, phase))
    quiet = [s * 1000 for s in phases["quiet"].seconds]
    flood = [s * 1000 for s in phases["flood"].seconds]
    if quiet and flood:
        print(f"others' p95 with the flood / without: {percentile(flood, 95) / percentile(quiet, 95):.2f}x (target <= 2)")
