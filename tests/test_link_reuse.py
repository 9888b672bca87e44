"""Link index files taken over by an incremental load from the generation it copied (queries/link_reuse.py): a file
is hard-linked only when its group reads no table the change wrote and the previous generation's folder is whole
and stamped with that generation; every file of the new folder equals, byte for byte, what a fresh build of the
new generation writes. The embedded store only: a Neo4j load's index files are written by its first reader."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.stores.ladybug_store import LadybugStore, PinnedLadybugStore
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.link_cache import link_index_of
from supplygraph.queries.link_files import STAMP, stamped_files, write_parts
from supplygraph.queries.link_index import GROUP_READS, link_parts, part_group
from supplygraph.queries.link_reuse import tables_read

from tests.conftest import DEMO

assert link_index_of  # importing it registers the writing of the index files with every new generation


def write_csv(folder: Path, name: str, rows: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.csv").write_text("\n".join(rows) + "\n")


def findings_bundle(folder: Path) -> Path:
    write_csv(folder, "sources", ["source_id,title,kind", "MON-S1,Monitoring report,audit"])
    write_csv(folder, "findings", ["finding_id,subject_type,subject_id,category,severity,status,reported_on,source_id",
                                   "MON-F1,factory,FA-SH1,wages,high,open,2025-02-01,MON-S1",
                                   "MON-F2,agency,AG-CN1,recruitment_fees,low,open,2025-03-01,MON-S1"])  # fmt: skip
    return folder


def supply_bundle(folder: Path) -> Path:
    write_csv(folder, "sources", ["source_id,title,kind", "MON-S2,Supplier disclosure,disclosure"])
    write_csv(folder, "supply", ["supplier_factory_id,buyer_factory_id,valid_from,source_id",
                                 "FA-SH2,FA-SH1,2024-01-01,MON-S2"])  # fmt: skip
    return folder


def index_folder(store: LadybugStore, generation: str) -> Path:
    folder = store.link_index_folder(generation)
    assert folder is not None
    return folder


def load_with_change(tmp_path: Path, bundle: Path) -> tuple[LadybugStore, str, str]:
    """The demo loaded, then `bundle` added incrementally: (store, generation before, generation after)."""
    store = LadybugStore(tmp_path / "db")
    load_bundles(store, [DEMO], fresh=True)
    before = store.generation
    assert before is not None
    report = load_bundles(store, [bundle], incremental=True)
    assert report.rebuilt_because == ""
    after = store.generation
    assert after is not None and after != before
    return store, before, after


def same_as_fresh_build(store: LadybugStore, generation: str, tmp_path: Path) -> None:
    """Every file of the generation's index folder equals the file a fresh build of its parts writes."""
    reader = PinnedLadybugStore(store.root, generation)
    try:
        assert write_parts(tmp_path / "fresh", link_parts(reader.link_reads()), generation)
    finally:
        reader.close()
    written = stamped_files(index_folder(store, generation), generation)
    fresh = stamped_files(tmp_path / "fresh", generation)
    assert written is not None and fresh is not None and written.keys() == fresh.keys()
    for file in fresh:
        assert (index_folder(store, generation) / file).read_bytes() == (tmp_path / "fresh" / file).read_bytes(), file


def linked_files(store: LadybugStore, before: str, after: str) -> set[str]:
    """The files in `after`'s folder that are the very files of `before`'s (hard links)."""
    old, new = index_folder(store, before), index_folder(store, after)
    files = stamped_files(new, after)
    assert files is not None
    return {f for f in files if (old / f).exists() and os.path.samefile(old / f, new / f)}


def linked_groups(store: LadybugStore, before: str, after: str) -> set[str]:
    """The groups whose files in `after`'s folder are the very files of `before`'s (hard links)."""
    shared = linked_files(store, before, after)
    files = stamped_files(index_folder(store, after), after)
    assert files is not None
    groups = {part_group(f.rsplit(".", 1)[0]) for f in shared}
    for group in groups:  # a group is taken over whole or not at all
        assert all(f in shared for f in files if part_group(f.rsplit(".", 1)[0]) == group)
    return groups


def test_every_bulk_read_names_its_tables() -> None:
    known = set(SCHEMA.nodes) | set(SCHEMA.rel_types)
    for group, reads in GROUP_READS.items():
        for query in reads:
            assert tables_read(query) and tables_read(query) <= known, (group, query)
    assert tables_read(GROUP_READS["findings"][0]) == {"Finding"}


def test_findings_take_over_every_group_but_the_findings(tmp_path: Path) -> None:
    store, before, after = load_with_change(tmp_path, findings_bundle(tmp_path / "monitor"))
    try:
        assert linked_groups(store, before, after) == set(GROUP_READS) - {"findings"}
        same_as_fresh_build(store, after, tmp_path)
        old = index_folder(store, before) / "findings_rows.arrow"
        assert old.read_bytes() != (index_folder(store, after) / "findings_rows.arrow").read_bytes()  # a real change
    finally:
        store.close()


def test_supply_links_update_the_supply_walk(tmp_path: Path) -> None:
    store, before, after = load_with_change(tmp_path, supply_bundle(tmp_path / "disclosure"))
    try:
        shared = linked_files(store, before, after)
        groups = {part_group(f.rsplit(".", 1)[0]) for f in shared if not f.startswith(("factory_", "supply_"))}
        assert {"findings", "placements", "assembly"} <= groups
        # the factory codes and details stay (hard-linked), the links are updated from the change's rows
        assert {"factory_keys.npy", "factory_ids.arrow", "factory_details.arrow"} <= shared
        assert not any(f.startswith("supply_") for f in shared)
        same_as_fresh_build(store, after, tmp_path)
    finally:
        store.close()


def damaged_then_changed(tmp_path: Path, damage: Callable[[Path], None]) -> None:
    """The demo loaded, its index folder damaged by `damage`, then findings added: nothing is taken over, and the new
    folder is what a fresh build writes."""
    store = LadybugStore(tmp_path / "db")
    load_bundles(store, [DEMO], fresh=True)
    before = store.generation
    assert before is not None
    damage(index_folder(store, before))
    load_bundles(store, [findings_bundle(tmp_path / "monitor")], incremental=True)
    after = store.generation
    assert after is not None and after != before
    try:
        assert linked_groups(store, before, after) == set()
        same_as_fresh_build(store, after, tmp_path)
    finally:
        store.close()


def test_a_folder_stamped_for_another_generation_is_never_taken_over(tmp_path: Path) -> None:
    def restamp(folder: Path) -> None:
        stamp = folder / STAMP
        stamp.write_text(json.dumps(json.loads(stamp.read_text()) | {"generation": "another"}))

    damaged_then_changed(tmp_path, restamp)


def test_a_damaged_file_is_never_taken_over(tmp_path: Path) -> None:
    def grow(folder: Path) -> None:  # a file of another size than its stamp says: not the generation's whole index
        with open(folder / "supply_buyer.npy", "ab") as fh:
            fh.write(b"\0")

    damaged_then_changed(tmp_path, grow)


def test_replaced_supply_links_are_updated_not_read_back(tmp_path: Path, monkeypatch) -> None:
    """Replacing a bundle's supply links finds the replaced links among the previous arrays (none is read back)."""
    from supplygraph.queries import link_delta

    results: list[bool] = []
    original = link_delta.updated_supply_parts

    def recorded(*args):
        parts = original(*args)
        results.append(parts is not None)
        return parts

    monkeypatch.setattr(link_delta, "updated_supply_parts", recorded)
    store, _before, _after = load_with_change(tmp_path, supply_bundle(tmp_path / "one" / "disclosure"))
    try:
        other = tmp_path / "two" / "disclosure"  # the same name: replaces the first
        write_csv(other, "sources", ["source_id,title,kind", "MON-S2,Supplier disclosure,disclosure"])
        write_csv(other, "supply", ["supplier_factory_id,buyer_factory_id,valid_from,valid_to,source_id",
                                    "FA-SH1,FA-SH2,2023-01-01,2025-12-31,MON-S2", "FA-SH2,FA-SH1,,,"])  # fmt: skip
        assert load_bundles(store, [other], incremental=True).rebuilt_because == ""
        assert results == [True, True]
        generation = store.generation
        assert generation is not None
        same_as_fresh_build(store, generation, tmp_path)
    finally:
        store.close()
