"""Peak memory of loading a large OCDS JSON Lines file: read (stream, merge, validate), resolve, build, COPY.

    .venv/bin/python -m benchmarks.ocds_generate bench-data/ocds-200mb.jsonl --mb 200
    .venv/bin/python -m benchmarks.ocds_memory bench-data/ocds-200mb.jsonl            # read, resolve, build
    .venv/bin/python -m benchmarks.ocds_memory bench-data/ocds-200mb.jsonl --load DIR  # and load into DIR (embedded)

Prints after each phase the peak RSS so far (VmHWM: everything resident, including pages of memory-mapped
temporary files, which the kernel can drop) and the peak anonymous RSS (heap: what the load really needs), sampled
every 20 ms.
"""

from __future__ import annotations

import argparse
import shutil
import threading
import time
from pathlib import Path


def status() -> dict[str, int]:
    """VmHWM, VmRSS, RssAnon, RssFile of this process, in MB."""
    wanted = ("VmHWM", "VmRSS", "RssAnon", "RssFile")
    with open("/proc/self/status") as fh:
        return {k: int(v.split()[0]) // 1024 for k, _, v in (line.partition(":") for line in fh) if k in wanted}


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_anon = 0

    def run(self) -> None:
        while True:
            self.peak_anon = max(self.peak_anon, status()["RssAnon"])
            time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", type=Path)
    parser.add_argument("--load", type=Path, help="also load into a fresh embedded store in this folder")
    args = parser.parse_args()
    sampler = Sampler()
    sampler.start()
    from graph.records import build_tables
    from graph.resolve import Decisions, resolve_entities
    from loaders import read_source

    started = time.perf_counter()

    def report(phase: str) -> None:
        now = status()
        print(
            f"{phase:8} {time.perf_counter() - started:7.1f} s   peak RSS {now['VmHWM']:,} MB   "
            f"peak anonymous RSS {max(sampler.peak_anon, now['RssAnon']):,} MB",
            flush=True,
        )

    report("imports")
    size = args.path.stat().st_size / 2**20
    bundle = read_source(args.path)
    tables = ", ".join(f"{k} {t.num_rows:,}" for k, t in bundle.tables.items())
    print(f"file: {size:,.0f} MB; rows: {bundle.rows:,} ({tables})")
    report("read")
    resolved, _ = resolve_entities([(bundle.name, bundle.tables)], Decisions())
    report("resolve")
    graph = build_tables(resolved)
    print(f"graph: {graph.node_count:,} nodes, {graph.rel_count:,} relationships")
    report("build")
    if args.load:
        from graph.ladybug_store import LadybugStore
        from graph.store import LoadedBundle

        del resolved
        shutil.rmtree(args.load, ignore_errors=True)
        LadybugStore(args.load).replace([LoadedBundle(bundle.name, bundle.tables)], graph)
        report("load")
    seconds = time.perf_counter() - started
    print(f"{bundle.rows:,} rows in {seconds:.1f} s: {bundle.rows / seconds:,.0f} rows/s, {size / seconds:.2f} MB/s")


if __name__ == "__main__":
    main()
