"""What people decided about resolution, kept in one JSON file beside the data and re-applied on every load:
accepted entries merge, rejected entries never do, a split takes records out of a node (an automatic merge
included) and a move puts a record into another node. All of it comes down to two kinds of links between
records: must (one thing) and cannot (two things)."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supplygraph.graph.stores.protocol import Store, TextDocument

DECISIONS = ("accept", "reject", "split", "move")


def pair_id(label: str, a: str, b: str) -> str:
    x, y = sorted((a, b))
    return hashlib.sha1(f"{label}\x00{x}\x00{y}".encode()).hexdigest()[:12]


def entry_id(label: str, members: list[str]) -> str:
    """A review entry's id: for two records the id of the pair (stable across loads), else of the record and
    its candidates."""
    if len(members) == 2:
        return pair_id(label, members[0], members[1])
    text = "\x00".join([label, members[0], *sorted(members[1:])])
    return hashlib.sha1(text.encode()).hexdigest()[:12]


@dataclass
class Links:
    """Must and cannot links per label, from the decisions."""

    musts: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    cannots: dict[str, dict[str, set[str]]] = field(default_factory=dict)

    def must(self, label: str) -> list[tuple[str, str]]:
        return self.musts.get(label, [])

    def cannot(self, label: str) -> dict[str, set[str]]:
        return self.cannots.setdefault(label, defaultdict(set))

    def add_cannot(self, label: str, a: str, b: str) -> None:
        if a != b:
            self.cannot(label)[a].add(b)
            self.cannot(label)[b].add(a)


def links(decided: dict[str, dict[str, Any]]) -> Links:
    out = Links()
    for d in decided.values():
        label, kind = d["label"], d["decision"]
        members = d.get("members") or [d.get("a"), d.get("b")]
        if kind == "accept":
            out.musts[label].extend((members[0], m) for m in members[1:])
        elif kind == "reject":
            for m in members[1:]:
                out.add_cannot(label, members[0], m)
        elif kind in ("split", "move"):
            for record in d["records"]:
                for other in d["rest"]:
                    out.add_cannot(label, record, other)
            if kind == "move":
                out.musts[label].extend((record, d["node"]) for record in d["records"])
    return out


@dataclass
class Decisions:
    """The decisions, and the review queue of the last load, in one JSON file."""

    path: Path | TextDocument | None = None
    decided: dict[str, dict[str, Any]] = field(default_factory=dict)
    queue: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path | TextDocument | None) -> Decisions:
        if path is None or not path.exists():
            return cls(path)
        data = json.loads(path.read_text())
        return cls(path, data.get("decisions", {}), data.get("queue", []))

    def save(self) -> None:
        if self.path is None:
            return
        if not isinstance(self.path, Path):  # a server store's document: replaced in one transaction
            self.path.write_text(json.dumps({"decisions": self.decided, "queue": self.queue}, indent=1, sort_keys=True))
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"decisions": self.decided, "queue": self.queue}, indent=1, sort_keys=True))
        tmp.replace(self.path)

    def links(self) -> Links:
        return links(self.decided)

    def decide(self, match_id: str, decision: str) -> dict[str, Any]:
        """Accept or reject a queued entry (a pair, or a record with all its candidates) as a whole."""
        found = next((m for m in self.queue if m["id"] == match_id), None) or self.decided.get(match_id)
        if found is None or "a" not in found:
            raise KeyError(match_id)
        keys = ("id", "label", "a", "b", "members", "score", "names")
        entry: dict[str, Any] = {k: found[k] for k in keys if k in found}
        self.decided[match_id] = {**entry, "decision": decision}
        self.queue = [m for m in self.queue if m["id"] != match_id]
        return self.decided[match_id]

    def split(self, label: str, node: str, members: list[str], records: list[str], to: str | None = None) -> dict:
        """Take records out of a node (its members as the last load made it); with `to`, into that node."""
        rest = [m for m in members if m not in records]
        kind = "move" if to else "split"
        text = "\x00".join([kind, label, node, *sorted(records), to or ""])
        decision_id = hashlib.sha1(text.encode()).hexdigest()[:12]
        entry = {"id": decision_id, "label": label, "decision": kind, "node": to or node, "from": node,
                 "records": sorted(records), "rest": sorted(rest)}  # fmt: skip
        self.decided[decision_id] = entry
        return entry


def matches_file(store: Store) -> Path | TextDocument:
    """Where a store's review decisions live (its data folder, or for a server store the local data folder)."""
    return store.decisions_file
