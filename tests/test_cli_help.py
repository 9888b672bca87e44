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
