"""Records of one label into clusters: strong keys join outright, decisions are applied, candidate pairs
(blocked by their rarest name words) are scored, and clusters grow from the strongest pair down, but only
where every record of one side agrees with every record of the other. A record that matches several
clusters that do not agree with each other is not merged: it goes to review with all of them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from graph.resolve.decisions import Links
from graph.resolve.features import Features, TermStats, features, strong_keys
from graph.resolve.scoring import Evidence, Scorer

AUTO, REVIEW = 0.8, 0.5
AGREE = 0.3  # members of two clusters about to merge must not score below this with each other
BLOCK_LIMIT = 200  # a block key shared by more records than this says nothing; their other keys still meet
RARE = 10  # a name word this rare is a block of its own
CROSS_LIMIT = 25  # records per side checked when two clusters merge


class Clusters:
    """Union-find that never joins two records of one bundle (two ids it declares distinct) nor a pair a
    person said are two things."""

    def __init__(self, groups: dict[str, str], cannot: dict[str, set[str]]) -> None:
        self.parent: dict[str, str] = {}
        self.members: dict[str, list[str]] = {rid: [rid] for rid in groups}
        self.groups: dict[str, set[str]] = {rid: {g} for rid, g in groups.items()}
        self.cannot = cannot

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def allowed(self, ra: str, rb: str) -> bool:
        if self.groups[ra] & self.groups[rb]:
            return False
        small, large = sorted((ra, rb), key=lambda r: len(self.members[r]))
        other = set(self.members[large])
        return not any(self.cannot.get(m, set()) & other for m in self.members[small])

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if not self.allowed(ra, rb):
            return False
        if len(self.members[ra]) > len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[ra] = rb
        self.groups[rb] |= self.groups.pop(ra)
        self.members[rb].extend(self.members.pop(ra))
        return True


@dataclass
class Resolution:
    clusters: Clusters
    review: list[dict[str, Any]] = field(default_factory=list)


def block_keys(f: Features, stats: TermStats) -> list[tuple[str, ...]]:
    """Each rare name word (used by at most RARE records) and each pair of a record's three rarest name words
    (one misspelt word still leaves a pair in common)."""
    words = sorted(set(f.name), key=lambda t: (stats.names[t], t))
    keys: list[tuple[str, ...]] = [(t,) for t in words if stats.names[t] <= RARE]
    if len(words) == 1 and not keys:
        keys.append((words[0],))
    keys.extend(tuple(sorted(p)) for p in combinations(words[:3], 2))
    return keys


def candidate_pairs(feats: dict[str, Features], stats: TermStats, clusters: Clusters) -> set[tuple[str, str]]:
    blocks: dict[tuple[str, ...], list[str]] = defaultdict(list)
    anywhere: dict[tuple[str, ...], list[str]] = defaultdict(list)
    no_country = [f for f in feats.values() if not f.country]
    for rid, f in feats.items():
        for key in block_keys(f, stats):
            blocks[(f.country or "", *key)].append(rid)
            if no_country:
                anywhere[key].append(rid)
    pairs: set[tuple[str, str]] = set()

    def add(ids: list[str]) -> None:
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                if feats[a].group != feats[b].group and clusters.find(a) != clusters.find(b):
                    pairs.add((a, b) if a < b else (b, a))

    for ids in blocks.values():
        if 1 < len(ids) <= BLOCK_LIMIT:
            add(ids)
    for f in no_country:  # a record without a country meets records of any country
        for key in block_keys(f, stats):
            others = anywhere.get(key, [])
            if len(others) <= BLOCK_LIMIT:
                for b in others:
                    if b != f.id and feats[b].group != f.group:
                        pairs.add((f.id, b) if f.id < b else (b, f.id))
    return pairs


def find_matches(label: str, recs: dict[str, dict[str, Any]], links: Links) -> Resolution:
    """The clusters of records that are one thing, and the entries to review."""
    cannot = links.cannot(label)
    clusters = Clusters({rid: r["group"] for rid, r in recs.items()}, cannot)
    by_key: dict[str, str] = {}
    for rid, rec in recs.items():
        for key in strong_keys(label, rec):
            if key in by_key and recs[by_key[key]]["group"] != rec["group"]:
                clusters.union(rid, by_key[key])
            by_key.setdefault(key, rid)
    for a, b in links.must(label):
        if a in recs and b in recs:
            clusters.union(a, b)
    if label == "Product":
        return Resolution(clusters)
    feats = {rid: features(label, rec) for rid, rec in recs.items()}
    stats = TermStats()
    for f in feats.values():
        stats.add(f)
    scorer = Scorer(stats)
    scored: dict[tuple[str, str], tuple[float, Evidence]] = {}

    def score(a: str, b: str) -> float:
        key = (a, b) if a < b else (b, a)
        if key not in scored:
            scored[key] = scorer.compare(feats[key[0]], feats[key[1]])
        return scored[key][0]

    for a, b in candidate_pairs(feats, stats, clusters):
        score(a, b)
    strong: dict[str, list[str]] = defaultdict(list)
    for (a, b), (p, _) in scored.items():
        if p >= AUTO and b not in cannot.get(a, ()):
            strong[a].append(b)
            strong[b].append(a)
    review: dict[str, dict[str, Any]] = {}
    ambiguous = set()
    for a, found in strong.items():  # one record, several clusters that are not one: a person decides
        if len(found) > 1 and any(score(x, y) < AGREE for x, y in combinations(found, 2)):
            ambiguous.add(a)
            entry = review_entry(label, [a, *sorted(found, key=lambda b: -score(a, b))], recs, feats, scored)
            review[entry["id"]] = entry
    edges = sorted(((p, a, b) for (a, b), (p, _) in scored.items()), key=lambda e: (-e[0], e[1], e[2]))
    for p, a, b in edges:
        if p < AUTO:
            break
        if a in ambiguous or b in ambiguous or b in cannot.get(a, ()):
            continue
        ra, rb = clusters.find(a), clusters.find(b)
        if ra == rb or (agree(clusters, ra, rb, score) and clusters.union(a, b)):
            continue
        entry = review_entry(label, [a, b], recs, feats, scored)
        review.setdefault(entry["id"], entry)
    best: dict[str, float] = defaultdict(float)
    for (a, b), (p, _) in scored.items():
        best[a], best[b] = max(best[a], p), max(best[b], p)
    for p, a, b in edges:
        if p < REVIEW:
            break
        if p >= AUTO or a in ambiguous or b in ambiguous or (p < best[a] and p < best[b]):
            continue  # only each record's best candidates are worth a reviewer's time
        ra, rb = clusters.find(a), clusters.find(b)
        if ra != rb and clusters.allowed(ra, rb):
            entry = review_entry(label, [a, b], recs, feats, scored)
            review.setdefault(entry["id"], entry)
    return Resolution(clusters, [e for e in review.values() if not settled(clusters, e["members"])])


def agree(clusters: Clusters, ra: str, rb: str, score: Any) -> bool:
    left, right = clusters.members[ra][:CROSS_LIMIT], clusters.members[rb][:CROSS_LIMIT]
    return all(score(x, y) >= AGREE for x in left for y in right)


def settled(clusters: Clusters, members: list[str]) -> bool:
    """An entry whose records are all one node already, or can never be, needs nobody."""
    roots = {clusters.find(m) for m in members}
    if len(roots) == 1:
        return True
    first = clusters.find(members[0])
    return not any(clusters.allowed(first, r) for r in roots - {first})


def review_entry(
    label: str,
    members: list[str],
    recs: dict[str, dict[str, Any]],
    feats: dict[str, Features],
    scored: dict[tuple[str, str], tuple[float, Evidence]],
) -> dict[str, Any]:
    """What a reviewer needs side by side: each record's name, address, town, country, identifiers and
    coordinates, and the score of the first record with each other one, with what drove it."""
    from graph.resolve.decisions import entry_id

    a = members[0]
    pairs = []
    for b in members[1:]:
        key = (a, b) if a < b else (b, a)
        p, evidence = scored.get(key, (0.0, {}))
        pairs.append({"a": a, "b": b, "score": p, "evidence": evidence})
    shown = ("name", "address", "city", "country", "lat", "lng", "os_id", "lei", "identifier_scheme",
             "identifier_id", "registration_numbers", "license_no", "source_format")  # fmt: skip
    return {
        "id": entry_id(label, members),
        "label": label,
        "a": a,
        "b": members[1],
        "members": members,
        "score": max(float(p["score"]) for p in pairs),  # type: ignore[arg-type]
        "names": [recs[m].get("name") for m in members],
        "records": {m: {k: recs[m][k] for k in shown if recs[m].get(k) is not None} for m in members},
        "pairs": pairs,
    }
