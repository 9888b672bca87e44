"""Peak RSS of reading (streaming, merging and validating) a large OCDS JSON Lines file.

    .venv/bin/python -m benchmarks.ocds_generate bench-data/ocds-200mb.jsonl --mb 200
    .venv/bin/python -m benchmarks.ocds_memory bench-data/ocds-200mb.jsonl [--build]

`--build` also runs entity resolution and graph.records.build_tables (what `supplygraph load --dry-run` does).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", type=Path)
    parser.add_argument("--build", action="store_true")
    args = parser.parse_args()
    from graph.records import build_tables
    from graph.resolve import Decisions, resolve_entities
    from loaders import read_source

    base = peak_mb()
    started = time.perf_counter()
    bundle = read_source(args.path)
    read_s = time.perf_counter() - started
    size = args.path.stat().st_size / 2**20
    print(
        f"file: {size:,.0f} MB; rows: {bundle.rows:,} ({', '.join(f'{k} {t.num_rows:,}' for k, t in bundle.tables.items())})"
    )
    print(
        f"read: {read_s:.1f} s ({size / read_s:.1f} MB/s); peak RSS {peak_mb():,.0f} MB (after imports {base:,.0f} MB)"
    )
    if args.build:
        resolved, _ = resolve_entities([(bundle.name, bundle.tables)], Decisions())
        tables = build_tables(resolved)
        print(f"build: {tables.node_count:,} nodes, {tables.rel_count:,} relationships; peak RSS {peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()
