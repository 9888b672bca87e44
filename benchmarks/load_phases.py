"""Where a full embedded load spends its time and memory: each phase's seconds and the process tree's peak RSS.

    .venv/bin/python benchmarks/load_phases.py BUNDLE --db FOLDER

Phases: read (parse and validate every input), resolve (entity resolution), items (contract items), build
(graph tables), bundles (write the generation's records), index (the link index files made from the graph tables),
copy (LadybugDB DDL and COPY, children included), fsync, hooks (what is done for a new generation before it is
current: the link index files, when they were not made from the tables). The phases are timed by wrapping the pipeline's functions, so the load itself is the one the CLI runs.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from supplygraph.graph.stores import ladybug_store
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.loaders import pipeline
from supplygraph.queries import link_cache

from benchmarks.tree_memory import TreeMemory

WRAPPED = [
    (pipeline, "read_source", "read"),
    (pipeline, "resolve_entities", "resolve"),
    (pipeline, "prepare_items", "items"),
    (pipeline, "build_tables", "build"),
    (ladybug_store, "write_bundles", "bundles"),
    (ladybug_store, "tables_built", "index"),
    (ladybug_store, "build_graph", "copy"),
    (ladybug_store, "fsync_tree", "fsync"),
    (ladybug_store, "generation_built", "hooks"),
]
assert link_cache  # imported for the hooks it registers: the load writes the link index files as the CLI's does


def timed(sampler: TreeMemory, seconds: dict[str, float], name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        sampler.mark(name)
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started
            sampler.sample()
            sampler.mark("other")

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundles", nargs="+", type=Path)
    parser.add_argument("--db", type=Path, required=True, help="data folder (emptied first)")
    args = parser.parse_args()
    shutil.rmtree(args.db, ignore_errors=True)
    seconds: dict[str, float] = {}
    with TreeMemory() as sampler:
        for module, name, phase in WRAPPED:
            setattr(module, name, timed(sampler, seconds, phase, getattr(module, name)))
        started = time.perf_counter()
        report = pipeline.load_bundles(LadybugStore(args.db), args.bundles, fresh=True)
        total = time.perf_counter() - started
    print(
        f"{report.rows_read:,} rows -> {report.nodes:,} nodes, {report.relationships:,} rels in {total:.1f} s; "
        f"peak RSS of the process tree {sampler.peak / 2**20:,.0f} MB"
    )
    for _module, _name, phase in WRAPPED:
        if phase in seconds:
            print(f"  {phase:<8} {seconds[phase]:7.2f} s  peak {sampler.phase_peak.get(phase, 0) / 2**20:7,.0f} MB")
    print(
        f"  {'other':<8} {total - sum(seconds.values()):7.2f} s  peak {sampler.phase_peak.get('other', 0) / 2**20:7,.0f} MB"
    )


if __name__ == "__main__":
    main()
