"""Splink (Fellegi-Sunter with term-frequency adjustment, on DuckDB) on the labelled real resolution set, for
comparison with loaders/resolve/ (docs/resolution.md). Splink is not a dependency of the project: it runs in a
scratch venv of its own, on the real set cleaned the way loaders/resolve/ cleans it (legal forms dropped,
ASCII, kind-of-place words and the own country left out of addresses), so both see the same words.

    .venv/bin/python -m benchmarks.resolution_splink --prepare /tmp/real-clean.csv
    python3 -m venv /tmp/splink-venv && /tmp/splink-venv/bin/pip install splink
    /tmp/splink-venv/bin/python benchmarks/resolution_splink.py --splink /tmp/real-clean.csv [--labels]

The model: name (Jaro-Winkler levels with TF adjustment on the exact level), shared name words, shared address
words, town (exact, TF), postcode, coordinates (0.3 / 2 / 10 km), identifier; pairs blocked by country and
kind. m and u from Splink's own estimators (random sampling for u, EM blocked on name and on address), or with
--labels m from the hand labels themselves (an upper bound, not a fair score). Clusters are Splink's: connected
components of the pairs at or above each threshold.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import defaultdict
from pathlib import Path

COLUMNS = ["unique_id", "cluster", "kind", "country", "name_clean", "name_tokens", "address_clean",
           "address_tokens", "town", "postcode", "lat", "lng", "ident"]  # fmt: skip
THRESHOLDS = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999)


def prepare(path: Path) -> None:
    """The real set with the columns Splink compares (run with the project's venv)."""
    from supplygraph.loaders.resolve.features import address_tokens, name_tokens, without_country

    from benchmarks.resolution_real import read_real

    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(COLUMNS)
        for r in read_real():
            name = " ".join(name_tokens(r["name"]))
            address = " ".join(without_country(address_tokens(r["address"]), r["country"] or None))
            ident = f"{r['id_scheme']}:{r['id_value']}" if r["id_value"] else None
            out.writerow([r["record_id"], r["cluster"], r["kind"], r["country"] or None, name, name, address or None,
                          address or None, " ".join(address_tokens(r["city"])) or None, r["postal_code"] or None,
                          r["lat"] or None, r["lng"] or None, ident])  # fmt: skip


def run_splink(path: Path, labels: bool) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
    types = {"postcode": pa.string(), "lat": pa.float64(), "lng": pa.float64()}
    table = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(strings_can_be_null=True, column_types=types))
    for col in ("name_tokens", "address_tokens"):
        table = table.set_column(table.column_names.index(col), col, pc.split_pattern(table.column(col), " "))
    truth = dict(zip(table.column("unique_id").to_pylist(), table.column("cluster").to_pylist(), strict=True))
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("name_clean", [0.95, 0.88, 0.75]).configure(term_frequency_adjustments=True),
            cl.ArrayIntersectAtSizes("name_tokens", [3, 2, 1]),
            cl.ArrayIntersectAtSizes("address_tokens", [5, 3, 1]),
            cl.ExactMatch("town").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode"),
            cl.DistanceInKMAtThresholds("lat", "lng", [0.3, 2, 10]),
            cl.ExactMatch("ident"),
        ],
        blocking_rules_to_generate_predictions=[block_on("country", "kind")],
    )
    linker = Linker(DuckDBAPI().register(table), settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("name_clean", "address_clean"), block_on("name_clean", "town")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6)
    if labels:
        linker.training.estimate_m_from_label_column("cluster")
    else:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_clean"))
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("address_clean"))
    trained = time.perf_counter() - started
    rows = linker.inference.predict(threshold_match_probability=0.3).as_pyarrow_table()
    ids_l, ids_r = rows.column("unique_id_l").to_pylist(), rows.column("unique_id_r").to_pylist()
    scored = list(zip(ids_l, ids_r, rows.column("match_probability").to_pylist(), strict=True))
    print(f"records {len(truth)}  true pairs {len(pairs(truth))}  training {trained:.1f} s  "
          f"prediction {time.perf_counter() - started - trained:.1f} s")  # fmt: skip
    for threshold in THRESHOLDS:
        found = components(truth, [(a, b) for a, b, p in scored if p >= threshold])
        merged, right = pairs(found), pairs(found) & pairs(truth)
        queue = sum(1 for a, b, p in scored if 0.5 <= p < threshold and found[a] != found[b])
        print(f"threshold {threshold}: precision {len(right) / max(1, len(merged)):.4f}  recall "
              f"{len(right) / len(pairs(truth)):.4f}  ({len(right)} of {len(merged)} merged pairs correct)  "
              f"pairs at 0.5 to the threshold left apart (a review queue): {queue}")  # fmt: skip


def components(truth: dict[str, str], edges: list[tuple[str, str]]) -> dict[str, str]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for a, b in edges:
        parent[find(a)] = find(b)
    return {r: find(r) for r in truth}


def pairs(assignment: dict[str, str]) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for record, cluster in assignment.items():
        groups[cluster].append(record)
    return {(x, y) for members in groups.values() for x in members for y in members if x < y}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prepare", type=Path, help="write the cleaned real set here (the project's venv)")
    parser.add_argument("--splink", type=Path, help="run Splink on a cleaned real set (a venv with splink)")
    parser.add_argument("--labels", action="store_true", help="m from the hand labels instead of EM")
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare)
    if args.splink:
        run_splink(args.splink, args.labels)


if __name__ == "__main__":
    main()
