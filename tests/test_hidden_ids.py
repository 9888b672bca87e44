"""Ids with control or invisible formatting characters are refused wherever ids are read (bundle CSV, xlsx, OCDS,
FollowTheMoney), naming file, line and column; nothing is written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from supplygraph.graph.errors import BundleError
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sources"
HIDDEN = ["\x00", "\x1b[2J", "\x7f", "\x85", "\u200b", "\u202e", "\ufeff"]


def demo_with(tmp_path: Path, file: str, old: str, new: str) -> Path:
    bundle = tmp_path / "bundle"
    shutil.copytree(DEMO, bundle)
    text = (bundle / file).read_text()
    assert old in text
    (bundle / file).write_text(text.replace(old, new, 1))
    return bundle


@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_bundle_id_with_a_hidden_character_is_refused(store, tmp_path: Path, hidden: str) -> None:
    bundle = demo_with(tmp_path, "factories.csv", "\nFA-SH2,", f"\nFA-{hidden}SH2,")  # inside: ends are trimmed
    with pytest.raises(BundleError) as refused:
        load_bundles(store, [bundle])
    text = str(refused.value)
    assert "factories.csv:" in text and "column 'factory_id'" in text and "control or invisible" in text
    assert repr(f"FA-{hidden}SH2") in text  # shown escaped, never raw
    assert hidden not in text
    assert store.generation is None


def test_a_reference_and_a_link_end_are_checked_too(tmp_path: Path, store) -> None:
    bundle = demo_with(tmp_path, "supply.csv", "FA-SH2", "FA-SH2\x00")
    with pytest.raises(BundleError, match=r"supply.csv:\d+: column '\w+_factory_id': 'FA-SH2\\x00' holds a control"):
        load_bundles(store, [bundle], dry_run=True)


def test_an_xlsx_id_is_checked(tmp_path: Path, store) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "factories"
    sheet.append(["factory_id", "name", "country"])
    sheet.append(["FA-ONE", "One Plant", "VN"])
    sheet.append(["FA-ONE\u200b", "One Plant Again", "VN"])
    book.save(tmp_path / "book.xlsx")
    with pytest.raises(BundleError, match=r"book.xlsx\[factories\]:3: column 'factory_id': 'FA-ONE\\u200b' holds"):
        load_bundles(store, [tmp_path / "book.xlsx"], dry_run=True)


def test_an_ocds_id_is_checked(tmp_path: Path, store) -> None:
    package = json.loads((FIXTURES / "tenders.json").read_text())
    release = package["releases"][0]
    release["ocid"] += "\x1b]0;pwned\x07"  # contract ids are made from it
    (tmp_path / "tenders.json").write_text(json.dumps(package))
    with pytest.raises(BundleError, match=r"holds a control or invisible formatting character") as refused:
        load_bundles(store, [tmp_path / "tenders.json"], dry_run=True)
    assert "\x1b" not in str(refused.value)


def test_a_followthemoney_id_is_checked(tmp_path: Path, store) -> None:
    lines = (FIXTURES / "listed.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["id"] = first["id"] + "\x00"
    (tmp_path / "listed.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    with pytest.raises(BundleError, match=r"holds a control or invisible formatting character"):
        load_bundles(store, [tmp_path / "listed.jsonl"], dry_run=True)


def test_names_may_hold_them_and_are_stored_as_given(tmp_path: Path, store) -> None:
    """Only ids are refused: a name keeps its characters (they are escaped on output, see test_terminal_output)."""
    bundle = demo_with(tmp_path, "factories.csv", "\nFA-SH2,", "\nFA-SH2,\x1b[2J")
    load_bundles(store, [bundle])
    name = store.run("MATCH (f:Factory) WHERE f.id = 'FA-SH2' RETURN f.name AS name")[0]["name"]
    assert name.startswith("\x1b[2J")


def test_an_open_supply_hub_id_is_checked(tmp_path: Path, store) -> None:
    """An OS ID has a fixed form, so its own check refuses it first (shown escaped)."""
    text = (FIXTURES / "facilities.csv").read_text()
    (tmp_path / "facilities.csv").write_text(text.replace("CN2021088SHP2A7", "CN2021088\u200bSHP2A7", 1))
    with pytest.raises(BundleError, match=r"facilities.csv:2: column 'os_id': 'CN2021088\\u200bSHP2A7' is not an OS ID"):
        load_bundles(store, [tmp_path / "facilities.csv"], dry_run=True)
