"""Exposure answers name where their facts came from (queries/provenance.py), on both stores.

Expected origins are derived here from the input files themselves (CSV rows and their lines, OCDS JSON
pointers, FollowTheMoney lines), not from what the loaders wrote. All names are invented (demo, fixtures).
"""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.exposure import exposure_for_affiliate
from supplygraph.queries.registry import get_query
from supplygraph.queries.steps import CypherSteps

from tests import oracle
from tests.conftest import DEMO

SOURCES = Path(__file__).resolve().parent / "fixtures" / "sources"
TENDERS, FACILITIES, LISTED = SOURCES / "tenders.json", SOURCES / "facilities.csv", SOURCES / "listed.jsonl"
DATASET = "fict_forced_labour_entity_list"
ORIGIN = re.compile(
    r"^(?P<bundle>[^/]+)/(?P<file>[^:]+):(?P<line>\d+) \((?P<format>\w+)(?: (?P<record>.+?))?, loaded (?P<day>[\d-]+)\)$"
)
KEYS = {  # bundle file -> the column naming the node of a row
    "affiliates.csv": "affiliate_id",
    "contracts.csv": "contract_id",
    "products.csv": "product_id",
    "factories.csv": "factory_id",
    "agencies.csv": "agency_id",
    "companies.csv": "company_id",
    "findings.csv": "finding_id",
    "contract_items.csv": "item_id",  # version 1.1 items that name their id (the demo's AF-KST)
}


@pytest.fixture(autouse=True)
def _local_data(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SUPPLYGRAPH_DB", str(tmp_path / "data"))  # Neo4j's matches file


def rows_with_lines(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Each row of a CSV file with the line it starts on (the header is line 1)."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        out, start = [], 2
        for row in reader:
            out.append((start, {k: (v or "").strip() for k, v in row.items()}))
            start = reader.line_num + 1
    return out


def load_days(store, paths: list[Path]) -> set[str]:
    before = datetime.now(UTC).date()
    load_bundles(store, paths)
    return {before.isoformat(), datetime.now(UTC).date().isoformat()}


class DemoRecords:
    """The demo bundle's rows by what they describe, as `bundle/file:line (bundle, loaded DAY)`."""

    def __init__(self, day: str) -> None:
        self.day = day
        self.files = {name: rows_with_lines(DEMO / name) for name in sorted(p.name for p in DEMO.glob("*.csv"))}
        self.node = {row[key]: self.origin(name, line) for name, key in KEYS.items() for line, row in self.files[name]}
        # the products the oracle's own matcher links the demo's described items to (tests/oracle.py)
        self.matched = {i: it["product"] for i, it in oracle.items_of(oracle.read_bundle(DEMO)).items()}

    def origin(self, name: str, line: int) -> str:
        return f"bundle/{name}:{line} (bundle, loaded {self.day})"

    def lines(self, name: str, day: date | None, **match: str) -> list[str]:
        """The origins of the rows of `name` with these values, active on `day` unless it is None."""
        return [
            self.origin(name, line)
            for line, row in self.files[name]
            if all(row[k] == v for k, v in match.items()) and (day is None or oracle.active(row, day))
        ]

    def brand_of(self, item: str) -> str | None:
        """The brand an item's brand_name names (the demo's described items name a brand or an alias)."""
        row = next((r for _, r in self.files["contract_items.csv"] if r.get("item_id") == item), None)
        if row is None or not row.get("brand_name"):
            return None
        for _, company in self.files["companies.csv"]:
            if row["brand_name"] in (company["name"], *company.get("aliases", "").split("|")):
                return company["company_id"]
        return None

    def link(self, a: str, b: str, day: date) -> tuple[str, list[str]]:
        """The relationship a path step a -> b stands for, found from which file holds the pair."""
        contract = next((row for _, row in self.files["contracts.csv"] if row["contract_id"] == b), None)
        candidates = {
            "HOLDS": [self.node[b]] if contract and contract["affiliate_id"] == a else [],
            "CALL_OFF_OF": [self.node[b]] if contract and contract["framework_id"] == a else [],
            "INCLUDES": self.lines("contract_items.csv", None, contract_id=a, product_id=b)
            + [self.origin("contract_items.csv", line) for line, row in self.files["contract_items.csv"]
               if row["contract_id"] == a and not row["product_id"] and self.matched.get(row["item_id"]) == b],
            "ASSEMBLED_AT": self.lines("assembly.csv", day, product_id=a, factory_id=b),
            "SUPPLIES": self.lines("supply.csv", day, buyer_factory_id=a, supplier_factory_id=b),
            "PLACES_WORKERS_AT": self.lines("placements.csv", day, factory_id=a, agency_id=b),
            "RECRUITS_THROUGH": self.lines("agency_links.csv", day, agency_id=a, subagent_id=b),
            "OPERATED_BY": [self.node[a]] if self.lines("factories.csv", None, factory_id=a, operator_id=b) else [],
            "BRANDED_BY": [self.node[a]] if self.lines("products.csv", None, product_id=a, brand_id=b) else [],
            "CONCERNS": [self.node[b]] if self.lines("findings.csv", None, finding_id=b, subject_id=a) else [],
            "HAS_ITEM": self.lines("contract_items.csv", None, contract_id=a, item_id=b),
            "ITEM_BRAND": self.lines("contract_items.csv", None, item_id=a) if self.brand_of(a) == b else [],
            "LISTS_SITE": self.lines("brand_sites.csv", day, brand_id=a, factory_id=b),
        }
        found = [(rel, sorted(origins)) for rel, origins in candidates.items() if origins]
        assert len(found) == 1, (a, b, found)
        return found[0]


def path_steps(answer: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (item["path"][i], item["path"][i + 1])
        for kind in ("factories", "agencies", "findings")
        for item in answer[kind]
        for i in range(len(item["path"]) - 1)
    }


@pytest.mark.parametrize("day", [date(2023, 6, 1), date(2026, 6, 1)])
def test_demo_answers_name_the_bundle_rows_of_items_nodes_and_links(store, day) -> None:
    (loaded,) = load_days(store, [DEMO])
    demo = DemoRecords(loaded)
    checked = {"items": 0, "links": 0, "parallel": 0}
    for affiliate in sorted(row["affiliate_id"] for _, row in demo.files["affiliates.csv"]):
        answer = exposure_for_affiliate(store, affiliate, day, provenance=True).as_json()
        plain = exposure_for_affiliate(store, affiliate, day).as_json()
        assert "provenance" not in plain and all("origins" not in f for f in plain["factories"] + plain["findings"])
        for kind in ("factories", "agencies", "findings"):  # the same answer, with origins
            assert plain[kind] == [{k: v for k, v in f.items() if k != "origins"} for f in answer[kind]]
        assert answer == exposure_for_affiliate(store, affiliate, day, steps=CypherSteps(store), provenance=True).as_json()
        for kind in ("factories", "agencies", "findings"):
            for item in answer[kind]:
                assert item["origins"] == [demo.node[item["id"]]], item
                checked["items"] += 1
        provenance = answer.get("provenance", {"nodes": [], "links": []})
        steps = path_steps(answer)
        assert [(link["from"], link["to"]) for link in provenance["links"]] == sorted(steps)
        for link in provenance["links"]:
            rel, origins = demo.link(link["from"], link["to"], day)
            assert (link["type"], link["origins"]) == (rel, origins), link
            checked["links"] += 1
            checked["parallel"] += len(origins) > 1
        items = {item["id"] for kind in ("factories", "agencies", "findings") for item in answer[kind]}
        on_paths = {node for step in steps for node in step} - items
        assert sorted(n["id"] for n in provenance["nodes"]) == sorted(on_paths)
        assert all(n["origins"] == [demo.node[n["id"]]] for n in provenance["nodes"])
    assert checked["items"] > 20 and checked["links"] > 20 and checked["parallel"] >= (day.year == 2026)


def resolve(record: str) -> Any:
    """What an OCDS JSON pointer or a FollowTheMoney line of a source record names."""
    name, _, where = record.partition("#") if "#" in record else record.partition(":")
    path = SOURCES / name
    if path.suffix == ".jsonl":
        return json.loads(path.read_text().splitlines()[int(where) - 1])
    found: Any = json.loads(path.read_text())
    for part in where.strip("/").split("/"):
        found = found[int(part)] if isinstance(found, list) else found[part]
    return found


def squeeze(text: str) -> str:
    return re.sub(r"[\s-]", "", text.lower())


def aliases(same_as: dict[str, list[str]]) -> dict[str, set[str]]:
    """Names a record may use for a node: its id, its demo row's name, model or LEI, and the ids of the
    records known (from the fixtures' documentation) to be the same thing."""
    out: dict[str, set[str]] = {}
    for name, key in KEYS.items():
        for _, row in rows_with_lines(DEMO / name):
            out[row[key]] = {row[key], *(row.get(c) or "" for c in ("name", "model", "lei"))} - {""}
    for node, others in same_as.items():
        out.setdefault(node, {node}).update(others)
    return {node: {squeeze(n) for n in names} for node, names in out.items()}


def describes(origin: str, node: str, days: set[str], names: dict[str, set[str]]) -> bool:
    """Whether `origin` names an input record (CSV row, OCDS object, FtM entity) about `node`."""
    parsed = ORIGIN.match(origin)
    assert parsed is not None, origin
    assert parsed["day"] in days, origin
    fmt, record = parsed["format"], parsed["record"]
    if fmt == "bundle":
        assert parsed["bundle"] == "bundle" and record is None
        text = json.dumps(next(r for n, r in rows_with_lines(DEMO / parsed["file"]) if n == int(parsed["line"])))
    elif fmt == "oshub":
        name, _, line = record.partition(":")
        assert name == FACILITIES.name
        text = json.dumps(next(r for n, r in rows_with_lines(FACILITIES) if n == int(line)))
    else:
        assert fmt in ("ocds", "ftm"), origin
        text = json.dumps(resolve(record), ensure_ascii=False)
    known = names.get(node, {squeeze(node)}) | {squeeze(node.rpartition("/")[2])}  # an OCDS contract: ocid/its id
    return any(alias in squeeze(text) for alias in known)


def test_real_world_sources_answers_name_file_format_record_and_day(store) -> None:
    days = load_days(store, [DEMO, TENDERS, FACILITIES, LISTED])
    # Who is who across the files, as the fixtures were written: two Open Supply Hub facilities are bundle
    # factories, the listed FollowTheMoney company operates FA-SH2, the OCDS buyer is Westerholm.
    # Its operator is the listed entity and, in the facilities file, the parent company by its long legal form;
    # the listing finding is named after the listed entity ("listing:<dataset>:<entity id>").
    listed = "fict-lst-7c1e0a"
    names = aliases(
        {
            "FA-SH2": ["CN2021088SHP2A7"],
            "FA-DVB": ["CN2019112DVB9K3"],
            "CO-SHM": [listed, "Silver Heron Manufacturing Company Limited"],
            f"listing:{DATASET}:{listed}": [listed],
        }
    )
    answer = get_query("exposure").run(
        store, {"affiliate_id": "GB-FICT-WHM", "as_of": "2025-06-01", "provenance": "true"}
    )
    formats: set[str] = set()
    for kind in ("factories", "agencies", "findings"):
        for item in answer[kind]:
            assert item["origins"] and all(describes(o, item["id"], days, names) for o in item["origins"]), item
            formats.update(ORIGIN.match(o)["format"] for o in item["origins"])  # type: ignore[index]
    for node in answer["provenance"]["nodes"]:
        assert node["origins"] and all(describes(o, node["id"], days, names) for o in node["origins"]), node
        formats.update(ORIGIN.match(o)["format"] for o in node["origins"])  # type: ignore[index]
    for link in answer["provenance"]["links"]:
        assert link["origins"], link
        for origin in link["origins"]:
            assert describes(origin, link["from"], days, names) or describes(origin, link["to"], days, names), link
    assert formats == {"bundle", "ocds", "oshub", "ftm"}
    factories = {f["id"]: f for f in answer["factories"]}
    sh2 = [ORIGIN.match(o) for o in factories["FA-SH2"]["origins"]]
    assert {(m["format"], m["file"]) for m in sh2} == {("bundle", "factories.csv"), ("oshub", "factories.csv")}  # type: ignore[index]
    listing = next(f for f in answer["findings"] if f["id"].startswith("listing:"))
    (origin,) = listing["origins"]
    assert ORIGIN.match(origin)["format"] == "ftm"  # type: ignore[index]
    assert resolve(ORIGIN.match(origin)["record"])["id"] == listing["id"].rpartition(":")[2]  # type: ignore[index]
    contract = answer["factories"][0]["path"][1]
    holds = next(link for link in answer["provenance"]["links"] if link["to"] == contract and link["type"] == "HOLDS")
    pointer = ORIGIN.match(holds["origins"][0])["record"]  # type: ignore[index]
    assert resolve(pointer.split("/contracts/")[0])["ocid"] == contract.partition("/")[0]  # its release
    assert contract.rpartition("/")[2] in json.dumps(resolve(pointer))  # the OCDS contract of that award


def test_provenance_parameter_is_parsed_as_a_flag() -> None:
    query = get_query("exposure")
    base = {"affiliate_id": "AF-LIN", "as_of": "2026-06-01"}
    assert query.parse(base)["provenance"] is False
    assert query.parse({**base, "provenance": "true"})["provenance"] is True
    assert query.parse({**base, "provenance": True})["provenance"] is True
    assert query.parse({**base, "provenance": "0"})["provenance"] is False
    with pytest.raises(Exception, match="provenance"):
        query.parse({**base, "provenance": "maybe"})
