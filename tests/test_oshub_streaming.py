"""Open Supply Hub downloads are read row by row: a large generated file (multi-line quoted addresses, `|` lists,
several contributions per facility, closed facilities) gives the facilities an independent count says, spilled
in partitions like any large input, and a bad row deep in the file is named by its line. Names are invented."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
import supplygraph.loaders.canonical as canonical
from supplygraph.graph.errors import BundleError
from supplygraph.loaders.oshub import read_oshub

HEADER = [
    "os_id", "contribution_date", "name", "address", "country_code", "country_name", "lat", "lng", "sector",
    "contributor", "number_of_workers", "parent_company", "facility_type", "processing_type", "product_type",
    "is_closed",
]  # fmt: skip


def _os_id(n: int) -> str:
    return f"VN{2020000 + n:07d}FAC{n % 1000:03d}"


def _download(path: Path, facilities: int, bad_at: int | None = None) -> tuple[dict[str, dict], dict[int, int]]:
    """Write the CSV; return what it says per facility (latest contribution wins) and the line each row starts on."""
    rng = random.Random(11)
    truth: dict[str, dict] = {}
    starts: dict[int, int] = {}
    line = 2
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for row_no in range(facilities * 3 // 2):
            n = row_no if row_no < facilities else rng.randrange(facilities)  # later rows: new contributions
            os_id = _os_id(n)
            date = f"{2022 + row_no // facilities}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            address = f"Lot {rng.randint(1, 90)}, Sample Road\nGreenbay Industrial Zone" if n % 5 == 0 else "Lot 7"
            closed = "True" if n % 17 == 0 else "False"
            writer.writerow([
                f"{os_id[:2]} {os_id[2:9]}-{os_id[9:]}" if row_no != bad_at else "VN-NOT-AN-ID", date, f"Plant {n}", address, "VN", "Viet Nam", "10.8", "106.6",
                "Electronics|Technology", "Fictional Brand (Brand/Retailer)", "1001-5000", f"Owner Group {n % 40}",
                "Final Product Assembly", "Assembly|Testing", "Notebooks", closed,
            ])  # fmt: skip
            starts[row_no] = line
            line += address.count("\n") + 1
            if row_no == bad_at:
                continue
            seen = truth.get(_os_id(n))
            if seen is None or date >= seen["date"]:
                truth[_os_id(n)] = {"date": date, "closed": closed == "True"}
    return truth, starts


def test_a_large_download_streams_in_partitions_with_the_facilities_it_holds(tmp_path, monkeypatch) -> None:
    path = tmp_path / "facilities.csv"
    truth, _ = _download(path, 6_000)
    monkeypatch.setattr(canonical, "PARTITION_BYTES", path.stat().st_size // 8)  # spilled in ~8 partitions
    assert canonical.partitions_for(path.stat().st_size) > 1
    seen: list[tuple[str, int, int]] = []
    bundle = read_oshub(path, progress=lambda step, done, total: seen.append((step, done, total)))
    factories = {r["id"]: r for r in bundle.tables["factories"].to_pylist()}
    assert set(factories) == set(truth)
    assert {k for k, r in factories.items() if r["is_closed"] == "true"} == {k for k, t in truth.items() if t["closed"]}
    assert {k: r["contribution_date"] for k, r in factories.items()} == {k: t["date"] for k, t in truth.items()}
    sample = factories[_os_id(5)]
    assert sample["address"].endswith("Greenbay Industrial Zone") and sample["sector"] == "Electronics|Technology"
    assert len(bundle.tables["companies"]) == 40
    size = path.stat().st_size
    assert seen[-1] == ("reading facilities.csv (bytes)", size, size) and len(seen) >= 1


def test_a_bad_row_deep_in_a_large_download_is_named_by_its_line(tmp_path) -> None:
    path = tmp_path / "facilities.csv"
    _, starts = _download(path, 4_000, bad_at=5_555)
    assert starts[5_555] > 5_557  # multi-line addresses before it: its line is not its row number + 2
    with pytest.raises(BundleError) as caught:
        read_oshub(path)
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (starts[5_555], "os_id")
    assert "'VN-NOT-AN-ID' is not an OS ID" in problem.message
