"""Peak memory of loading a large OCDS JSON Lines file: read (stream, merge, validate), resolve, build, COPY.

    .venv/bin/python -m benchmarks.ocds_generate bench-data/ocds-200mb.jsonl --mb 200
    .venv/bin/python -m benchmarks.ocds_memory bench-data/ocds-200mb.jsonl            # read, resolve, build
    .venv/bin/python -m benchmarks.ocds_memory bench-data/ocds-200mb.jsonl --load DIR  # and load into DIR (embedded)

Prints after each phase the peak RSS so far (VmHWM: everything resident, including pages of memory-mapped
temporary files, which the kernel can drop) and the peak anonymous RSS (heap: what the load really needs), sampled
every 20 ms. A large embedded load copies into LadybugDB from child processes (graph/stores/ladybug_copy.py): then also
the largest peak RSS of one child (RUSAGE_CHILDREN), the largest anonymous RSS of one child and the peaks of the
whole process tree (this process and its children summed at each sample).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import threading
import time
from pathlib import Path


def status(pid: int | str = "self") -> dict[str, int]:
    """VmHWM, VmRSS, RssAnon, RssFile of a process, in MB (empty if it has ended)."""
    wanted = ("VmHWM", "VmRSS", "RssAnon", "RssFile")
    try:
        with open(f"/proc/{pid}/status") as fh:
            return {k: int(v.split()[0]) // 1024 for k, _, v in (line.partition(":") for line in fh) if k in wanted}
    except (FileNotFoundError, ProcessLookupError):
        return {}


def descendants() -> list[int]:
    """This process's children, grandchildren, … (the COPY processes of a large embedded load)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rpartition(")")[2].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [os.getpid()]
    while todo:
        kids = parents.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


class Sampler(threading.Thread):
    """Every 20 ms: the anonymous and the whole RSS of this process and of all its descendants together."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_anon = 0
        self.peak_tree_anon = 0
        self.peak_tree_rss = 0
        self.peak_child_anon = 0

    def run(self) -> None:
        while True:
            mine = status()
            kids = [status(pid) for pid in descendants()]
            self.peak_anon = max(self.peak_anon, mine["RssAnon"])
            self.peak_child_anon = max([self.peak_child_anon] + [k.get("RssAnon", 0) for k in kids])
            self.peak_tree_anon = max(self.peak_tree_anon, mine["RssAnon"] + sum(k.get("RssAnon", 0) for k in kids))
            self.peak_tree_rss = max(self.peak_tree_rss, mine["VmRSS"] + sum(k.get("VmRSS", 0) for k in kids))
            time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", type=Path)
    parser.add_argument("--load", type=Path, help="also load into a fresh embedded store in this folder")
    args = parser.parse_args()
    sampler = Sampler()
    sampler.start()
    from supplygraph.graph.tables import build_tables
    from supplygraph.loaders import read_source
    from supplygraph.loaders.resolve import Decisions, resolve_entities

    started = time.perf_counter()

    def report(phase: str) -> None:
        now = status()
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
        print(
            f"{phase:8} {time.perf_counter() - started:7.1f} s   peak RSS {now['VmHWM']:,} MB   "
            f"peak anonymous RSS {max(sampler.peak_anon, now['RssAnon']):,} MB"
            + (
                f"   children: largest peak RSS {children:,} MB (may count the parent's pages shared while forking), "
                f"largest peak anonymous RSS {sampler.peak_child_anon:,} MB; whole tree: peak anonymous RSS "
                f"{sampler.peak_tree_anon:,} MB, peak RSS {sampler.peak_tree_rss:,} MB"
                if children
                else ""
            ),
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
        from supplygraph.graph.stores.ladybug_store import LadybugStore
        from supplygraph.graph.stores.protocol import LoadedBundle

        del resolved
        shutil.rmtree(args.load, ignore_errors=True)
        LadybugStore(args.load).replace([LoadedBundle(bundle.name, bundle.tables)], graph)
        report("load")
    seconds = time.perf_counter() - started
    print(f"{bundle.rows:,} rows in {seconds:.1f} s: {bundle.rows / seconds:,.0f} rows/s, {size / seconds:.2f} MB/s")


if __name__ == "__main__":
    main()
