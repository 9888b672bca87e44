"""Pairwise and cluster precision and recall of a resolution against labelled truth (record id -> cluster)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass


@dataclass
class Quality:
    records: int
    true_pairs: int
    found_pairs: int
    correct_pairs: int
    true_clusters: int
    found_clusters: int
    exact_clusters: int
    queue: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.found_pairs if self.found_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def cluster_precision(self) -> float:
        return self.exact_clusters / self.found_clusters if self.found_clusters else 1.0

    @property
    def cluster_recall(self) -> float:
        return self.exact_clusters / self.true_clusters if self.true_clusters else 1.0

    def lines(self) -> list[str]:
        share = self.queue / self.records if self.records else 0.0
        return [
            f"pairwise: precision {self.precision:.4f}  recall {self.recall:.4f}  "
            f"({self.correct_pairs} of {self.found_pairs} merged pairs correct; {self.true_pairs} true pairs)",
            f"clusters (2+ records): precision {self.cluster_precision:.4f}  recall {self.cluster_recall:.4f}  "
            f"({self.exact_clusters} exact of {self.found_clusters} found; {self.true_clusters} true)",
            f"review queue: {self.queue} entries ({share:.1%} of {self.records:,} records)",
        ]


def pairs(clusters: dict[str, list[str]]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for members in clusters.values():
        ordered = sorted(members)
        for i, a in enumerate(ordered):
            out.update((a, b) for b in ordered[i + 1 :])
    return out


def grouped(assignment: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for record, cluster in assignment.items():
        out[cluster].append(record)
    return out


def measure(truth: dict[str, str], found: dict[str, str], queue: int) -> Quality:
    """truth and found: record id -> cluster id, over the same records."""
    true_groups, found_groups = grouped(truth), grouped(found)
    true_pairs, found_pairs = pairs(true_groups), pairs(found_groups)
    true_sets = {frozenset(m) for m in true_groups.values() if len(m) > 1}
    found_sets = {frozenset(m) for m in found_groups.values() if len(m) > 1}
    return Quality(
        records=len(truth),
        true_pairs=len(true_pairs),
        found_pairs=len(found_pairs),
        correct_pairs=len(true_pairs & found_pairs),
        true_clusters=len(true_sets),
        found_clusters=len(found_sets),
        exact_clusters=len(true_sets & found_sets),
        queue=queue,
    )


def wrong_merges(truth: dict[str, str], found: dict[str, str]) -> list[list[str]]:
    """Found clusters that join records of more than one true cluster."""
    return [sorted(m) for m in grouped(found).values() if len({truth[r] for r in m}) > 1]
