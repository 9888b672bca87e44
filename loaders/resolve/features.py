"""What resolution compares, in comparable form: name and address tokens, house and unit numbers, the town,
coordinates and identifiers of a record; and how common each token is among the records being resolved."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache, lru_cache
from sys import intern
from typing import Any

import fingerprints
import normality
from rapidfuzz import fuzz

# Legal forms and filler words: said by so many names that they distinguish nothing (after fingerprints has
# folded "Company Limited" / "Co., Ltd." and the like to one spelling).
ID_LEGAL = set(  # the words name_key drops: it makes ids of records known only by name, so it stays as it is
    "co ltd llc inc corp company limited gmbh ag sa srl sro as plc pvt pte bv nv jsc pjsc oao ooo zao "
    "tnhh cong ty pt tbk bhd sdn kk kabushiki kaisha spa spol the of and group holdings holding".split()
)
LEGAL = ID_LEGAL | set(
    "corporation incorporated aktiengesellschaft gesellschaft mit beschrankter haftung sociedad anonima limitada "
    "responsabilidad societe anonyme joint stock public de cv rl ev kg kgaa mbh sas sl spzoo sp zoo z o private ve "
    "tic san sti e v s a c l".split()
)
ROMAN = {"ii": "2", "iii": "3", "iv": "4", "vi": "6", "vii": "7", "viii": "8", "ix": "9"}
NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "second": "2", "third": "3"}
ADDRESS_FILLER = {"no", "road", "rd", "street", "st", "str", "lot", "km", "the", "of", "and", "de", "la", "del"}
OS_ID = re.compile(r"^[A-Z]{2}[0-9]{7}[A-Z0-9]{6}$")


WORDS = re.compile(r"[a-z]+|[0-9]+")
BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")  # "(Shenzhen)", "(pvt)", "(Aolun)": qualifiers, not the name


def words(text: str) -> list[str]:
    """Lower-case ASCII words and digit runs of a text, in order (transliterated only when not ASCII already)."""
    if not text.isascii():
        text = normality.ascii_text(text) or ""
    return [intern(w) for w in WORDS.findall(text.lower())]  # one copy of each word however many records use it


@lru_cache(maxsize=200_000)
def name_tokens(name: str) -> tuple[str, ...]:
    """A name's words in order: ASCII, bracketed qualifiers left out, digits apart, legal forms ("Co., Ltd.", "Company Limited", "S.A. de
    C.V.", a misspelt "Limitted") dropped, roman and spelt-out unit numbers as digits."""
    tokens = words(BRACKETS.sub(" ", name)) or words(name)
    kept = [
        t for t in tokens if t not in LEGAL and (len(t) > 1 or t.isdigit()) and t != "no" and not misspelt_legal_form(t)
    ]
    kept = kept or tokens
    return tuple(ROMAN.get(t, NUMBER_WORDS.get(t, t)) for t in kept)


LONG_LEGAL = ("company", "limited", "corporation", "incorporated")


def misspelt_legal_form(token: str) -> bool:
    """ "Limitted", "Copany": a legal form with a typo is still a legal form."""
    return len(token) >= 6 and token not in LONG_LEGAL and any(fuzz.ratio(token, f) >= 85 for f in LONG_LEGAL)


@cache
def name_key(name: str) -> str:
    """The comparable form of a name (for ids of records known only by name): fingerprinted, ASCII, legal
    forms dropped, tokens sorted."""
    text = fingerprints.generate(name) or ""
    tokens = [t for t in text.split() if t not in ID_LEGAL]
    return " ".join(sorted(tokens)) or text


def address_tokens(text: str) -> tuple[str, ...]:
    return tuple(t for t in words(text) if t not in ADDRESS_FILLER)


@cache
def addr_key(address: str) -> str:
    return " ".join(sorted(address_tokens(address)))


def identifiers(label: str, rec: dict[str, Any]) -> dict[str, str]:
    """Scheme -> value of the identifiers that name one thing (equal: the same thing; different: not)."""
    out = {}
    raw_os = re.sub(r"[\s-]", "", rec.get("os_id") or "").upper()
    if OS_ID.match(raw_os):
        out["os"] = raw_os
    if rec.get("lei"):
        out["lei"] = rec["lei"].upper()
    if rec.get("identifier_scheme") and rec.get("identifier_id"):
        out[f"org:{rec['identifier_scheme'].upper()}"] = str(rec["identifier_id"]).upper()
    if rec.get("license_no") and rec.get("country"):
        out[f"lic:{rec['country']}"] = rec["license_no"].upper()
    return out


def strong_keys(label: str, rec: dict[str, Any]) -> list[str]:
    """Keys that join records outright: identifiers, registration numbers, and a product's brand and model."""
    keys = [f"{scheme}:{value}" for scheme, value in identifiers(label, rec).items()]
    for number in (rec.get("registration_numbers") or "").split("|"):
        if number and rec.get("country"):
            keys.append(f"reg:{rec['country']}:{number.upper()}")
    if label == "Product" and rec.get("brand_id") and rec.get("model"):
        keys.append(f"model:{rec['brand_id']}:{name_key(rec['model'])}")
    return keys


@dataclass(slots=True)
class Features:
    """One record's comparable parts."""

    id: str
    country: str | None
    name: tuple[str, ...]
    name_numbers: tuple[str, ...]
    address: tuple[str, ...]
    address_numbers: tuple[str, ...]
    town: tuple[str, ...]
    point: tuple[float, float] | None
    ids: dict[str, str]
    group: str


def features(label: str, rec: dict[str, Any]) -> Features:
    tokens = name_tokens(rec.get("name") or "")
    address = rec.get("address") or rec.get("street_address") or ""
    town = rec.get("city") or rec.get("locality") or ""
    addr = address_tokens(f"{address} {town} {rec.get('postal_code') or ''}") if address or town else ()
    point = None
    if rec.get("lat") is not None and rec.get("lng") is not None:
        point = (float(rec["lat"]), float(rec["lng"]))
    return Features(
        id=rec["id"],
        country=rec.get("country"),
        name=tuple(t for t in tokens if not t.isdigit()),
        name_numbers=tuple(sorted({t for t in tokens if t.isdigit()})),
        address=tuple(t for t in addr if not t.isdigit()),
        address_numbers=tuple(sorted({t for t in addr if t.isdigit()})),
        town=tuple(t for t in address_tokens(town) if not t.isdigit() and len(t) > 1) if town else (),
        point=point,
        ids=identifiers(label, rec),
        group=rec.get("group", rec["id"]),
    )


@dataclass
class TermStats:
    """How many records use each name token and address token, and which coordinates several records share
    (a country's or a province's centre where a list geocoded no better): rare says much, common little."""

    records: int = 0
    names: Counter[str] = field(default_factory=Counter)
    addresses: Counter[str] = field(default_factory=Counter)
    points: Counter[int] = field(default_factory=Counter)  # hash of (lat, lng): how many records put there

    def add(self, f: Features) -> None:
        self.records += 1
        self.names.update(set(f.name))
        self.addresses.update(set(f.address))
        if f.point is not None:
            self.points[hash(f.point)] += 1

    def name_weight(self, token: str) -> float:
        return math.log((self.records + 1) / (self.names.get(token, 0) + 1)) + 0.5

    def address_weight(self, token: str) -> float:
        return math.log((self.records + 1) / (self.addresses.get(token, 0) + 1)) + 0.5

    def common_name_word(self, token: str) -> bool:
        return self.names.get(token, 0) >= max(5, self.records / 100)

    def rare_address_word(self, token: str) -> bool:
        return len(token) > 2 and self.addresses.get(token, 0) <= 5

    def shared_point(self, point: tuple[float, float]) -> bool:
        return self.points.get(hash(point), 0) >= 3
