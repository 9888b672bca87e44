"""Item matching quality: precision of automatic links and recall, on labelled item descriptions (a script).

    .venv/bin/python -m benchmarks.item_matching_quality --labelled ITEMS.csv --catalogue CATALOGUE.csv
    .venv/bin/python -m benchmarks.item_matching_quality --synthetic 2000

A labelled file has `description`, `brand` and `model` (the truth; both empty when the item names no
catalogued product) and may have `cpv`. A catalogue has `brand`, `aliases` (`|`-separated) and `model`:
brand and model names only, nothing attached to them. Each description goes through the matcher of
loaders/item_match.py exactly as a load would: an automatic link (score 1, one candidate) is right when
its brand and model are the label's; recall is the share of labelled products linked automatically and
right; review counts the items sent to the queue. `--synthetic N` makes N descriptions from a made-up
catalogue (invented names) with known truth: exact, reworded, ambiguous, misspelt and unbranded.
"""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass
from pathlib import Path

from supplygraph.loaders.item_match import Catalogue, Company, Product, words


@dataclass
class Labelled:
    description: str
    brand: str
    model: str


def read_catalogue(path: Path) -> tuple[Catalogue, dict[str, tuple[str, str]]]:
    brands: dict[str, set[str]] = {}
    products: list[tuple[str, str]] = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            brand = row["brand"].strip()
            brands.setdefault(brand, set()).update(a.strip() for a in (row.get("aliases") or "").split("|") if a.strip())
            products.append((brand, row["model"].strip()))
    return build(brands, products)


def build(brands: dict[str, set[str]], products: list[tuple[str, str]]) -> tuple[Catalogue, dict[str, tuple[str, str]]]:
    ids = {b: f"B{i}" for i, b in enumerate(sorted(brands))}
    companies = [Company(ids[b], [words(n) for n in [b, *sorted(aliases)]], True) for b, aliases in brands.items()]
    truth = {f"P{i}": (b, m) for i, (b, m) in enumerate(products)}
    catalogue = Catalogue(companies, [Product(pid, ids[b], words(m)) for pid, (b, m) in truth.items()])
    return catalogue, truth


def read_labelled(path: Path) -> list[Labelled]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return [Labelled(r["description"], (r.get("brand") or "").strip(), (r.get("model") or "").strip())
                for r in csv.DictReader(fh)]


def synthetic(n: int, seed: int = 3) -> tuple[Catalogue, dict[str, tuple[str, str]], list[Labelled]]:
    rng = random.Random(seed)
    names = ["Korvane", "Tessaline", "Velmora", "Quillmere", "Arvenna", "Brisklet"]
    brands = {b: {b.upper(), f"{b} Systems"} for b in names}
    families = ["Aeris", "Stratum", "Opalis", "Arbor", "View", "Lumo"]
    products = sorted({(rng.choice(names), f"{rng.choice(families)} {rng.randint(1, 60)}{rng.choice(['', ' Pro', ' G2'])}")
                       for _ in range(300)})
    catalogue, truth = build(brands, products)
    items = []
    for _ in range(n):
        brand, model = rng.choice(products)
        shape = rng.random()
        if shape < 0.5:
            text, label = f"{rng.choice([brand, brand.upper()])} {model} notebook, 14-inch", (brand, model)
        elif shape < 0.65:
            text, label = f"Notebook {brand} {model.replace(' ', '')} 16GB RAM", (brand, model)
        elif shape < 0.8:
            text, label = f"{model} laptop", (brand, model)  # no brand: never linked
        elif shape < 0.9:
            text, label = f"{brand[:-1]} {model} notebook", (brand, model)  # misspelt brand
        else:
            text, label = "notebook computer, 14-inch, 16 GB", ("", "")
        items.append(Labelled(text, *label))
    return catalogue, truth, items


def measure(catalogue: Catalogue, truth: dict[str, tuple[str, str]], items: list[Labelled]) -> dict[str, float]:
    auto = right = review = labelled = 0
    for item in items:
        found = catalogue.match(item.description)
        want = (item.brand, item.model) if item.model else None
        labelled += want is not None
        if found.product is not None:
            auto += 1
            got = truth[found.product]
            right += want is not None and words(got[0]) == words(want[0]) and words(got[1]) == words(want[1])
        elif found.candidates:
            review += 1
    return {
        "items": len(items),
        "labelled_products": labelled,
        "automatic": auto,
        "precision": right / auto if auto else 1.0,
        "recall": right / labelled if labelled else 0.0,
        "review": review,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labelled", type=Path)
    parser.add_argument("--catalogue", type=Path)
    parser.add_argument("--synthetic", type=int, default=0, help="made-up descriptions with known truth")
    args = parser.parse_args()
    if args.synthetic:
        catalogue, truth, items = synthetic(args.synthetic)
        what = f"{args.synthetic} synthetic descriptions (invented names)"
    elif args.labelled and args.catalogue:
        catalogue, truth = read_catalogue(args.catalogue)
        items = read_labelled(args.labelled)
        what = f"{args.labelled} against {args.catalogue}"
    else:
        parser.error("give --labelled and --catalogue, or --synthetic N")
    m = measure(catalogue, truth, items)
    print(
        f"{what}: {m['items']} items, {m['labelled_products']} name a catalogued product; automatic links "
        f"{m['automatic']}, precision {m['precision']:.3f}, recall {m['recall']:.3f}; sent to review {m['review']}"
    )


if __name__ == "__main__":
    main()
