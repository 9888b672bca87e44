"""`query agency_chains` follows sub-agents as far as exposure does (3 recruiting links), on both stores,
checked against a breadth-first walk over the demo's placements.csv and agency_links.csv."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from supplygraph.graph.stores.protocol import Store
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.registry import get_query
from supplygraph.queries.walk import MAX_AGENCY_HOPS

from tests.conftest import DEMO


def rows(name: str) -> list[dict[str, str]]:
    with (DEMO / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def active(row: dict[str, str], day: date) -> bool:
    start, end = row.get("valid_from") or "", row.get("valid_to") or ""
    return (not start or date.fromisoformat(start) <= day) and (not end or date.fromisoformat(end) >= day)


def expected(factory: str, day: date) -> set[tuple[str, str | None, int | None]]:
    placed = {r["agency_id"] for r in rows("placements.csv") if r["factory_id"] == factory and active(r, day)}
    links = [(r["agency_id"], r["subagent_id"]) for r in rows("agency_links.csv") if active(r, day)]
    out: set[tuple[str, str | None, int | None]] = set()
    for agency in placed:
        hops: dict[str, int] = {}
        frontier = [agency]
        for hop in range(1, MAX_AGENCY_HOPS + 1):
            frontier = [s for a, s in links if a in frontier and s not in hops]
            for s in frontier:
                hops.setdefault(s, hop)
        out |= {(agency, s, h) for s, h in hops.items()} or {(agency, None, None)}
    return out


@pytest.mark.parametrize("day", [date(2023, 6, 1), date(2026, 6, 1)])
def test_agency_chains_follow_sub_agents_three_links(store: Store, day: date) -> None:
    load_bundles(store, [DEMO])
    query = get_query("agency_chains")
    deep = 0
    for factory in sorted({r["factory_id"] for r in rows("placements.csv")}):
        answer = query.run(store, {"factory_id": factory, "as_of": day.isoformat()})
        got = {(r["agency"], r["subagent"], r["hops"]) for r in answer["rows"]}
        assert got == expected(factory, day), factory
        deep += sum(1 for _a, _s, h in got if h and h > 1)
    assert deep, "no chain longer than one link: the test would prove little"


def test_paths_follow_the_supply_chain_and_say_when_longer(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The issue's path AF-LIN -> FI-205 ran through FI-206 and a shared source; the real one is 7 links."""
    from tests.test_api_access import serve_demo

    for kind in ("ladybug", "neo4j"):
        served = serve_demo(kind, tmp_path_factory)
        api = next(served)
        try:
            answer = api.call("investigator", "GET", "/v1/paths?from=AF-LIN&to=FI-205").json()
            assert answer["max_hops"] == 8 and answer["count"] >= 1 and answer["longer"] is None
            for path in answer["items"]:
                types = {n["type"] for n in path["nodes"]}
                assert "source" not in types and [n["type"] for n in path["nodes"]].count("finding") == 1
                assert path["length"] == 7 and path["nodes"][-2]["id"] == "AG-MM2"
            short = api.call("investigator", "GET", "/v1/paths?from=AF-LIN&to=FI-205&max_hops=6").json()
            assert short["count"] == 0 and short["longer"] == "the shortest path has 7 links, more than max_hops (6)"
            assert api.call("investigator", "GET", "/v1/paths?from=AF-LIN&to=FI-205&max_hops=13").status_code == 422
        finally:
            served.close()
