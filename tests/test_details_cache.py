"""Finding and source details kept per generation (queries/details_cache.py): an answer tells what the
generation it is answered from says, also after a new load changes a finding's summary or a source's title."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.exposure import exposure_for_affiliate
from supplygraph.queries.steps import CypherSteps

from tests.conftest import DEMO, StoreFactory

DAY = date(2025, 6, 1)


def _rewrite(path: Path, column: str, change: str) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row[column] = f"{row[column]} {change}"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _affiliates(bundle: Path) -> list[str]:
    with (bundle / "affiliates.csv").open(newline="", encoding="utf-8") as handle:
        return [row["affiliate_id"] for row in csv.DictReader(handle)]


def test_details_follow_the_generation(store_factory: StoreFactory, tmp_path: Path) -> None:
    store = store_factory()
    bundle = tmp_path / "bundle"
    shutil.copytree(DEMO, bundle)
    load_bundles(store, [bundle], fresh=True)
    affiliates = _affiliates(bundle)
    first = {a: exposure_for_affiliate(store, a, DAY).as_json() for a in affiliates}
    assert any(answer["findings"] for answer in first.values())
    for a in affiliates:  # asked again: the kept details, and the same as Cypher reads them
        assert exposure_for_affiliate(store, a, DAY).as_json() == first[a]
        assert exposure_for_affiliate(store, a, DAY, steps=CypherSteps(store)).as_json() == first[a]

    _rewrite(bundle / "findings.csv", "summary", "(revised)")
    _rewrite(bundle / "sources.csv", "title", "(second edition)")
    load_bundles(store, [bundle], fresh=True)
    for a in affiliates:
        answer = exposure_for_affiliate(store, a, DAY).as_json()
        assert answer == exposure_for_affiliate(store, a, DAY, steps=CypherSteps(store)).as_json()
        assert all(f["summary"].endswith("(revised)") for f in answer["findings"])
        assert all(s["title"].endswith("(second edition)") for s in answer["sources"].values() if s["title"])
        assert len(answer["findings"]) == len(first[a]["findings"])
