"""Folded exposure views (api/ui/folding.py, api/ui/folded_view.py) on both stores, checked against the
exposure answer and the independent oracle (tests/oracle.py): every open finding is drawn, every factory
of the answer is drawn or in exactly one folded group of its own tier and country, the group counts sum
to the folded factories, expanding a group draws its factories, and the filters keep what the answer
filtered by queries/ keeps. The layout's shape is checked on its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from supplygraph.api.ui.aspect_layout import aspect_layout
from supplygraph.api.ui.folded_view import folded_drawing
from supplygraph.api.ui.folding import fold_plan
from supplygraph.api.ui.view_filters import ViewFilters, apply_filters, parse_filters
from supplygraph.graph.errors import InvalidParameter
from supplygraph.graph.stores.protocol import Store
from supplygraph.loaders.pipeline import load_bundles
from supplygraph.queries.exposure import exposure_for_affiliate
from supplygraph.queries.exposure_pages import filtered

from tests import oracle

DAY = date(2026, 6, 1)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from benchmarks.synthetic import generate

    folder = tmp_path_factory.mktemp("fold-bundle") / "bundle"
    generate(folder, factories=600, links=4, seed=5)
    yield folder


def factories_of(drawing_nodes: list[dict[str, Any]]) -> set[str]:
    return {n["id"].split(":", 1)[1] for n in drawing_nodes if n.get("sg_type") == "factory"}


def test_folding_keeps_every_finding_and_counts_every_factory(store: Store, bundle: Path) -> None:
    load_bundles(store, [bundle])
    rows = oracle.read_bundle(bundle)
    country = {r["factory_id"]: r["country"] for r in rows["factories"]}
    checked = 0
    for affiliate in ("A0", "A1", "A2"):
        expected = oracle.exposure_oracle(rows, affiliate, DAY)
        answer = exposure_for_affiliate(store, affiliate, DAY, 4).as_json()
        if not answer["factories"]:
            continue
        plan = fold_plan(answer, fold=True)
        assert all(set(item["path"]) <= plan.drawn for item in (*answer["findings"], *answer["agencies"]))
        drawn = set(expected["factories"]) & plan.drawn
        members = [f for g in plan.groups.values() for f in g.factories]
        assert len(members) == len(set(members)) == plan.folded  # each folded factory in one group
        assert set(members) | drawn == set(expected["factories"]) and not set(members) & drawn
        for group in plan.groups.values():
            assert all(expected["factories"][f] == group.tier and country[f] == group.country for f in group.factories)
            assert group.label.startswith(f"{len(group.factories):,} factor") and f"tier {group.tier}" in group.label

        drawing = folded_drawing(store, affiliate, DAY, 4, ViewFilters(fold="on"))
        nodes = {n["id"]: n for n in drawing.nodes}
        shown = {k.split(":", 1)[1] for k, n in nodes.items() if n["sg_type"] == "finding" and not n["sg_muted"]}
        assert shown == expected["findings"]
        folds = [n for n in drawing.nodes if n["sg_type"] == "fold"]
        assert sum(n["sg_count"] for n in folds) == plan.folded == len(expected["factories"]) - len(
            factories_of(drawing.nodes))
        assert all(e["from"] in nodes and e["to"] in nodes for e in drawing.edges)
        for n in drawing.nodes:
            label, node_id = n["id"].split(":", 1)
            assert n["sg_href"] == (f"/ui/entity/{label.lower()}/{node_id}" if n["sg_type"] != "fold"
                                    else f"/ui/exposure/affiliate/{affiliate}?fold=on&expand={node_id.replace(':', '%3A')}")

        if plan.groups:  # the largest group expanded: its factories drawn, the others still fold the rest
            name, group = max(plan.groups.items(), key=lambda kv: len(kv[1].factories))
            opened = folded_drawing(store, affiliate, DAY, 4, ViewFilters(fold="on", expand=(name,)))
            assert set(group.factories) <= factories_of(opened.nodes)
            assert f"Fold:{name}" not in {n["id"] for n in opened.nodes}
            rest = sum(n["sg_count"] for n in opened.nodes if n["sg_type"] == "fold")
            assert rest + len(factories_of(opened.nodes)) == len(expected["factories"])
            checked += 1
    assert checked


def test_filters_draw_what_the_filtered_answer_holds(store: Store, bundle: Path) -> None:
    load_bundles(store, [bundle])
    answer = exposure_for_affiliate(store, "A0", DAY, 4).as_json()
    for f in (ViewFilters(min_severity="high"), ViewFilters(category="debt_bondage"), ViewFilters(min_basis="disclosed")):
        expected = filtered(answer, min_severity=f.min_severity, category=f.category, min_basis=f.min_basis)
        drawing = folded_drawing(store, "A0", DAY, 4, f)
        shown = {n["id"][8:] for n in drawing.nodes if n["sg_type"] == "finding"}
        assert shown == {x["id"] for x in expected["findings"]}
        assert [a["id"] for a in drawing.answers if a["kind"] == "finding"] == [x["id"] for x in expected["findings"]]
    tier_two = apply_filters(answer, ViewFilters(tier=2))
    assert tier_two["factories"] and all(x["tier"] == 2 for x in tier_two["factories"])
    tiers = {x["id"]: x["tier"] for x in answer["factories"]}
    assert all(tiers[x["subject"]["id"]] == 2 for x in tier_two["findings"] if x["subject"]["type"] == "factory")
    country = answer["factories"][0]["country"]
    here = apply_filters(answer, ViewFilters(country=country))
    assert {x["id"] for x in here["factories"]} == {x["id"] for x in answer["factories"] if x["country"] == country}
    only = folded_drawing(store, "A0", DAY, 4, ViewFilters(findings_only=True, fold="on"))
    on_paths = {i for x in answer["findings"] for i in x["path"]}
    assert factories_of(only.nodes) <= on_paths and not [n for n in only.nodes if n["sg_type"] == "fold"]


def test_filters_from_the_query_and_back() -> None:
    f = parse_filters({"as_of": "2026-06-01", "depth": "3", "min_severity": "high", "tier": "2", "country": "cn",
                       "findings_only": "1"}, ["3:CN", "3:CN", "4:TH"], 8)
    assert f.country == "CN" and f.tier == 2 and f.expand == ("3:CN", "4:TH")
    again = parse_filters(dict(p.split("=") for p in f.query()[1:].split("&") if not p.startswith("expand")),
                          ["3:CN", "4:TH"], 8)
    assert again == f
    assert "depth=3" in f.expanded("2:VN") and "expand=2%3AVN" in f.expanded("2:VN")
    for bad in ({"min_severity": "huge"}, {"category": "nope"}, {"country": "Atlantis"}, {"tier": "x"},
                {"depth": "99"}, {"min_basis": "rumour"}, {"fold": "maybe"}):
        with pytest.raises(InvalidParameter):
            parse_filters(bad, [], 8)
    with pytest.raises(InvalidParameter):
        parse_filters({}, ["CN"], 8)


def test_the_layout_is_about_as_wide_as_the_screen() -> None:
    nodes = [{"id": "A", "label": "affiliate", "level": 0}]
    edges = []
    for level, count in enumerate((15, 40, 50, 400, 1500, 300, 200), start=1):
        for i in range(count):
            nodes.append({"id": f"{level}-{i}", "label": f"Factory {level}-{i}", "level": level})
            edges.append({"from": "A" if level == 1 else f"{level - 1}-{i % 15}", "to": f"{level}-{i}"})
    aspect_layout(nodes, edges)
    xs, ys = [n["x"] for n in nodes], [n["y"] for n in nodes]
    assert 1.0 <= (max(xs) - min(xs)) / (max(ys) - min(ys)) <= 2.5
    assert len({(n["x"], n["y"]) for n in nodes}) == len(nodes)
    by_level: dict[int, list[int]] = {}
    for n in nodes:
        by_level.setdefault(n["level"], []).append(n["x"])
    levels = sorted(by_level)
    assert all(max(by_level[a]) < min(by_level[b]) for a, b in zip(levels, levels[1:], strict=False))
