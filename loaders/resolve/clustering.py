"""Records of one label into clusters: strong keys join outright, decisions are applied, candidate pairs
(blocked by their rarest name words) are scored, and clusters grow from the strongest pair down, but only
where every record of one side agrees with every record of the other. A record that matches several
clusters that do not agree with each other is not merged: it goes to review with all of them."""

from __future__ import annotations

from array import array
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
from supplygraph.loaders.resolve.decisions import Links
from supplygraph.loaders.resolve.features import Features, TermStats, features, strong_keys
from supplygraph.loaders.resolve.scoring import Scorer

AUTO, REVIEW = 0.8, 0.5
AGREE = 0.3  # members of two clusters about to merge must not score below this with each other
BLOCK_LIMIT = 200  # a block key shared by more records than this says nothing; their other keys still meet
RARE = 10  # a name word this rare is a block of its own
CROSS_LIMIT = 25  # records per side checked when two clusters merge


class Clusters:
    """Union-find that never joins two records of one bundle (two ids it declares distinct) nor a pair a
    person said are two things. Member lists are kept for clusters of two or more records only."""

    def __init__(self, groups: dict[str, str], cannot: dict[str, set[str]]) -> None:
        self.parent: dict[str, str] = {}
        self.clusters: dict[str, list[str]] = {}
        self.group = groups
        self.cannot = cannot

    def find(self, x: str) -> str:
        parent = self.parent
        if x not in parent:
            return x
        root = x
        while root in parent:
            root = parent[root]
        while x != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def members(self, root: str) -> list[str]:
        return self.clusters.get(root) or [root]

    def allowed(self, ra: str, rb: str) -> bool:
        left, right = self.members(ra), self.members(rb)
        if {self.group[m] for m in left} & {self.group[m] for m in right}:
            return False
        small, large = sorted((left, right), key=len)
        other = set(large)
        return not any(self.cannot.get(m, set()) & other for m in small)

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if not self.allowed(ra, rb):
            return False
        if len(self.members(ra)) > len(self.members(rb)):
            ra, rb = rb, ra
        self.parent[ra] = rb
        self.clusters[rb] = self.members(rb) + self.members(ra)
        self.clusters.pop(ra, None)
        return True


@dataclass
class Resolution:
    clusters: Clusters
    review: list[dict[str, Any]] = field(default_factory=list)


def block_keys(f: Features, stats: TermStats) -> list[tuple[str, ...]]:
    """Each rare name word (used by at most RARE records), each pair of a record's three rarest name words (one
    misspelt word still leaves a pair in common), and the rarest word with each letter left out in turn (a
    dropped, doubled, swapped or wrong letter leaves one such key in common)."""
    words = sorted(set(f.name), key=lambda t: (stats.names[t], t))
    keys: list[tuple[str, ...]] = [(t,) for t in words if stats.names[t] <= RARE]
    if len(words) == 1 and not keys:
        keys.append((words[0],))
    keys.extend(tuple(sorted(p)) for p in combinations(words[:3], 2))
    if words and len(words[0]) >= 5:  # the rarest word with one letter left out: meets its misspellings
        rarest = words[0]
        keys.extend(("~", rarest[:i] + rarest[i + 1 :]) for i in range(len(rarest)))
        keys.append(("~", rarest))
    return keys


def candidate_pairs(ids: list[str], feats: dict[str, Features], stats: TermStats, clusters: Clusters) -> np.ndarray:
    """Pairs of records (as i * len(ids) + j, i < j, indexes into ids) sharing a block key in one country, or
    where one side has no country, each block of at most BLOCK_LIMIT records. Keys are hashed into one array
    and sorted, and pairs kept as numbers, which holds millions in little memory."""
    any_without_country = any(not f.country for f in feats.values())
    hashes, owners = array("q"), array("q")
    for i, rid in enumerate(ids):
        f = feats[rid]
        for key in block_keys(f, stats):
            hashes.append(hash((f.country or "", *key)))
            owners.append(i)
            if any_without_country:
                hashes.append(hash(("*", *key)))
                owners.append(-1 - i)  # a key shared across countries
    keys, who = np.frombuffer(hashes, dtype=np.int64), np.frombuffer(owners, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    keys, who = keys[order], who[order]
    del order, hashes, owners
    edges = np.flatnonzero(np.diff(keys)) + 1
    starts, ends = np.concatenate(([0], edges)), np.concatenate((edges, [len(keys)]))
    sizes = ends - starts
    wanted = (sizes > 1) & (sizes <= BLOCK_LIMIT)
    total = len(ids)
    codes = array("q")
    for start, end in zip(starts[wanted].tolist(), ends[wanted].tolist(), strict=True):
        block = who[start:end].tolist()
        across = block[0] < 0
        members = sorted({-1 - i for i in block} if across else set(block))
        for x, i in enumerate(members):
            fi = feats[ids[i]]
            for j in members[x + 1 :]:
                fj = feats[ids[j]]
                if across and fi.country and fj.country:
                    continue  # records with countries meet in their country's blocks
                if fi.group != fj.group:
                    codes.append(i * total + j)
    return np.unique(np.frombuffer(codes, dtype=np.int64))


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
    scored: dict[tuple[str, str], float] = {}  # pairs that might merge or be reviewed; others are recomputed

    def score(a: str, b: str) -> float:
        key = (a, b) if a < b else (b, a)
        found = scored.get(key)
        return found if found is not None else scorer.compare(feats[key[0]], feats[key[1]])[0]

    ids = list(feats)
    for code in candidate_pairs(ids, feats, stats, clusters).tolist():
        a, b = ids[code // len(ids)], ids[code % len(ids)]
        if clusters.find(a) != clusters.find(b):
            p = scorer.compare(feats[a], feats[b])[0]
            if p >= AGREE:
                scored[(a, b) if a < b else (b, a)] = p
    strong: dict[str, list[str]] = defaultdict(list)
    for (a, b), p in scored.items():
        if p >= AUTO and b not in cannot.get(a, ()):
            strong[a].append(b)
            strong[b].append(a)
    review: dict[str, dict[str, Any]] = {}
    ambiguous = set()
    for a, found in strong.items():  # one record, several clusters that are not one: a person decides
        if len(found) > 1 and any(score(x, y) < AGREE for x, y in combinations(found, 2)):
            ambiguous.add(a)
            entry = review_entry(label, [a, *sorted(found, key=lambda b: -score(a, b))], recs, feats, scorer)
            review[entry["id"]] = entry
    edges = sorted(((p, a, b) for (a, b), p in scored.items() if p >= REVIEW), key=lambda e: (-e[0], e[1], e[2]))
    for p, a, b in edges:
        if p < AUTO:
            break
        if a in ambiguous or b in ambiguous or b in cannot.get(a, ()):
            continue
        ra, rb = clusters.find(a), clusters.find(b)
        if ra == rb or (agree(clusters, ra, rb, score) and clusters.union(a, b)):
            continue
        entry = review_entry(label, [a, b], recs, feats, scorer)
        review.setdefault(entry["id"], entry)
    best: dict[str, float] = defaultdict(float)
    for (a, b), p in scored.items():
        best[a], best[b] = max(best[a], p), max(best[b], p)
    for p, a, b in edges:
        if p < REVIEW:
            break
        if p >= AUTO or a in ambiguous or b in ambiguous or (p < best[a] and p < best[b]):
            continue  # only each record's best candidates are worth a reviewer's time
        ra, rb = clusters.find(a), clusters.find(b)
        if ra != rb and clusters.allowed(ra, rb):
            entry = review_entry(label, [a, b], recs, feats, scorer)
            review.setdefault(entry["id"], entry)
    return Resolution(clusters, [e for e in review.values() if not settled(clusters, e["members"])])


def agree(clusters: Clusters, ra: str, rb: str, score: Any) -> bool:
    left, right = clusters.members(ra)[:CROSS_LIMIT], clusters.members(rb)[:CROSS_LIMIT]
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
    scorer: Scorer,
) -> dict[str, Any]:
    """What a reviewer needs side by side: each record's name, address, town, country, identifiers and
    coordinates, and the score of the first record with each other one, with what drove it."""
    from supplygraph.loaders.resolve.decisions import entry_id

    a = members[0]
    pairs = []
    for b in members[1:]:
        p, evidence = scorer.compare(feats[a], feats[b])
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
