"""What researchers get, on both stores: the schema (command and endpoint, checked against schema.toml read
here), nodes, relationships and paths printed as their label or type and properties (no internal ids),
`source_ids` a list on nodes and relationships alike, and one number format in tables."""

from __future__ import annotations

import csv
import json
import re
import tomllib
from pathlib import Path
from typing import Any

from supplygraph.api.schema_description import describe_schema
from supplygraph.graph.stores.protocol import Store
from supplygraph.loaders.pipeline import load_bundles

from tests.conftest import DEMO
from tests.test_cli import cli

ROOT = Path(__file__).resolve().parent.parent
RAW = tomllib.loads((ROOT / "graph" / "schema.toml").read_text())


def test_schema_is_the_toml() -> None:
    described = describe_schema()
    assert [n["label"] for n in described["nodes"]] == list(RAW["nodes"])
    for node in described["nodes"]:
        raw = RAW["nodes"][node["label"]]["properties"]
        props = {p["name"]: p for p in node["properties"]}
        assert set(props) == {"id", "origins", *raw}
        for name, spec in raw.items():
            assert props[name]["type"] == spec["type"] and props[name]["required"] == spec.get("required", False)
            if "values" in spec:
                assert props[name]["values"] == RAW["enums"][spec["values"]]
    ends = {(r["type"], e["from"], e["to"]) for r in described["relationships"] for e in r["ends"]}
    for ref in RAW["references"]:
        pair = (ref["target"], ref["node"]) if ref.get("reverse") else (ref["node"], ref["target"])
        assert (ref["rel"], *pair) in ends
    for link in RAW["links"].values():
        assert (link["rel"], link["from"]["node"], link["to"]["node"]) in ends
    for rel in described["relationships"]:
        types = {p["name"]: p["type"] for p in rel["properties"]}
        assert types["source_ids"] == "list" and types["valid_from"] == "date"


def test_schema_command_and_endpoint(tmp_path: Path) -> None:
    from tests.test_api_access import make_api, open_test_store

    result = cli("schema", "--json")
    assert result.returncode == 0 and json.loads(result.stdout) == describe_schema()
    table = cli("schema", "Factory").stdout
    assert "os_id" in table and "operator_id" in table and "SUPPLIES" not in table
    assert "(:Factory)-[:SUPPLIES]->(:Factory)" in cli("schema", "supplies").stdout
    assert cli("schema", "Widget").returncode == 3
    assert "relationship types" in " ".join(cli("schema", "--help").stdout.split())
    store = open_test_store("ladybug", tmp_path)
    try:
        with make_api(store, tmp_path) as api:
            for who in ("researcher", "investigator", "affiliate:AF-LIN"):
                got = api.call(who, "GET", "/v1/schema")
                assert got.status_code == 200 and got.json() == json.loads(json.dumps(describe_schema()))
            assert api.call(None, "GET", "/v1/schema").status_code == 401
    finally:
        store.close()


def internal(value: Any) -> list[str]:
    """Keys of internal fields anywhere in a value."""
    if isinstance(value, dict):
        return [k for k in value if str(k).startswith("_")] + [x for v in value.values() for x in internal(v)]
    if isinstance(value, list):
        return [x for v in value for x in internal(v)]
    return []


def run(store: Store, text: str) -> list[list[Any]]:
    return json.loads(json.dumps(store.run_readonly(text, {}, timeout_s=30, max_rows=100)[1], default=str))


def test_nodes_relationships_and_paths_read_the_same_on_both_stores(store: Store) -> None:
    load_bundles(store, [DEMO])
    rows = run(store, "MATCH p = (a:Affiliate {id: 'AF-LIN'})-[h:HOLDS]->(c:Contract) RETURN a, h, p ORDER BY c.id")
    assert rows and not internal(rows)
    node, held, path = rows[0]
    assert node == {"label": "Affiliate", "id": "AF-LIN", "name": "Municipality of Lindenfluh", "country": "CH",
                    "kind": "municipality", "parent_id": "AF-TIPO", "origins": node["origins"]}
    assert held["type"] == "HOLDS" and set(held) >= {"type", "valid_from", "origin"}
    assert [n["label"] for n in path["nodes"]] == ["Affiliate", "Contract"]
    assert [r["type"] for r in path["relationships"]] == ["HOLDS"] and path["nodes"][0] == node
    supply = run(store, "MATCH (:Factory {id: 'FA-DVB'})-[r:SUPPLIES]->(:Factory {id: 'FA-SH2'}) RETURN r")
    finding = run(store, "MATCH (f:Finding {id: 'FI-203'}) RETURN f")
    with (DEMO / "supply.csv").open() as fh:
        link = next(r for r in csv.DictReader(fh) if (r["supplier_factory_id"], r["buyer_factory_id"]) == ("FA-DVB", "FA-SH2"))
    with (DEMO / "findings.csv").open() as fh:
        cited = next(r for r in csv.DictReader(fh) if r["finding_id"] == "FI-203")["source_id"]
    assert supply[0][0]["source_ids"] == link["source_id"].split("|")
    assert finding[0][0]["source_ids"] == cited.split("|")


def test_numbers_print_one_way_in_tables(tmp_path: Path) -> None:
    db = tmp_path / "db"
    assert cli("load", str(DEMO), db=db).returncode == 0
    table = cli("cypher", "MATCH (c:Contract {id: 'CT-NUPC-NB'}) RETURN c.value AS value, c", db=db).stdout
    assert "│ 48,000,000 " in table and "48000000.0 " not in table  # a number cell; inside a node it is JSON
    assert "_ID" not in table and '"label": "Contract"' in table
    assert table.rstrip().endswith("1 row")
    reverse = cli("exposed-affiliates", "factory", "FA-SH2", "--as-of", "2026-06-01", db=db).stdout
    assert "48,000,000 GBP" in reverse


def doc_blocks() -> list[tuple[str, str]]:
    """(language, text) of every Cypher block of docs/researchers.md."""
    text = (ROOT / "docs" / "researchers.md").read_text()
    return [(m.group(1), m.group(2)) for m in re.finditer(r"```(cypher(?:-ladybug|-neo4j)?)\n(.*?)```", text, re.S)]


def test_the_guides_cypher_runs_as_it_says(store: Store) -> None:
    load_bundles(store, [DEMO])
    blocks = doc_blocks()
    assert len(blocks) >= 7
    ran = 0
    for language, text in blocks:
        if language != "cypher" and language != f"cypher-{store.dialect}":
            continue
        rows = run(store, text)
        assert rows, text
        assert not internal(rows)
        ran += 1
    assert ran >= 5
    shortest = run(store, next(t for lang, t in blocks if lang == "cypher" and "HOLDS|CALL_OFF_OF" in t))
    hops, path = shortest[0]
    assert hops == len(path["relationships"]) == len(path["nodes"]) - 1
    assert path["nodes"][0]["label"] == "Affiliate" and path["nodes"][-1]["id"] == "FI-205"
    assert "Source" not in [n["label"] for n in path["nodes"]]  # along the supply chain, not a shared source
