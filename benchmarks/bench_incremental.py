"""Incremental loads into a loaded synthetic graph (a script, not a test).

    .venv/bin/python benchmarks/bench_incremental.py --db DATA_FOLDER [--rows 1000 10000] [--neo4j URI]

The graph in DATA_FOLDER (or on Neo4j) is one loaded with `benchmarks/synthetic.py` (factory ids F0, F1, ...,
agency ids G0, ...). For each size it writes a bundle of that many rows: 10 sources, findings on random
factories and agencies citing them, supply links and placements between existing factories and agencies,
then times `load_bundles` end to end (read, check, delta, write, swap) adding it, and again replacing it by
another bundle of the same name and size. Prints the rows, the seconds and how each load went.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from supplygraph.graph.settings import Neo4jSettings
from supplygraph.graph.stores.ladybug_store import LadybugStore
from supplygraph.graph.stores.neo4j_store import Neo4jStore
from supplygraph.graph.stores.protocol import Store
from supplygraph.loaders.pipeline import load_bundles


def write_small_bundle(
    folder: Path, rows: int, factories: int, agencies: int, seed: int, findings_only: bool = False
) -> None:
    """A monitor's bundle of `rows` rows about the synthetic graph's factories and agencies (half findings, half
    links; or only findings)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    sources = [f"INC-S{seed}-{i}" for i in range(10)]
    n_findings = rows - len(sources) if findings_only else (rows - len(sources)) // 2
    n_supply = (rows - len(sources) - n_findings) * 3 // 4
    n_place = rows - len(sources) - n_findings - n_supply

    def write(name: str, header: list[str], body: list[list[str]]) -> None:
        with open(folder / f"{name}.csv", "w", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(header)
            out.writerows(body)

    write("sources", ["source_id", "title", "kind"], [[s, f"Monitoring report {s}", "audit"] for s in sources])
    findings = []
    for i in range(n_findings):
        on_factory = rng.random() < 0.8
        subject = f"F{rng.randrange(factories)}" if on_factory else f"G{rng.randrange(agencies)}"
        findings.append([f"INC-X{seed}-{i}", "factory" if on_factory else "agency", subject, "recruitment_fees",
                         rng.choice(["low", "high"]), "open", "2026-01-15", rng.choice(sources)])  # fmt: skip
    write("findings", ["finding_id", "subject_type", "subject_id", "category", "severity", "status", "reported_on",
                       "source_id"], findings)  # fmt: skip
    write("supply", ["supplier_factory_id", "buyer_factory_id", "valid_from", "source_id"],
          [[f"F{rng.randrange(factories)}", f"F{rng.randrange(factories)}", "2025-01-01", rng.choice(sources)]
           for _ in range(n_supply)])  # fmt: skip
    write("placements", ["agency_id", "factory_id", "worker_origin", "workers", "source_id"],
          [[f"G{rng.randrange(agencies)}", f"F{rng.randrange(factories)}", "NP", "40", rng.choice(sources)]
           for _ in range(n_place)])  # fmt: skip


def count(store: Store, label: str) -> int:
    return int(store.run(f"MATCH (n:{label}) RETURN count(n) AS n")[0]["n"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="the data folder of the embedded graph")
    parser.add_argument("--neo4j", help="a Neo4j URI instead (its graph loaded from benchmarks/synthetic.py)")
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--findings-only", action="store_true", help="bundles of sources and findings, no links")
    args = parser.parse_args()
    if args.neo4j:
        settings = Neo4jSettings()
        store: Store = Neo4jStore(args.neo4j, settings.user, settings.password, settings.database)
    else:
        store = LadybugStore(args.db)
    factories, agencies = count(store, "Factory"), count(store, "Agency")
    kind = "sources and findings" if args.findings_only else "sources, findings, supply links and placements"
    print(f"bundles of {kind}")
    print(f"graph: {factories:,} factories, {agencies:,} agencies ({store.dialect}); load average {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            for step, seed in (("add", rows), ("replace", rows + 1)):
                kind = "findings" if args.findings_only else "monitor"
                folder = Path(tmp) / f"seed{seed}" / f"{kind}-{rows}"
                write_small_bundle(folder, rows, factories, agencies, seed, args.findings_only)
                started = time.perf_counter()
                report = load_bundles(store, [folder])
                seconds = time.perf_counter() - started
                how = "incremental" if not report.rebuilt_because else f"full rebuild ({report.rebuilt_because})"
                print(f"{step:8} {rows:>7,} rows: {seconds:6.2f} s  {how}; graph {report.nodes:,} nodes, "
                      f"{report.relationships:,} relationships")  # fmt: skip
    print(f"load average after: {os.getloadavg()}")
    store.close()


if __name__ == "__main__":
    main()
