"""Bulk reads of Neo4j whole (one query) against in pages (graph/stores/neo4j_pages.py), on a loaded graph.

    NEO4J_URI=bolt://127.0.0.1:7691 .venv/bin/python benchmarks/bench_neo4j_pages.py --affiliate A0 --pages 0 50000

For each page size (0: the whole read in one query, as before paging): the supply links read alone in this
process, then the first exposure answer of a new `supplygraph exposure` process with an empty data folder and
no kept reads in Neo4j (so the index is read from the live graph: the bulk reads then kept again), and
whether its JSON answer equals the first page size's. Prints seconds and the load average. Drops the graph's kept reads (SupplygraphRead nodes): run it on a server of your own.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from supplygraph.graph.settings import Neo4jSettings
from supplygraph.graph.stores.neo4j_snapshots import READ_LABEL
from supplygraph.graph.stores.neo4j_store import Neo4jStore
from supplygraph.queries import cypher

WHOLE = 10**12  # a page larger than any label: the read is one query


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--affiliate", default="A0")
    parser.add_argument("--pages", type=int, nargs="+", default=[0, 50_000], help="page sizes (0: one query)")
    args = parser.parse_args()
    neo = Neo4jSettings()
    uri = os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687")
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} at start; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    answers: list[str] = []
    for size in args.pages:
        page = size or WHOLE
        store = Neo4jStore(uri, neo.user, neo.password, neo.database, read_page=page)
        started = time.perf_counter()
        try:
            links = store.run_arrow(cypher.ALL_SUPPLY_LINKS).num_rows
            read = f"{time.perf_counter() - started:.1f} s"
        except Exception as exc:  # the whole read may exceed the server's transaction memory
            links, read = 0, f"failed after {time.perf_counter() - started:.1f} s: {str(exc)[:120]}"
        store.write(f"MATCH (r:{READ_LABEL}) DELETE r")
        store.close()
        with tempfile.TemporaryDirectory() as folder:
            env = os.environ | {"SUPPLYGRAPH_DB": folder, "SUPPLYGRAPH_NEO4J_READ_PAGE": str(page)}
            started = time.perf_counter()
            done = subprocess.run(
                [str(Path(sys.executable).with_name("supplygraph")), "exposure", args.affiliate, "--neo4j", uri, "--json"],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            first = time.perf_counter() - started
        answers.append(done.stdout)
        same = "the same answer as the first page size" if done.stdout == answers[0] else "A DIFFERENT ANSWER"
        outcome = same if done.returncode == 0 else f"exit {done.returncode}: {done.stderr.strip()[-160:]}"
        print(
            f"page {size or 'whole'}: supply links read {read} ({links:,} rows); "
            f"first exposure answer of a new process {first:.1f} s ({outcome})"
        )
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
