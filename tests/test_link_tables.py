"""The link index of a full embedded load is made from the graph tables the load writes (queries/link_tables.py),
not read back from the new database: on generated bundles (links in both directions, dates and empty cells,
parallel links, ids with odd characters, two bundles merged, stub nodes), every part equals, and every file is
byte for byte, what the bulk reads of the loaded graph give (the read-back path, still used for incremental
loads, Neo4j and old generations). On Neo4j the same bundles read back give parts of the same values."""

from __future__ import annotations

import csv
import filecmp
import random
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from supplygraph.graph.stores import ladybug_build, ladybug_store
from supplygraph.graph.stores.ladybug_store import LadybugStore, PinnedLadybugStore
from supplygraph.graph.stores.protocol import Store
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.link_cache import link_index_of
from supplygraph.queries.link_files import read_parts, write_parts
from supplygraph.queries.link_index import link_parts

ODD = ["", " x", "é-ü", "a,b", 'q"u', "s/l", "名", "0", "z~z", "ä|"]  # suffixes that make ids awkward
CATEGORIES = ["notebook", "server", "monitor", ""]


def write(folder: Path, name: str, header: list[str], rows: list[list[Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        out.writerows(rows)


def day(rng: random.Random) -> str:
    return "" if rng.random() < 0.4 else f"20{rng.randint(18, 27)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def days(rng: random.Random) -> list[str]:
    """A validity (from, to), either end possibly open."""
    ends = [day(rng), day(rng)]
    return sorted(ends) if all(ends) else ends


def bundle(folder: Path, rng: random.Random, tag: str, with_agencies: bool) -> Path:
    """A bundle of every file the index reads (agencies.csv only `with_agencies`: else its agencies are stubs); its
    ids overlap another bundle's made with another `tag` (the same node in both)."""
    def ids(prefix: str, n: int) -> list[str]:
        return [f"{prefix}{i}{ODD[i % len(ODD)]}" for i in range(n)]

    sources, companies, affiliates = ids("S", 6), ids("CO", 5), ids("AF", 4)
    factories, agencies, products = ids("F", 30), ids("AG", 6), ids("PR", 8)
    sources_of = lambda: "|".join(rng.sample(sources, rng.randint(0, 2)))
    write(folder, "sources", ["source_id", "title", "kind"], [[s, f"title {tag}", "audit"] for s in sources])
    write(folder, "companies", ["company_id", "name", "roles"], [[c, f"{c} {tag}", "brand"] for c in companies])
    write(folder, "affiliates", ["affiliate_id", "name", "country"], [[a, f"{a} {tag}", rng.choice(["GB", ""])] for a in affiliates])
    write(folder, "factories", ["factory_id", "name", "country", "operator_id"],
          [[f, f"{f} {tag}", "CN", rng.choice([*companies, ""])] for f in factories[: 24 if tag == "a" else 30]])  # fmt: skip
    if with_agencies:
        write(folder, "agencies", ["agency_id", "name", "country"], [[g, g, "TH"] for g in agencies])
    write(folder, "products", ["product_id", "brand_id", "model", "category"],
          [[p, rng.choice(companies), f"model {tag}", rng.choice(CATEGORIES)] for p in products])  # fmt: skip
    frameworks = [f"FW-{tag}{i}{ODD[i]}" for i in range(2)]
    contracts = [[fw, rng.choice(affiliates), "", *days(rng), rng.choice(["1000.5", ""]), "GBP", ""] for fw in frameworks]
    contracts += [[f"CT-{tag}{i}{ODD[i % 10]}", rng.choice(affiliates), rng.choice(companies), *days(rng),
                   rng.choice(["20", ""]), rng.choice(["EUR", ""]), rng.choice([*frameworks, "", ""])] for i in range(8)]  # fmt: skip
    write(folder, "contracts", ["contract_id", "affiliate_id", "supplier_id", "start_date", "end_date", "value", "currency",
                                "framework_id"], contracts)  # fmt: skip
    write(folder, "contract_items", ["contract_id", "product_id", "item_id", "description", "quantity", "category", "source_id"],
          [[c[0], rng.choice([*products, ""]), rng.choice([f"IT-{tag}{i}", ""]), f"laptops {i}", rng.randint(1, 9),
            rng.choice(CATEGORIES), sources_of()] for i, c in enumerate(contracts * 2)])  # fmt: skip
    supply = [[rng.choice(factories), rng.choice(factories), *days(rng), sources_of()] for _ in range(120)]
    supply += supply[:15] + [[s, b, days(rng)[0], "", sources_of()] for s, b, *_ in supply[15:30]]  # parallel links
    rng.shuffle(supply)
    write(folder, "supply", ["supplier_factory_id", "buyer_factory_id", "valid_from", "valid_to", "source_id"], supply)
    write(folder, "assembly", ["product_id", "factory_id", "valid_from", "valid_to", "source_id"],
          [[rng.choice(products), rng.choice(factories), *days(rng), sources_of()] for _ in range(25)])  # fmt: skip
    write(folder, "brand_sites", ["brand_id", "factory_id", "category", "role", "valid_from", "valid_to", "source_id"],
          [[rng.choice(companies), rng.choice(factories), rng.choice(CATEGORIES), rng.choice(["component", "final_assembly", ""]),
            *days(rng), sources_of()] for _ in range(15)])  # fmt: skip
    write(folder, "placements", ["agency_id", "factory_id", "valid_from", "valid_to", "source_id"],
          [[rng.choice(agencies), rng.choice(factories), *days(rng), sources_of()] for _ in range(20)])  # fmt: skip
    write(folder, "agency_links", ["agency_id", "subagent_id", "valid_from", "valid_to", "source_id"],
          [[rng.choice(agencies), rng.choice(agencies), *days(rng), sources_of()] for _ in range(10)])  # fmt: skip
    subjects = [("factory", factories), ("agency", agencies), ("company", companies)]
    findings = [[f"FI-{tag}{i}{ODD[i % 10]}", kind, rng.choice(pool), "wages", rng.choice(["high", ""]),
                 rng.choice(["open", "remediated", ""]), *days(rng), rng.choice(sources)]
                for i, (kind, pool) in enumerate(rng.choice(subjects) for _ in range(20))]  # fmt: skip
    write(folder, "findings", ["finding_id", "subject_type", "subject_id", "category", "severity", "status", "reported_on",
                               "closed_on", "source_id"], findings)  # fmt: skip
    return folder


def generated(tmp_path: Path, seed: int) -> list[Path]:
    rng = random.Random(seed)
    return [bundle(tmp_path / "a", rng, "a", with_agencies=False), bundle(tmp_path / "b", rng, "b", with_agencies=seed % 2 == 0)]


assert link_index_of  # importing it registers the hooks that write the index files of every new generation


def same_part(a: Any, b: Any) -> bool:
    if isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return bool(a.schema.equals(b.schema) and a.equals(b))


@pytest.mark.parametrize(("seed", "children"), [(0, False), (1, False), (2, True), (3, True)])
def test_index_from_tables_equals_index_read_back(
    tmp_path: Path, seed: int, children: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # without the read-back hook, the files a full load leaves can only have been made from its tables
    monkeypatch.setattr(ladybug_store, "generation_built", lambda *args: None)
    if children:  # copied by child processes (tables released before the COPYs, the index made before)
        monkeypatch.setattr(ladybug_build, "CHILD_BYTES", 0)
        monkeypatch.setattr(ladybug_build, "SLICE_ROWS", 40)
    store = LadybugStore(tmp_path / "db")
    report = load_bundles(store, generated(tmp_path, seed), fresh=True)
    assert report.relationships > 300
    generation = store.generation
    assert generation is not None
    folder = store.link_index_folder(generation)
    assert folder is not None
    from_tables = read_parts(folder, generation)
    assert from_tables is not None
    reader = PinnedLadybugStore(tmp_path / "db", generation)
    try:
        read_back = link_parts(reader.link_reads())
    finally:
        reader.close()
    assert set(from_tables) == set(read_back)
    assert [name for name in read_back if not same_part(from_tables[name], read_back[name])] == []
    assert len(read_back["supply_buyer"]) > 100 and read_back["direct_rows"].num_rows > 0
    assert read_back["framework_rows"].num_rows > 0 and read_back["findings_rows"].num_rows > 0
    written = tmp_path / "read-back"
    assert write_parts(written, read_back, generation)
    assert sorted(p.name for p in written.iterdir()) == sorted(p.name for p in folder.iterdir())
    assert [p.name for p in folder.iterdir() if not filecmp.cmp(p, written / p.name, shallow=False)] == []
    store.close()


def values(part: Any) -> Any:
    return part.tolist() if isinstance(part, np.ndarray) else part.to_pylist()


def test_index_read_back_from_either_store_equals_index_from_tables(tmp_path: Path, store: Store) -> None:
    """The same bundles loaded into the parametrised store and read back (the Neo4j index is only ever built that
    way) give the values of the parts a full embedded load makes from its tables."""
    bundles = generated(tmp_path, 7)
    embedded = LadybugStore(tmp_path / "tables")
    load_bundles(embedded, bundles, fresh=True)
    assert embedded.generation is not None
    folder = embedded.link_index_folder(embedded.generation)
    assert folder is not None
    from_tables = read_parts(folder, embedded.generation)
    assert from_tables is not None
    load_bundles(store, bundles, fresh=True)
    assert store.generation is not None
    read_back = link_parts(store.link_reads())
    assert set(read_back) == set(from_tables)
    differing = [name for name in from_tables if values(from_tables[name]) != values(read_back[name])]
    assert differing == []
    assert any(isinstance(p, pa.Table) and p.num_rows for p in read_back.values())
    embedded.close()
