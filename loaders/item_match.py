"""Version 1.1 of the bundle: contract items that only describe what was bought, matched to products.

Exactly the spec's words (../shared/spec/bundle-format.md, "Item matching"): texts compared as runs
of letters and digits, each transliterated to ASCII and lower-cased; a name *occurs* in a description
when its words joined equal consecutive whole words of the description joined; a product is a
candidate when its brand (name or alias) and its model both occur; the candidate with the most model
words wins alone, else all go to review. Also an item's category from its CPV code and its brand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from normality import ascii_text

RUN = re.compile(r"[^\W_]+")  # a run of letters and digits (anything else separates)
NOT_ALNUM = re.compile(r"[^a-z0-9]+")
AUTO = 1.0
NEAR_MISS = 0.6
TIE = ""  # brand_in's answer when two brands' names are equally long: the item has no brand at all  # a model with one word missing: always below 0.8, so it waits for review

# The spec's CPV table: listed code -> category; an unlisted code maps like its nearest listed ancestor.
CPV_CATEGORIES = {
    "30213100": "notebook",
    "30213200": "tablet",
    "30213000": "desktop",
    "30213300": "desktop",
    "30214000": "workstation",
    "48820000": "server",
    "30231300": "monitor",
    "30231310": "monitor",
    "30120000": "mfd",
    "30121000": "mfd",
    "30121100": "mfd",
    "30232110": "mfd",
    "32250000": "phone",
}
CPV_PREFIXES = sorted(((code.rstrip("0"), cat) for code, cat in CPV_CATEGORIES.items()), key=lambda p: -len(p[0]))
CPV_CODE = re.compile(r"^\s*(\d{8})")


@lru_cache(maxsize=65536)
def words(text: str | None) -> tuple[str, ...]:
    """The text's runs of letters and digits, each transliterated to ASCII and lower-cased."""
    if not text:
        return ()
    out = []
    for run in RUN.findall(text):
        folded = NOT_ALNUM.sub("", (ascii_text(run) or "").lower())
        if folded:
            out.append(folded)
    return tuple(out)


def joined(text: str | None) -> str:
    return "".join(words(text))


def occurs(name: Sequence[str], description: Sequence[str]) -> bool:
    """`name`'s words joined equal a run of consecutive whole words of `description` joined."""
    target = "".join(name)
    if not target:
        return False
    for start in range(len(description)):
        if not target.startswith(description[start]):
            continue
        text = ""
        for word in description[start:]:
            text += word
            if len(text) >= len(target):
                break
        if text == target:
            return True
    return False


@lru_cache(maxsize=65536)
def cpv_category(cpv: str | None) -> str | None:
    """The category of the first code of a `|` list that maps (8 digits compared; a check digit ignored)."""
    for code in (cpv or "").split("|"):
        found = CPV_CODE.match(code)
        if not found:
            continue
        digits = found.group(1)
        for prefix, category in CPV_PREFIXES:
            if digits.startswith(prefix):
                return category
    return None


def _distinctive(model: Sequence[str]) -> bool:
    """A shortened model that still says something: a word with a digit, of 3 or more characters joined."""
    return len("".join(model)) >= 3 and any(ch.isdigit() for word in model for ch in word)


@dataclass
class Company:
    id: str
    names: list[tuple[str, ...]]  # the name and every alias, as words
    brand: bool  # has the role `brand`


@dataclass
class Product:
    id: str
    brand_id: str
    model: tuple[str, ...]


@dataclass
class Match:
    """What the matcher made of one description: one product (score 1), candidates to review, or nothing."""

    product: str | None = None
    score: float = 0.0
    candidates: list[str] = field(default_factory=list)


class Catalogue:
    """Companies (names and aliases) and products to match item descriptions against."""

    def __init__(self, companies: Iterable[Company], products: Iterable[Product]) -> None:
        self.companies = {c.id: c for c in companies}
        self.by_brand: dict[str, list[Product]] = {}
        for p in products:
            if p.model:
                self.by_brand.setdefault(p.brand_id, []).append(p)
        for listed in self.by_brand.values():
            listed.sort(key=lambda p: p.id)
        self.brands = [c for c in self.companies.values() if c.brand]
        self.by_name: dict[str, list[Company]] = {}  # a folded name -> companies written so
        for c in sorted(self.companies.values(), key=lambda c: c.id):
            for name in c.names:
                self.by_name.setdefault("".join(name), []).append(c)

    def brand_occurs(self, brand_id: str, description: Sequence[str]) -> bool:
        company = self.companies.get(brand_id)
        return company is not None and any(occurs(name, description) for name in company.names)

    def match(self, description: str | None, rejected: Iterable[str] = ()) -> Match:
        text = words(description)
        if not text:
            return Match()
        skip = set(rejected)
        candidates: list[Product] = []
        near: list[Product] = []
        flat = "".join(text)  # a name can only occur if its joined words are in here: a cheap first test
        for brand_id, products in self.by_brand.items():
            if not self.brand_occurs(brand_id, text):
                continue
            for p in products:
                if p.id in skip:
                    continue
                if "".join(p.model) in flat and occurs(p.model, text):
                    candidates.append(p)
                elif len(p.model) > 1 and any(
                    _distinctive(short) and "".join(short) in flat and occurs(short, text)
                    for short in (p.model[:i] + p.model[i + 1 :] for i in range(len(p.model)))
                ):
                    near.append(p)
        if candidates:
            most = max(len(p.model) for p in candidates)
            best = [p for p in candidates if len(p.model) == most]
            if len(best) == 1:
                return Match(best[0].id, AUTO, [best[0].id])
            return Match(None, AUTO, sorted(p.id for p in candidates))
        if near:
            return Match(None, NEAR_MISS, sorted(p.id for p in near))
        return Match()

    def brand_by_name(self, brand_name: str | None) -> str | None:
        """The company whose name or an alias equals `brand_name` (a tie prefers role brand, then smallest id)."""
        key = joined(brand_name)
        found = self.by_name.get(key, []) if key else []
        if not found:
            return None
        return min(found, key=lambda c: (not c.brand, c.id)).id

    def brand_in(self, description: str | None) -> str | None:
        """The role-brand company whose name or alias occurs in `description`: the longest folded name wins,
        and a tie between two companies gives none (TIE)."""
        text = words(description)
        if not text:
            return None
        best: dict[str, int] = {}
        for c in self.brands:
            lengths = [len("".join(n)) for n in c.names if occurs(n, text)]
            if lengths:
                best[c.id] = max(lengths)
        if not best:
            return None
        top = max(best.values())
        winners = [cid for cid, n in best.items() if n == top]
        return winners[0] if len(winners) == 1 else TIE
