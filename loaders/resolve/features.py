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
ROMAN = {"ii": "2", "iii": "3", "ll": "2", "lll": "3", "iv": "4", "vi": "6", "vii": "7", "viii": "8", "ix": "9"}
NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "second": "2", "third": "3"}
ADDRESS_FILLER = {"no", "road", "rd", "street", "st", "str", "lot", "km", "the", "of", "and", "de", "la", "del"}
# What kind of place a word names, not which one, in the languages of the lists: areas (a regency, a
# subdistrict, a village) and sites (a street, a warehouse, a plot). Left out of addresses like "Road", so
# "Kab Demak" is "Kabupaten Demak"; an area word in one name only ("... Village") says where, not who.
AREA_KINDS = frozenset(
    "desa kel kelurahan kec kecamatan kab kabupaten kota ward commune phuong huyen village town city district "
    "province".split()
)
ADDRESS_KINDS = AREA_KINDS | set(
    "jalan jl jln rt rw calle carretera avenida av lote bodega nave block bldg building floor fl unit".split()
)
# Articles and conjunctions in the names of the lists' languages ("Verband der ... und ..."): they say nothing
NAME_FILLER = set("der die das und fur von zur zum des del los las et for".split())
TITLE = re.compile(r"\b(?:dr|prof|dipl|ing|mag)\.", re.IGNORECASE)  # "Dr. Ing. h.c. F. Porsche": titles, not the name
ALTERNATIVES = re.compile(r"\s/\s")  # "Mata Textiles S.A. / El Trazo S.A.": one record, two names
ELLIPSIS = re.compile(r"(\w+)-\s+(?:und|oder|and|or|&|u\.)\s+(\w+)", re.IGNORECASE)  # "Metall- und Elektroindustrie"
ORDINAL = re.compile(r"([0-9])(?:st|nd|rd|th)\b")  # "2nd Industrial Area": the number
OS_ID = re.compile(r"^[A-Z]{2}[0-9]{7}[A-Z0-9]{6}$")


WORDS = re.compile(r"[a-z]+|[0-9]+")
BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")  # "(Shenzhen)", "(pvt)", "(Aolun)": qualifiers, not the name


def words(text: str) -> list[str]:
    """Lower-case ASCII words and digit runs of a text, in order (transliterated only when not ASCII already)."""
    if not text.isascii():
        text = normality.ascii_text(text) or ""
    found = WORDS.findall(ORDINAL.sub(r"\1", text.lower()))
    return [intern(w) for w in found]  # one copy of each word however many records use it


@lru_cache(maxsize=200_000)
def name_tokens(name: str) -> tuple[str, ...]:
    """A name's words in order: ASCII, bracketed qualifiers and abbreviated titles ("Dr.", "Ing.") left out,
    digits apart, legal forms ("Co., Ltd.", "Company Limited", "S.A. de C.V.", a misspelt "Limitted") and
    articles ("der", "und") dropped, roman ("II", typed "ll") and spelt-out unit numbers as digits."""
    text = TITLE.sub(" ", name)
    tokens = words(BRACKETS.sub(" ", text)) or words(text) or words(name)
    kept = [
        t
        for t in tokens
        if t not in LEGAL and t not in NAME_FILLER and (len(t) > 1 or t.isdigit()) and t != "no"
        and not misspelt_legal_form(t)
    ]  # fmt: skip
    kept = kept or tokens
    return tuple(ROMAN.get(t, NUMBER_WORDS.get(t, t)) for t in kept)


STEM_ENDINGS = (("wear", ""), ("ings", ""), ("ing", ""), ("ies", "y"), ("s", ""))


@cache
def stem(token: str) -> str:
    """A word without its plural or trade ending, where at least four letters are left: "garments" ->
    "garment", "knitting" and "knitwear" -> "knit", "industries" -> "industry"; "works", "sewing", "xing" stay."""
    if len(token) < 6 or token.isdigit():  # "works" stays: a stem of four letters is too short to meet "woks"
        return token
    for ending, instead in STEM_ENDINGS:
        if token.endswith(ending) and len(token) - len(ending) >= 4:
            if ending == "s" and token.endswith(("ss", "us", "is")):
                return token
            root = token[: -len(ending)] + instead
            if ending == "ing" and root[-1] == root[-2] and root[-1] not in "aeiou":
                root = root[:-1]  # "knitting" -> "knit"
            return intern(root)
    return token


def alternative_names(name: str) -> tuple[tuple[str, ...], ...]:
    """The names of a record naming itself twice ("Mata Textiles S.A. / El Trazo S.A."), each as tokens."""
    parts = ALTERNATIVES.split(name)
    if len(parts) < 2:
        return ()
    found = (tuple(t for t in name_tokens(part) if not t.isdigit()) for part in parts)
    return tuple(p for p in found if p)


def elided_words(name: str) -> tuple[tuple[str, str], ...]:
    """Words cut short before "and" in a compound ("Metall- und Elektroindustrie": metall, elektroindustrie):
    the cut word stands for itself plus some ending of the next word ("metallindustrie")."""
    return tuple(
        (words(m.group(1))[-1], words(m.group(2))[0])
        for m in ELLIPSIS.finditer(name)
        if words(m.group(1)) and words(m.group(2))
    )


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
    return tuple(t for t in words(text) if t not in ADDRESS_FILLER and t not in ADDRESS_KINDS)


@cache
def country_names(code: str) -> frozenset[tuple[str, ...]]:
    """The names of a country in the languages countrynames knows (four letters or more), as word tuples."""
    from countrynames.data import DATA

    found = (tuple(words(name)) for name in DATA.get(code, ()))
    return frozenset(name for name in found if len("".join(name)) >= 4)


def without_country(tokens: tuple[str, ...], country: str | None) -> tuple[str, ...]:
    """An address without the record's own country named at its end ("..., Hai Duong Province, Vietnam")."""
    if not country or not tokens:
        return tokens
    names = country_names(country)
    for size in (3, 2, 1):
        if len(tokens) >= size and tokens[-size:] in names:
            return tokens[:-size]
    return tokens


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
    alternatives: tuple[tuple[str, ...], ...] = ()  # a record naming itself twice: each name
    elided: tuple[tuple[str, str], ...] = ()  # words cut short before "and" in a compound, and the next word


def features(label: str, rec: dict[str, Any]) -> Features:
    name = rec.get("name") or ""
    tokens = name_tokens(name)
    country = rec.get("country")
    given = address_tokens(rec.get("address") or rec.get("street_address") or "")
    street = without_country(given, country)
    town = rec.get("city") or rec.get("locality") or ""
    addr = (*street, *address_tokens(f"{town} {rec.get('postal_code') or ''}")) if street or town else ()
    point = None
    if rec.get("lat") is not None and rec.get("lng") is not None and (addr or not given):
        point = (float(rec["lat"]), float(rec["lng"]))  # an address naming the country only: geocoded to its centre
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
        alternatives=alternative_names(name) if "/" in name else (),
        elided=elided_words(name) if "-" in name else (),
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
