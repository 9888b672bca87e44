"""The item matcher and CPV categories, case by case from the spec's own examples."""

from __future__ import annotations

import pytest
from supplygraph.loaders.item_match import Catalogue, Company, Product, cpv_category, occurs, words


def test_words_are_runs_transliterated_and_lower_cased() -> None:
    assert words("Lumo-13™") == ("lumo", "13")
    assert words("Ноутбук HP ProBook 450G8") == ("noutbuk", "hp", "probook", "450g8")


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("ProBook 450 G8", "HP ProBook 450G8", True),
        ("HP", "HP ProBook 450G8", True),
        ("HPE", "HP EliteBook", False),
        ("Lumo 13", "Lumo 130", False),
        ("ex2200-48p", "Juniper ex2200-48p-4g", True),
    ],
)
def test_occurs_is_whole_consecutive_words_joined(name, text, expected) -> None:
    assert occurs(words(name), words(text)) is expected


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("30213100", "notebook"),
        ("30213100-6", "notebook"),
        ("30213110", "notebook"),
        ("48821000", "server"),
        ("30213400", "desktop"),
        ("30231310", "monitor"),
        ("30232110", "mfd"),
        ("30120000", "mfd"),
        ("32250000", "phone"),
        ("30200000", None),
        ("", None),
        ("3021", None),
        ("x|30214000", "workstation"),
        ("30000000|30213200", "tablet"),
    ],
)
def test_cpv_nearest_listed_ancestor(code, category) -> None:
    assert cpv_category(code) == category


def catalogue() -> Catalogue:
    companies = [
        Company("CO-A", [words("Acme"), words("Acme Inc.")], True),
        Company("CO-H", [words("HP"), words("Hewlett-Packard")], True),
        Company("CO-E", [words("HPE")], True),
        Company("CO-Z", [words("Zed")], False),
        Company("CO-Y", [words("Zed")], True),
    ]
    products = [
        Product("P1", "CO-A", words("Lumo 13")),
        Product("P2", "CO-A", words("Lumo 13 Pro")),
        Product("P3", "CO-H", words("ProBook 450 G8")),
        Product("P4", "CO-H", words("Elite 1")),
        Product("P5", "CO-H", words("Elite-1")),
        Product("P6", "CO-A", words("Nova X2 Max")),
    ]
    return Catalogue(companies, products)


def test_most_model_words_wins_alone() -> None:
    found = catalogue().match("Acme Lumo 13 Pro notebook")
    assert (found.product, found.score) == ("P2", 1.0)
    assert catalogue().match("acme lumo 13").product == "P1"


def test_brand_must_occur_too() -> None:
    assert catalogue().match("Lumo 13 Pro notebook").candidates == []
    assert catalogue().match("Hewlett-Packard ProBook 450G8").product == "P3"


def test_ties_go_to_review_with_all_candidates() -> None:
    found = catalogue().match("HP Elite 1 desktop")
    assert found.product is None and found.candidates == ["P4", "P5"] and found.score == 1.0


def test_rejected_products_are_no_candidates() -> None:
    assert catalogue().match("HP Elite 1", rejected=["P4"]).product == "P5"


def test_near_miss_scores_below_auto_and_only_without_exact() -> None:
    found = catalogue().match("Acme Nova X2 notebook")
    assert found.product is None and found.candidates == ["P6"] and 0.5 <= found.score < 0.8


def test_brand_by_name_and_in_description() -> None:
    cat = catalogue()
    assert cat.brand_by_name("acme inc") == "CO-A"
    assert cat.brand_by_name("ZED") == "CO-Y"  # a tie prefers role brand
    assert cat.brand_in("Hewlett-Packard HP EliteBook") == "CO-H"  # longest folded name
    assert cat.brand_in("a HP and HPE thing") == "CO-E"  # the longer name wins
    assert cat.brand_in("HPE and Zed") == ""  # equally long names of two brands: no brand (not even the supplier)
