"""What an affiliate key's request computes, on both stores: searches look only at its own node, and
reverse questions walk only its own exposure (no other affiliate's walk, no candidate search), so the
time of an answer says nothing about other affiliates' data. The graph is real; the store's `run` and
the exposure walk are only watched (recorded, then called as they are)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from supplygraph.queries import reverse

from tests.test_ui_views import AS_OF, Ui, serve_ui


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def ui(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    yield from serve_ui(request.param, tmp_path_factory)


@pytest.fixture
def queries_run(ui: Ui, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Cypher text the app's store runs from now on."""
    seen: list[str] = []
    with ui.app.state.supplygraph.access.use() as store:
        kind = type(store)
    original = kind.run

    def watched(self: Any, cypher: str, params: Any = None) -> Any:
        seen.append(cypher)
        return original(self, cypher, params)

    monkeypatch.setattr(kind, "run", watched)
    return seen


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The affiliates whose exposure queries.reverse walks from now on (and whether it looked for candidates)."""
    seen: list[str] = []
    walk, candidates = reverse.walk_exposure, reverse.candidate_affiliates

    def watched_walk(steps: Any, affiliate_id: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(affiliate_id)
        return walk(steps, affiliate_id, *args, **kwargs)

    def watched_candidates(*args: Any, **kwargs: Any) -> Any:
        seen.append("<candidates>")
        return candidates(*args, **kwargs)

    monkeypatch.setattr(reverse, "walk_exposure", watched_walk)
    monkeypatch.setattr(reverse, "candidate_affiliates", watched_candidates)
    return seen


def graph_wide(queries: list[str]) -> list[str]:
    """The queries that read nodes beyond the ids they are given: a text search or a whole label."""
    return [c for c in queries if "CONTAINS" in c or ("RETURN n AS node" in c and not ("IN $ids" in c or "{id: $" in c))]


def test_an_affiliate_search_reads_only_what_its_own_answer_names(ui: Ui, queries_run: list[str]) -> None:
    from tests.test_api_access import answer_names

    client = ui.client("AF-LIN")
    api = ui.client()
    api.headers["Authorization"] = f"Bearer {ui.keys['AF-LIN']}"
    answer = api.get("/v1/affiliates/AF-LIN/exposure").json()
    held = api.post("/v1/queries/contracts_of_affiliate", json={"affiliate_id": "AF-LIN"}).json()["rows"]
    mine = {i for _kind, i in answer_names(answer)} | {r["contract"] for r in held}
    for needle in ("university", "lindenfluh", "FA-", "a", "teakwood"):
        queries_run.clear()
        page = client.get("/ui/search", params={"q": needle})
        assert page.status_code == 200
        assert not graph_wide(queries_run), queries_run  # no search over the graph
        found = api.get("/v1/entities", params={"q": needle})
        assert found.status_code == 200 and {i["id"] for i in found.json()["items"]} <= mine
        assert not graph_wide(queries_run), queries_run
    assert "AF-LIN" in client.get("/ui/search", params={"q": "lindenfluh"}).text  # its own node is found
    assert "FA-TWP1" in client.get("/ui/search", params={"q": "teakwood"}).text  # and a factory on its paths
    queries_run.clear()
    ui.client("investigator").get("/ui/search", params={"q": "university"})
    assert graph_wide(queries_run)  # what the watch would see if it happened


def test_reverse_questions_walk_only_the_keys_own_exposure(ui: Ui, walks: list[str]) -> None:
    client = ui.client("AF-LIN")
    api = ui.client()
    api.headers["Authorization"] = f"Bearer {ui.keys['AF-LIN']}"
    for url in ("/ui/exposure/factory/FA-TWP1", "/ui/exposure/agency/AG-MM2"):
        assert client.get(url, params={"as_of": AS_OF}).status_code == 200
    for url in ("/v1/factories/FA-TWP1/exposed-affiliates", "/v1/findings/FI-205/exposed-affiliates"):
        assert api.get(url, params={"as_of": AS_OF}).status_code == 200
    # not in its answer: 404 before anything about the item is computed
    assert client.get("/ui/exposure/factory/FA-SH2", params={"as_of": AS_OF}).status_code == 404
    assert api.get("/v1/factories/FA-SH2/exposed-affiliates", params={"as_of": AS_OF}).status_code == 404
    assert walks and set(walks) == {"AF-LIN"}, walks
    walks.clear()
    ui.client("investigator").get("/ui/exposure/factory/FA-TWP1", params={"as_of": "2026-06-02"})
    assert "<candidates>" in walks and len(set(walks)) > 2  # what the watch would see if it happened


def test_an_affiliate_network_too_large_at_the_default_depth_is_drawn_at_a_smaller_one(
    ui: Ui, monkeypatch: pytest.MonkeyPatch
) -> None:
    from supplygraph.api.ui import exposure_view as views

    client = ui.client("AF-LIN")
    sizes = {d: len(client.get("/ui/exposure/affiliate/AF-LIN/export.json", params={"depth": d}).json()["nodes"])
             for d in (1, 4)}
    assert sizes[1] < sizes[4]
    monkeypatch.setattr(views, "MAX_EXPOSURE_NODES", sizes[1])  # depth 4 (the default) is now too large
    ui.app.state.ui_drawings._items.clear()  # drawn again, not from the cache
    assert client.get("/ui/exposure/affiliate/AF-LIN", params={"depth": 4}).status_code == 422
    page = client.get("/ui/entity/affiliate/AF-LIN/export.json", params={"depth": 3})
    assert page.status_code == 200 and "Contract:CT-LIN-01" in {n["id"] for n in page.json()["nodes"]}
