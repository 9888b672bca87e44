"""One entity per real thing: find records of the same company, factory, agency, affiliate or product across
sources, and rewrite their ids in the canonical tables before graph.tables merges them.

1. Strong identifiers join records outright: OS ID (factories), LEI, OCDS identifier scheme+id and registration
   numbers (companies, affiliates), licence number + country (agencies); products by brand and model. A
   different identifier of the same scheme refuses a pair.
2. Then candidate pairs (records sharing two of their three rarest name words, in one country) are scored
   Fellegi-Sunter style (scoring.py): name, address, town and coordinates each add or take away evidence,
   names and addresses weighed by how rare each word is among the records (a city, a province, "Industrial",
   "Garment" or a legal form says little); a different country, identifier or unit number refuses, a different
   town weighs heavily against.
3. Clusters, not pairs (clustering.py): a score of 0.8 or more joins two clusters when every record of one
   agrees with every record of the other; a record matching several clusters that do not agree goes to review
   with all of them; 0.5-0.8 goes to review (each record's best candidates only). Records of one input are
   never joined when their ids say they are different things (a bundle's ids, OS IDs, LEIs, OCDS identifiers);
   a loader's records known only by a name may be.
4. Decisions (decisions.py; `supplygraph matches accept|reject|split|move`) are kept beside the data and
   re-applied on every load: accepted entries merge, rejected ones never do, a split or moved record stays out.

A merged node keeps the id of the user's own bundle where there is one, and lists `merged_ids` and
`name_variants` of every record merged into it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from supplygraph.loaders.resolve.clustering import AUTO, REVIEW, find_matches
from supplygraph.loaders.resolve.decisions import Decisions, Links, entry_id, matches_file, pair_id
from supplygraph.loaders.resolve.features import TermStats, addr_key, features, name_key
from supplygraph.loaders.resolve.listings import listings
from supplygraph.loaders.resolve.scoring import Scorer
from supplygraph.loaders.resolve.tables import Bundles, canonical, one_group, records, rewrite

LABELS = ("Company", "Factory", "Agency", "Affiliate")
__all__ = ["AUTO", "LABELS", "REVIEW", "Bundles", "Decisions", "Links", "addr_key", "entry_id", "matches_file",
           "name_key", "pair_id", "resolve_entities", "score"]  # fmt: skip


def score(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Match probability of two records on their own (no other records to weigh their words against)."""
    fa, fb = features("Company", {"id": "a", **a}), features("Company", {"id": "b", **b})
    stats = TermStats()
    for f in (fa, fb):
        stats.add(f)
    return Scorer(stats).compare(fa, fb)[0]


def resolve_entities(bundles: Bundles, decisions: Decisions) -> tuple[Bundles, list[dict[str, Any]]]:
    """Bundles with the ids of one real thing rewritten to one id; and the review queue."""
    queue: list[dict[str, Any]] = []
    links = decisions.links()
    for label in (*LABELS, "Product"):  # products last: their brands are resolved by then
        if one_group(bundles, label):
            continue
        recs = records(bundles, label)
        if len({r["group"] for r in recs.values()}) < 2:
            continue
        found = find_matches(label, recs, links)
        queue.extend(found.review)
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for rid, rec in recs.items():
            groups[found.clusters.find(rid)].append(rec)
        mapping: dict[str, str] = {}
        extra: dict[str, dict[str, str]] = {}
        for members in groups.values():
            if len(members) < 2:
                continue
            keep = canonical(members)
            names = sorted({n for m in members for n in m["names"]})
            ids = sorted(m["id"] for m in members)
            for m in members:
                mapping[m["id"]] = keep
            extra[keep] = {"merged_ids": "|".join(ids), "name_variants": "|".join(names)}
        if mapping:
            bundles = rewrite(bundles, label, mapping, extra)
    bundles, review = listings(bundles, decisions)
    queue.extend(review)
    return bundles, sorted(queue, key=lambda r: (-r["score"], r["id"]))
