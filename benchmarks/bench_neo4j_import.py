"""The bulk path of a first Neo4j load, and what keeping each load's bulk reads costs (a script, not a test).

    NEO4J_STATE_DIR=.neo4j-bulk NEO4J_PORT=7717 scripts/neo4j-server start     # a server you may stop
    NEO4J_URI=bolt://127.0.0.1:7717 NEO4J_STATE_DIR=.neo4j-bulk NEO4J_PORT=7717 \\
      .venv/bin/python benchmarks/bench_neo4j_import.py /tmp/nm/100k --home .neo4j-bulk/data \\
      --admin scripts/neo4j-admin --control scripts/neo4j-server

1. wipes nothing: the database must be empty (stop the server, remove its data folder, start it);
2. loads the bundle through neo4j-admin (loaders/neo4j_bulk.py): each step's seconds;
3. the exposure index: over Bolt from the live graph; by a first reader (live reads kept in Neo4j);
   by a new process from those kept reads; from the local saved files;
4. with --reload, loads the bundle again (UNWIND, the database is not empty), which reads the kept reads
   again for itself: its time against the same load without them is the cost of atomic reads.
Load averages are printed at the start and the end.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from supplygraph.graph.settings import Neo4jSettings
from supplygraph.graph.stores.neo4j_snapshots import LoadReads, Snapshots
from supplygraph.graph.stores.neo4j_store import Neo4jStore
from supplygraph.graph.stores.saved_reads import SavedReads
from supplygraph.loaders.neo4j_bulk import Neo4jBulkStore
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.steps import build_link_index


def timed(what: str, work: object) -> float:
    started = time.perf_counter()
    work()  # type: ignore[operator]
    took = time.perf_counter() - started
    print(f"{what}: {took:.1f} s", flush=True)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path)
    parser.add_argument(
        "--home", type=Path, required=True, help="the server's home (scripts/neo4j-server: its data folder)"
    )
    parser.add_argument("--admin", help="neo4j-admin command (default <home>/bin/neo4j-admin)")
    parser.add_argument("--control", help="the command stopping and starting the server (default <home>/bin/neo4j)")
    parser.add_argument("--reload", action="store_true", help="load again with UNWIND (the atomic reads' cost)")
    args = parser.parse_args()
    settings = Neo4jSettings()
    uri = settings.uri or "bolt://127.0.0.1:7687"
    print(f"load average at start: {os.getloadavg()}", flush=True)
    store = Neo4jBulkStore(uri, settings.user, settings.password, settings.database, home=args.home,
                           admin=args.admin, control=args.control)  # fmt: skip
    if not store.is_empty():
        raise SystemExit("the database is not empty: stop the server, remove its data folder, start it")
    report = None

    def load() -> None:
        nonlocal report
        report = load_bundles(store, [args.bundle])

    took = timed("first load through neo4j-admin", load)
    assert report is not None
    rows = report.rows_read
    print(f"  {rows:,} rows, {rows / took:,.0f} rows/s; steps (s): {store.seconds}", flush=True)
    generation = store.generation
    assert generation is not None
    timed("exposure index over Bolt, live graph", lambda: build_link_index(store))
    snapshots = Snapshots(store)
    timed(
        "exposure index by a first reader (live reads, kept in Neo4j)",
        lambda: build_link_index(LoadReads(snapshots, generation)),
    )
    timed(
        "exposure index from the reads kept in Neo4j (a new server)",
        lambda: build_link_index(LoadReads(snapshots, generation)),
    )
    with tempfile.TemporaryDirectory() as folder:
        saved = SavedReads(LoadReads(snapshots, generation), Path(folder) / generation)
        build_link_index(saved)
        timed("exposure index from the local saved files", lambda: build_link_index(saved))
    timed("what a load adds: the kept reads read again and kept", lambda: snapshots.take_for_load("bench", generation))
    snapshots.drop("bench")
    kept = store.run("MATCH (r:SupplygraphRead) RETURN count(r) AS n, sum(size(r.data)) AS bytes")[0]
    print(f"  kept reads: {kept['n']} nodes, {kept['bytes'] / 2**20:.1f} MiB", flush=True)
    if args.reload:
        unwind = Neo4jStore(uri, settings.user, settings.password, settings.database)
        timed("second load, UNWIND, taking the kept reads again", lambda: load_bundles(unwind, [args.bundle]))
        unwind.close()
    store.close()
    print(f"load average at end: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
