"""The labelled real set (tests/fixtures/real/resolution/records.csv) as bundles to resolve, and its truth."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa

REAL = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "real" / "resolution" / "records.csv"
TABLES = {"Factory": "factories", "Company": "companies", "Affiliate": "affiliates"}


def read_real(path: Path = REAL) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def real_bundles(rows: list[dict[str, str]]) -> list[tuple[str, dict[str, pa.Table]]]:
    """One bundle per record, as a loader's record (source_format set): every record may meet every other."""
    bundles = []
    for row in rows:
        record = {
            "id": row["record_id"],
            "name": row["name"],
            "country": row["country"] or None,
            "address": row["address"] or None,
            "city": row["city"] or None,
            "postal_code": row["postal_code"] or None,
            "lat": float(row["lat"]) if row["lat"] else None,
            "lng": float(row["lng"]) if row["lng"] else None,
            "identifier_scheme": row["id_scheme"] or ("unstated" if row["id_value"] else None),
            "identifier_id": row["id_value"] or None,
            "source_format": row["source"].split(":")[0],
            "_line": 2,
        }
        table = pa.Table.from_pylist([record])
        bundles.append((row["record_id"], {TABLES[row["kind"]]: table}))
    return bundles
