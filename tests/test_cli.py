"""The CLI: exit codes, exact error texts and the --json shape (embedded store; Neo4j in test_neo4j_cli)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import DEMO

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, db: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="200")
    env.pop("NEO4J_URI", None)
    extra = ["--db", str(db)] if db is not None else []
    return subprocess.run(
        [sys.executable, "-m", "supplygraph.api.cli", *args, *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cli") / "db"
    result = cli("load", str(DEMO), db=db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("loaded: bundle — 150 rows → 115 nodes")
    return db


def test_exposure_json_has_exactly_the_documented_shape(demo_db: Path) -> None:
    result = cli("exposure", "AF-LIN", "--as-of", "2026-06-01", "--json", db=demo_db)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert list(answer) == ["affiliate", "as_of", "summary", "findings", "factories", "agencies", "gaps", "sources"]
    assert answer["affiliate"] == {"id": "AF-LIN", "name": "Municipality of Lindenfluh"}
    assert answer["as_of"] == "2026-06-01"
    assert all(list(f) == ["id", "name", "country", "tier", "path", "sources", "basis"] for f in answer["factories"])
    assert all(list(a) == ["id", "name", "country", "path", "sources", "basis"] for a in answer["agencies"])
    assert all(
        list(f)
        == ["id", "category", "severity", "status", "reported_on", "closed_on", "monitor", "summary", "subject",
            "path", "sources", "basis", "evidence"]
        for f in answer["findings"]
    )
    assert all(list(f["subject"]) == ["type", "id"] for f in answer["findings"])
    mm2 = next(a for a in answer["agencies"] if a["id"] == "AG-MM2")
    assert mm2["path"][0] == "AF-LIN" and mm2["path"][-3:] == ["AG-TH1", "AG-MM1", "AG-MM2"]


def test_exposure_basis_min_basis_and_brand_lists(demo_db: Path) -> None:
    """AF-KST's items only describe what was bought: one is matched to a product, one covered by a brand list."""
    answer = json.loads(cli("exposure", "AF-KST", "--as-of", "2026-06-01", "--json", db=demo_db).stdout)
    bases = {f["id"]: f["basis"] for f in answer["factories"]}
    assert bases["FA-SH2"] == "matched" and bases["FA-JED"] == "brand_list"
    jed = next(f for f in answer["factories"] if f["id"] == "FA-JED")
    assert list(jed) == ["id", "name", "country", "tier", "path", "sources", "basis", "listed"]
    assert jed["listed"] == {"brand": "CO-VEL", "item": "KST-01-2", "sources": ["SRC-16"]}
    assert answer["gaps"] == [
        {"id": "KST-01-2", "model": None, "brand": "CO-VEL", "item": "KST-01-2", "brand_list": "CO-VEL"}
    ]
    only = json.loads(cli("exposure", "AF-KST", "--as-of", "2026-06-01", "--json", "--min-basis", "matched", db=demo_db).stdout)
    assert {f["basis"] for f in only["factories"]} == {"matched"} and only["gaps"] == answer["gaps"]
    table = cli("exposure", "AF-KST", "--as-of", "2026-06-01", db=demo_db).stdout
    assert "inferred from CO-VEL's published supplier list (source SRC-16)" in table.replace("\n", " ")
    bad = cli("exposure", "AF-KST", "--min-basis", "rumour", db=demo_db)
    assert bad.returncode == 2 and "--min-basis:" in bad.stderr


def test_exposure_provenance_option(demo_db: Path) -> None:
    result = cli("exposure", "AF-UCB", "--as-of", "2026-06-01", "--provenance", "--json", db=demo_db)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert list(answer) == ["affiliate", "as_of", "summary", "findings", "factories", "agencies", "gaps", "sources", "provenance"]
    assert all(
        list(f) == ["id", "name", "country", "tier", "path", "sources", "basis", "origins"] for f in answer["factories"]
    )
    assert all(list(a) == ["id", "name", "country", "path", "sources", "basis", "origins"] for a in answer["agencies"])
    assert all(list(f)[-4:] == ["sources", "basis", "evidence", "origins"] for f in answer["findings"])
    assert all(o.startswith("bundle/") and ", loaded " in o for f in answer["factories"] for o in f["origins"])
    assert list(answer["provenance"]) == ["nodes", "links"]
    assert {n["label"] for n in answer["provenance"]["nodes"]} == {"Affiliate", "Contract", "Product", "Company"}
    assert all(list(link) == ["from", "to", "type", "origins"] for link in answer["provenance"]["links"])
    table = cli("exposure", "AF-UCB", "--as-of", "2026-06-01", "--provenance", db=demo_db)
    assert table.returncode == 0 and "Links on the paths" in table.stdout and "ASSEMBLED_AT" in table.stdout
    assert "bundle/assembly.csv" in table.stdout and "origins" in table.stdout


def test_exposure_table_names_paths(demo_db: Path) -> None:
    result = cli("exposure", "AF-UCB", "--as-of", "2026-06-01", db=demo_db)
    assert result.returncode == 0
    assert "AF-UCB → CT-UCB-01" in result.stdout
    assert "Disclosure gaps" in result.stdout and "PR-QVIEW27" in result.stdout


def test_unknown_affiliate_is_exit_3(demo_db: Path) -> None:
    result = cli("exposure", "AF-NOBODY", db=demo_db)
    assert result.returncode == 3
    assert result.stderr.strip() == "error: no affiliate with id 'AF-NOBODY'"


def test_bad_date_is_exit_2(demo_db: Path) -> None:
    result = cli("exposure", "AF-LIN", "--as-of", "2026-13-01", db=demo_db)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --as-of: '2026-13-01' is not a date; expected YYYY-MM-DD"


def test_bad_depth_is_exit_2(demo_db: Path) -> None:
    result = cli("exposure", "AF-LIN", "--depth", "0", db=demo_db)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --depth: must be between 1 and 8, got 0"


def test_errors_name_the_option_as_typed_and_a_named_query_its_parameter(demo_db: Path) -> None:
    """`--min-basis` on the command line is `min_basis` in the HTTP API and `supplygraph query`: each error
    names what its user typed."""
    bases = "must be one of disclosed, matched, brand_list, got 'guess'"
    for args in (["exposure", "AF-LIN"], ["exposed-affiliates", "factory", "FA-TWP1"]):
        result = cli(*args, "--min-basis", "guess", db=demo_db)
        assert (result.returncode, result.stderr.strip()) == (2, f"error: --min-basis: {bases}")
        deep = cli(*args, "--depth", "9", db=demo_db)
        assert (deep.returncode, deep.stderr.strip()) == (2, "error: --depth: must be between 1 and 8, got 9")
    ran = cli("query", "exposure", "affiliate_id=AF-LIN", "depth=9", db=demo_db)
    assert (ran.returncode, ran.stderr.strip()) == (2, "error: depth: must be between 1 and 8, got 9")


def test_empty_store_says_how_to_load(tmp_path: Path) -> None:
    result = cli("exposure", "AF-LIN", db=tmp_path / "empty")
    assert result.returncode == 69
    assert "load a bundle first (supplygraph load BUNDLE)" in result.stderr


def test_bad_bundle_is_exit_65_with_locations(tmp_path: Path, demo_db: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "factories.csv").write_text("factory_id,name,country\nF1,One,Atlantis\nF1,Two,CN\n")
    result = cli("load", str(bad), db=demo_db)
    assert result.returncode == 65
    assert result.stderr.splitlines() == [
        "error: 2 problems found; nothing was written",
        "factories.csv:2: column 'country': 'Atlantis' is not a country; expected an ISO 3166-1 alpha-2 code "
        "(CN, TH, CZ) or a country name",
        "factories.csv:3: column 'factory_id': duplicate id 'F1' (first on line 2)",
    ]


def test_exposed_affiliates_json_and_leverage(demo_db: Path) -> None:
    result = cli("exposed-affiliates", "finding", "FI-301", "--as-of", "2026-06-01", "--json", db=demo_db)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert [(a["id"], a["basis"]) for a in answer["affiliates"]] == [
        ("AF-DBH", "disclosed"), ("AF-KST", "brand_list"), ("AF-MSK", "disclosed")
    ]  # AF-KST through Velmora's published list
    assert answer["leverage"]["affiliates"] == 3
    assert answer["leverage"]["by_basis"] == {"disclosed": 2, "matched": 0, "brand_list": 1}
    assert set(answer["leverage"]["contract_value"]) == {"EUR", "GBP"}
    narrow = json.loads(
        cli("exposed-affiliates", "finding", "FI-301", "--as-of", "2026-06-01", "--json", "--min-basis", "disclosed",
            db=demo_db).stdout
    )
    assert [a["id"] for a in narrow["affiliates"]] == ["AF-DBH", "AF-MSK"]


def test_named_queries_list_and_run(demo_db: Path) -> None:
    listed = cli("queries", "--json")
    assert listed.returncode == 0
    names = [q["name"] for q in json.loads(listed.stdout)["queries"]]
    assert {"exposure", "exposed_affiliates", "agency_chains"} <= set(names)
    ran = cli("query", "agency_chains", "factory_id=FA-TWP1", "as_of=2026-06-01", "--json", db=demo_db)
    assert ran.returncode == 0, ran.stderr
    rows = json.loads(ran.stdout)["rows"]
    assert {"agency": "AG-TH1", "subagent": "AG-MM1"}.items() <= rows[0].items()
    bad = cli("query", "agency_chains", "factory=FA-TWP1", db=demo_db)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: factory: is not a parameter of agency_chains"
    unknown = cli("query", "no_such_query", db=demo_db)
    assert unknown.returncode == 3
    assert unknown.stderr.strip() == "error: no named query 'no_such_query'; `supplygraph queries` lists them"


def test_cypher_reads_and_refuses_writes(demo_db: Path) -> None:
    ok = cli("cypher", "MATCH (f:Factory) WHERE f.country = $c RETURN f.id AS id ORDER BY id", "-p", "c=TH",
             "--json", db=demo_db)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["rows"] == [["FA-TWP1"], ["FA-TWP2"]]
    capped = cli("cypher", "MATCH (f:Factory) RETURN f.id", "--max-rows", "2", "--json", db=demo_db)
    assert json.loads(capped.stdout)["truncated"] is True
    write = cli("cypher", "CREATE (f:Factory {id: 'X', name: 'x', country: 'CN'})", db=demo_db)
    assert write.returncode == 4
    assert write.stderr.strip() == "error: CREATE is not allowed: researcher queries are read-only and may not call procedures"
    copy = cli("cypher", "MATCH (f:Factory) RETURN f.id // \n COPY (MATCH (f) RETURN f) TO '/tmp/x.csv'", db=demo_db)
    assert copy.returncode == 4
    assert copy.stderr.strip() == "error: COPY is not allowed: researcher queries are read-only and may not call procedures"


def test_cypher_runaway_query_is_killed(demo_db: Path) -> None:
    runaway = "UNWIND range(1, 40000) AS x UNWIND range(1, 40000) AS y WITH x, y WHERE (x * y) % 7 = 3 RETURN count(*)"
    started = time.monotonic()
    result = cli("cypher", runaway, "--timeout", "2", db=demo_db)
    assert result.returncode == 5, result.stderr
    # stopped by the database's own timeout, or else the worker is killed just after it
    assert result.stderr.strip() in ("error: query stopped after 2 s", "error: query stopped after 2 s (worker killed)")
    assert time.monotonic() - started < 30


def test_every_command_has_help() -> None:
    for command in ("load", "exposure", "exposed-affiliates", "queries", "query", "cypher", "info", "demo"):
        result = cli(command, "--help")
        assert result.returncode == 0
        assert "Usage:" in result.stdout


def test_demo_hints_can_be_run_as_printed(tmp_path: Path) -> None:
    """After `make demo` the virtualenv is not activated: the hints name the script by the path that ran it."""
    script = Path(sys.executable).parent / "supplygraph"
    env = {k: v for k, v in os.environ.items() if k != "NEO4J_URI"}
    env["PATH"] = "/usr/bin:/bin"  # the shell cannot find `supplygraph` by name
    demo = subprocess.run(
        [str(script), "demo", "--db", str(tmp_path / "db")], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert demo.returncode == 0, demo.stderr
    hint = next(line.split("#")[0].split() for line in demo.stdout.splitlines() if "exposure AF-LIN" in line)
    assert hint[0] == os.path.relpath(script, tmp_path)
    again = subprocess.run(hint, cwd=tmp_path, env=env, capture_output=True, text=True)  # as a person would
    assert again.returncode == 0 and "AF-LIN" in again.stdout, again.stderr


def test_named_queries_refuse_unknown_ids_and_say_when_nothing_matched(demo_db: Path) -> None:
    for args, text in (
        (("agency_chains", "factory_id=FA-NOPE"), "error: no factory with id 'FA-NOPE'"),
        (("contracts_of_affiliate", "affiliate_id=AF-NOPE"), "error: no affiliate with id 'AF-NOPE'"),
    ):
        result = cli("query", *args, db=demo_db)
        assert result.returncode == 3 and result.stderr.strip() == text, (result.returncode, result.stderr)
    empty = cli("query", "agency_chains", "factory_id=FA-TWP1", "as_of=1990-01-01", db=demo_db)
    assert empty.returncode == 0 and empty.stdout.strip().endswith("no rows"), empty.stdout


def test_viz_into_a_missing_folder_is_a_clear_error(demo_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "nonexistdir" / "x.html"
    result = cli("viz", "affiliate", "AF-LIN", "-o", str(target), db=demo_db)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"error: --output: folder {target.parent} does not exist"
    written = cli("viz", "affiliate", "AF-LIN", "-o", str(tmp_path / "x.html"), db=demo_db)
    assert written.returncode == 0 and (tmp_path / "x.html").stat().st_size > 0, written.stderr
