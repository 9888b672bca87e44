"""--help says every default: none is lost as markup (rich drops text in square brackets it takes for a tag)."""

from __future__ import annotations

from tests.test_cli import cli


def help_text(*command: str) -> str:
    return " ".join(cli(*command, "--help").stdout.replace("│", " ").split())


def test_defaults_are_shown() -> None:
    exposure = help_text("exposure")
    assert "YYYY-MM-DD (default: today)" in exposure
    assert "(env SUPPLYGRAPH_DB; default ./supplygraph-data)" in exposure and "(env NEO4J_URI)" in exposure
    assert "(default: from the -o file's suffix, else table; json with --json)" in exposure
    cypher = help_text("cypher")
    assert "SUPPLYGRAPH_QUERY_TIMEOUT_S, 10 s unless set)" in cypher and "SUPPLYGRAPH_MAX_ROWS" in cypher
    assert "(default: its folder or file name)" in help_text("load")


def test_openapi_summaries_read_right(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.test_api_access import make_api, open_test_store

    store = open_test_store("ladybug", tmp_path)
    try:
        with make_api(store, tmp_path) as api:
            paths = api.client.get("/openapi.json").json()["paths"]
    finally:
        store.close()
    summaries = {op["summary"] for item in paths.values() for op in item.values()}
    assert "Affiliates exposed to an agency" in summaries and "Affiliates exposed to a factory" in summaries
    assert not [s for s in summaries if " a agency" in s or " a affiliate" in s]


def test_small_outputs_read_right(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from supplygraph.api.render import plural

    from tests.conftest import DEMO

    db = tmp_path / "db"
    assert cli("load", str(DEMO), db=db).returncode == 0
    info = cli("info", db=db).stdout
    assert f"data: {db}" in info.splitlines()[0]
    assert cli("matches", "list", db=db).stdout.strip() == "nothing waits for review"
    assert cli("matches", "list", "--decided", db=db).stdout.strip() == "no decisions taken"
    assert (plural(1, "affiliate"), plural(2, "affiliate"), plural(1200, "row")) == (
        "1 affiliate", "2 affiliates", "1,200 rows")
    lines = cli("exposed-affiliates", "factory", "FA-JED", "--as-of", "2026-06-01", db=db).stdout.splitlines()
    assert lines[-1].startswith("Leverage: 3 affiliates (")


def test_queries_list_is_indented_and_demo_takes_neo4j() -> None:
    lines = [line for line in cli("queries").stdout.splitlines() if line.strip()]
    assert lines[0].startswith("exposure affiliate_id=<string>")
    from supplygraph.queries.registry import QUERIES

    heads = [line for line in lines if not line.startswith("    ")]
    assert [line.split()[0] for line in heads] == list(QUERIES)  # every other line is indented description
    assert len(lines) > 2 * len(heads)
    assert "--neo4j" in help_text("demo")


def test_matches_commands_explain_their_arguments() -> None:
    for command in ("show", "accept", "reject"):
        assert "as `supplygraph matches list` shows it" in help_text("matches", command)
    listing = help_text("matches", "list")
    assert "Decisions taken instead of the queue" in listing and "JSON instead of a table" in listing


def test_flags_show_no_value() -> None:
    """A flag takes no value (`--json true` is an error), so its help shows none."""
    for command in (("exposure",), ("load",), ("matches", "list"), ("cypher",)):
        shown = [line for line in cli(*command, "--help").stdout.splitlines() if "<bool>" in line]
        assert all("Show this message" in line for line in shown), (command, shown)  # typer's own --help
