"""Fellegi-Sunter style scoring of a pair of records: each comparison (name, address, town, coordinates)
falls into a level, each level adds or takes away evidence (in bits, log2 of how much likelier the level is
for a true match than for a non-match), and the sum becomes a match probability.

The levels' weights are set by hand, from the labelled real set and the generated set (benchmarks/
resolution_quality.py), not trained: the sets are small and precision comes first. Term frequency is what
makes them work on real lists: name and address similarities weigh every token by how rare it is among the
records being resolved, so "Jiangyin ... Garment Co." shares little with "Jiangyin ... Garment Co." beyond
the city and the trade, and a province or an industrial zone named in many addresses says little.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from rapidfuzz import fuzz
from supplygraph.loaders.resolve.features import AREA_KINDS, Features, TermStats, stem

PRIOR = -6.0  # bits: before any comparison a candidate pair is far more often two things than one
REFUSE = 0.0  # a different country, a different identifier of one scheme, different unit numbers
TOWN_DIFFERS = -10.0  # a different town is strong evidence against
Evidence = dict[str, float | str]


def probability(bits: float) -> float:
    return 1.0 / (1.0 + 2.0 ** (-bits))


def soft_similarity(
    a: tuple[str, ...], b: tuple[str, ...], weight: Callable[[str], float], forms: bool = False
) -> float:
    """Weighted Dice similarity of two token lists: equal tokens count fully, a misspelt token of 4+ letters
    (ratio >= 80), a word written as two ("Zhong Shan" / "Zhongshan") or, with `forms`, in another form
    ("Knitting" / "Knitwear") almost fully, as rare as the commoner spelling (a misspelling is rare because it is
    misspelt); each token weighs as rare as it is."""
    if not a or not b:
        return 0.0
    sa, sb = set(a), set(b)
    total = sum(weight(t) for t in sa) + sum(weight(t) for t in sb)
    matched = sum(2 * weight(t) for t in sa & sb)
    rest_a, rest_b = sa - sb, sb - sa

    def credit(left: list[str], right: list[str], share: float) -> None:
        nonlocal matched, total
        wl, wr = sum(weight(t) for t in left), sum(weight(t) for t in right)
        total -= abs(wl - wr)
        matched += 2 * min(wl, wr) * share

    for left, right, seq in ((rest_a, rest_b, b), (rest_b, rest_a, a)):
        joined = {seq[i] + seq[i + 1]: (seq[i], seq[i + 1]) for i in range(len(seq) - 1)}
        for t in sorted(left):
            if t in joined and set(joined[t]) <= right:
                credit([t], list(joined[t]), 0.95)
                left.discard(t)
                right.difference_update(joined[t])
    if forms and rest_a and rest_b:  # one word in two forms: "Garment" / "Garments", "Knitting" / "Knitwear"
        stems = {stem(u): u for u in sorted(rest_b, reverse=True)}
        for t in sorted(rest_a):
            same = stems.pop(stem(t), None)
            if same is not None:
                credit([t], [same], 0.95)
                rest_a.discard(t)
                rest_b.discard(same)
    for t in sorted(rest_a):
        if len(t) < 4:
            continue
        best = max(((fuzz.ratio(t, u), u) for u in rest_b if len(u) >= 4), default=(0.0, ""))
        if best[0] >= 80:
            credit([t], [best[1]], 0.9)
            rest_b.discard(best[1])
    return min(1.0, matched / total) if total > 0 else 0.0


def qualified(name: tuple[str, ...], other: tuple[str, ...], places: set[str]) -> tuple[str, ...]:
    """A name without the words the other name lacks that are places named in either address ("(Shaowu)",
    "Guangzhou Panyu", "- Huahai Village"): they say where, which the address comparison weighs."""
    kept = tuple(
        t for t in name
        if t in other or (t not in places and t not in AREA_KINDS) or any(fuzz.ratio(t, u) >= 80 for u in other)
    )  # fmt: skip
    return kept or name


def expanded(name: tuple[str, ...], elided: tuple[tuple[str, str], ...], other: tuple[str, ...]) -> tuple[str, ...]:
    """A name with each word cut short before "and" completed as the other name writes it: "metall" (of
    "Metall- und Elektroindustrie") is "metallindustrie" where the other name says so."""
    for cut, following in elided:
        endings = (t for t in other if t.startswith(cut) and len(t) - len(cut) >= 4)
        whole = next((t for t in endings if following.endswith(t[len(cut) :])), None)
        if whole is not None:
            name = tuple(whole if t == cut else t for t in name)
    return name


def near(token: str, others: tuple[str, ...]) -> bool:
    joined = "".join(others)
    return token in joined or any(fuzz.ratio(token, u) >= 80 for u in others)


def short(numbers: tuple[str, ...]) -> set[int]:
    return {int(n) for n in numbers if len(n) < 5}


def long(numbers: tuple[str, ...]) -> set[int]:
    return {int(n) for n in numbers if len(n) >= 5}


def km(p: tuple[float, float], q: tuple[float, float]) -> float:
    dlat = math.radians(q[0] - p[0])
    dlng = math.radians(q[1] - p[1]) * math.cos(math.radians((p[0] + q[0]) / 2))
    return 6371.0 * math.hypot(dlat, dlng)


class Scorer:
    """Scores pairs of records of one label, with the term frequencies of those records."""

    def __init__(self, stats: TermStats) -> None:
        self.stats = stats

    def refused(self, a: Features, b: Features) -> str | None:
        """Why the pair can never be one thing, or None."""
        if a.country and b.country and a.country != b.country:
            return "country differs"
        for scheme, value in a.ids.items():
            if scheme in b.ids and b.ids[scheme] != value:
                return f"{scheme} differs"
        if a.name_numbers and b.name_numbers and a.name_numbers != b.name_numbers:
            return "unit/plant numbers in the names differ"
        return None

    def compare(self, a: Features, b: Features) -> tuple[float, Evidence]:
        """Match probability of two records and what drove it (each comparison's bits)."""
        why = self.refused(a, b)
        if why is not None:
            return REFUSE, {"refused": why}
        if set(a.ids.items()) & set(b.ids.items()):
            return 1.0, {"identifier": "equal"}
        evidence: Evidence = {}
        bits = PRIOR + self.name_bits(a, b, evidence)
        if a.name_numbers != b.name_numbers:  # one names a unit or plant number, the other none
            bits -= 5.0
            evidence["name_number"] = -5.0
        if a.address and b.address:
            bits += self.address_bits(a, b, evidence)
        if a.town and b.town:
            same = set(a.town) & set(b.town) or "".join(a.town) == "".join(b.town)
            town = 2.0 if same else TOWN_DIFFERS
            evidence["town"] = town
            bits += town
        if a.point and b.point and not (self.stats.shared_point(a.point) or self.stats.shared_point(b.point)):
            distance = km(a.point, b.point)
            level = 2.0 if distance < 0.3 else 1.0 if distance < 2 else -1.0 if distance < 10 else -3.0
            evidence["km"] = round(distance, 2)
            evidence["coordinates"] = level
            bits += level
        evidence["bits"] = round(bits, 2)
        return round(probability(bits), 4), evidence

    def name_bits(self, a: Features, b: Features, evidence: Evidence) -> float:
        places = set(a.address) | set(a.town) | set(b.address) | set(b.town)
        best = (-1.0, a.name, b.name, a.name, b.name)
        for one in (expanded(a.name, a.elided, b.name), *a.alternatives):
            for other in (expanded(b.name, b.elided, a.name), *b.alternatives):
                left, right = qualified(one, other, places), qualified(other, one, places)
                similarity = soft_similarity(left, right, self.stats.name_weight, forms=True)
                if similarity > best[0]:
                    best = (similarity, left, right, one, other)
        similarity, left, right, one, other = best
        if (one, other) != (a.name, b.name):
            evidence["names_compared"] = f"{' '.join(one)} / {' '.join(other)}"
        if (left, right) != (one, other):
            evidence["name_places_ignored"] = " ".join(sorted(set(one + other) - set(left + right)))
        evidence["name_similarity"] = round(similarity, 3)
        if sorted(left) == sorted(right):
            level = 10.0 if sorted(a.name) == sorted(b.name) else 8.0
        else:
            level = 8.0 if similarity >= 0.92 else 4.0 if similarity >= 0.8 else -4.0 if similarity >= 0.65 else -8.0
        words = set(left) | set(right)
        if level > 0 and len(words) <= 2 and all(self.stats.common_name_word(t) for t in words):
            level = min(level, 3.0)  # "Garment Factory": every word common, the name says little
        evidence["name"] = level
        return level

    def address_bits(self, a: Features, b: Features, evidence: Evidence) -> float:
        similarity = soft_similarity(a.address, b.address, self.stats.address_weight)
        level = 5.0 if similarity >= 0.8 else 2.0 if similarity >= 0.6 else -1.0 if similarity >= 0.4 else -5.0
        evidence["address_similarity"] = round(similarity, 3)
        rare = self.stats.rare_address_word
        only_a = [t for t in set(a.address) - set(b.address) if rare(t) and not near(t, b.address)]
        only_b = [t for t in set(b.address) - set(a.address) if rare(t) and not near(t, a.address)]
        within = self.coarse_within(a.address, b.address)
        if within is not None:  # "Kab Demak, Jawa Tengah" and a street in Demak: one says less, nothing against
            evidence["address_within"] = round(within, 3)
            level = max(level, 0.0)
        elif only_a and only_b:  # each names a place the other does not ("Nayapara" / "Bahadurpur")
            evidence["address_places_differ"] = f"{' '.join(sorted(only_a))} / {' '.join(sorted(only_b))}"
            level -= 3.0
        for kind, mine, theirs in (
            ("house_numbers", short(a.address_numbers), short(b.address_numbers)),
            ("postcodes", long(a.address_numbers), long(b.address_numbers)),
        ):
            if mine and theirs:  # another house number is another place; another postcode another area
                if kind == "house_numbers":  # 700/372 and 700/413 share a number and are two places
                    bits = 2.0 if mine <= theirs or theirs <= mine else -10.0
                else:
                    bits = 1.0 if mine & theirs else -2.0
                evidence[kind] = bits
                level += bits
        evidence["address"] = level
        return level

    def coarse_within(self, a: tuple[str, ...], b: tuple[str, ...]) -> float | None:
        """How much of a coarse address (a few words, at most half as many as the other: a regency and a
        province) the other address names, by weight, when it names the coarse one's rarest word; else None."""
        if min(len(a), len(b)) > 8:  # nothing coarse here (quick way out: most pairs)
            return None
        coarse, full = sorted((set(a), set(b)), key=len)
        if len(coarse) > 4 or 2 * len(coarse) > len(full):
            return None
        count = self.stats.addresses.get
        rarest = min(coarse, key=lambda t: (count(t, 0), t))
        named = tuple(full)
        if not (rarest in full or near(rarest, named)):
            return None
        weight = self.stats.address_weight
        found = sum(weight(t) for t in coarse if t in full or near(t, named))
        share = found / sum(weight(t) for t in coarse)
        return share if share >= 0.6 else None
