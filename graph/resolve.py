"""One entity per real thing: find records of the same company, factory, agency, affiliate or product across
sources, and rewrite their ids in the canonical tables before graph.records merges them.

1. Strong identifiers join records outright: OS ID (factories), LEI, OCDS identifier scheme+id and registration
   numbers (companies, affiliates), licence number + country (agencies); products by brand and model.
2. Then names: normalised with `fingerprints` (legal forms such as "Co., Ltd." / "Company Limited" fold to one
   form and are dropped, transliterated to ASCII), compared with rapidfuzz within the same country, blended with
   address similarity when both sides have one; different numbers in names (Plant 1 / Plant 2) cap the score.
   Score >= 0.8 with exactly one candidate merges automatically; 0.5-0.8 (or several candidates) is queued for
   review (each record's best candidates only). Records of one input are never compared with each other when
   their ids are a statement that they are different things (a bundle's ids, OS IDs, LEIs, OCDS identifiers);
   a loader's records known only by a name are.
3. Decisions (`supplygraph matches accept|reject`) are kept in a JSON file beside the data and re-applied on
   every load: accepted pairs merge, rejected pairs never do.

A merged node keeps the id of the user's own bundle where there is one, and lists `merged_ids`,
`name_variants` and `source_records` of every record merged into it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import fingerprints
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz

from graph.schema import SCHEMA

AUTO, REVIEW = 0.8, 0.5
LABELS = ("Company", "Factory", "Agency", "Affiliate")
LEGAL = set(
    "co ltd llc inc corp company limited gmbh ag sa srl sro as plc pvt pte bv nv jsc pjsc oao ooo zao "
    "tnhh cong ty pt tbk bhd sdn kk kabushiki kaisha spa spol the of and group holdings holding".split()
)
DIGITS = re.compile(r"\d+")
Bundles = list[tuple[str, dict[str, pa.Table]]]


@cache
def name_key(name: str) -> str:
    """The comparable form of a name: fingerprinted, ASCII, legal forms dropped, tokens sorted."""
    text = fingerprints.generate(name) or ""
    tokens = [t for t in text.split() if t not in LEGAL]
    return " ".join(sorted(tokens)) or text


@cache
def addr_key(address: str) -> str:
    return " ".join(sorted((fingerprints.generate(address) or "").split()))


def score(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Similarity of two records (name, country, address) in [0, 1]; 0 for different countries."""
    if a.get("country") and b.get("country") and a["country"] != b["country"]:
        return 0.0
    na, nb = name_key(a.get("name") or ""), name_key(b.get("name") or "")
    if not na or not nb:
        return 0.0
    s = fuzz.token_sort_ratio(na, nb) / 100
    if set(DIGITS.findall(na)) != set(DIGITS.findall(nb)):
        s = min(s, 0.79 if s >= 0.95 else 0.6)  # Plant 1 and Plant 2 are two plants
    if a.get("address") and b.get("address"):
        aa, ab = addr_key(a["address"]), addr_key(b["address"])
        s = 0.75 * s + 0.25 * (fuzz.token_set_ratio(aa, ab) / 100)
        if DIGITS.search(aa) and DIGITS.search(ab) and set(DIGITS.findall(aa)) != set(DIGITS.findall(ab)):
            s = min(s, 0.79)  # another house number is another place
    elif not (a.get("country") and b.get("country")):
        s *= 0.9
    return round(s, 4)


def pair_id(label: str, a: str, b: str) -> str:
    x, y = sorted((a, b))
    return hashlib.sha1(f"{label}\x00{x}\x00{y}".encode()).hexdigest()[:12]


@dataclass
class Decisions:
    """Accepted and rejected pairs, and the review queue of the last load, in one JSON file."""

    path: Path | None = None
    decided: dict[str, dict[str, Any]] = field(default_factory=dict)
    queue: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path | None) -> Decisions:
        if path is None or not path.exists():
            return cls(path)
        data = json.loads(path.read_text())
        return cls(path, data.get("decisions", {}), data.get("queue", []))

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"decisions": self.decided, "queue": self.queue}, indent=2, sort_keys=True))
        tmp.replace(self.path)

    def decide(self, match_id: str, decision: str) -> dict[str, Any]:
        found = next((m for m in self.queue if m["id"] == match_id), None) or self.decided.get(match_id)
        if found is None:
            raise KeyError(match_id)
        entry: dict[str, Any] = {k: found[k] for k in ("id", "label", "a", "b", "score", "names") if k in found}
        self.decided[match_id] = {**entry, "decision": decision}
        self.queue = [m for m in self.queue if m["id"] != match_id]
        return self.decided[match_id]


def matches_file(store: Any) -> Path:
    """Where a store's decisions live: its data folder, or for a server store the local data folder."""
    root = getattr(store, "root", None)
    if root is not None:
        return Path(root) / "matches.json"
    from graph.settings import Settings

    return Path(Settings().db) / f"matches-{getattr(store, 'database', 'neo4j')}.json"


class _Union:
    """Union-find that never puts two records of one CSV bundle (two ids it declares distinct) together."""

    def __init__(self, recs: dict[str, dict[str, Any]]) -> None:
        self.parent: dict[str, str] = {}
        self.groups: dict[str, set[str]] = {rid: {r["group"]} for rid, r in recs.items()}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if self.groups[ra] & self.groups[rb]:
            return False
        self.parent[ra] = rb
        self.groups[rb] |= self.groups.pop(ra)
        return True


def _records(bundles: Bundles, label: str) -> dict[str, dict[str, Any]]:
    """Original id -> what resolution needs to know about it (the last non-empty value of each field)."""
    stem = SCHEMA.nodes[label].file.removesuffix(".csv")
    out: dict[str, dict[str, Any]] = {}
    wanted = (
        "name",
        "country",
        "address",
        "os_id",
        "lei",
        "identifier_scheme",
        "identifier_id",
        "registration_numbers",
        "license_no",
        "source_format",
        "brand_id",
        "model",
    )
    for order, (_bundle, tables) in enumerate(bundles):
        table = tables.get(stem)
        if table is None:
            continue
        cols = {c: table.column(c).to_pylist() for c in wanted if c in table.column_names}
        for i, rid in enumerate(table.column("id").to_pylist()):
            rec = out.setdefault(rid, {"id": rid, "order": order, "names": [], "group": f"{order}"})
            for c, values in cols.items():
                if values[i] is not None:
                    rec[c] = values[i]
            if rec.get("name") and rec["name"] not in rec["names"]:
                rec["names"].append(rec["name"])
            rec["group"] = f"{order}"
    for rid, rec in out.items():  # a loader's record known only by name may be a duplicate within its input
        if "source_format" in rec and not _strong_keys(label, rec):
            rec["group"] = f"{rec['order']}:{rid}"
    return out


def _strong_keys(label: str, rec: dict[str, Any]) -> list[str]:
    keys = []
    if rec.get("os_id") and re.match(r"^[A-Z]{2}[0-9]{7}[A-Z0-9]{6}$", re.sub(r"[\s-]", "", rec["os_id"]).upper()):
        keys.append("os:" + re.sub(r"[\s-]", "", rec["os_id"]).upper())
    if rec.get("lei"):
        keys.append("lei:" + rec["lei"].upper())
    if rec.get("identifier_scheme") and rec.get("identifier_id"):
        keys.append(f"org:{rec['identifier_scheme']}-{rec['identifier_id']}".upper())
    for number in (rec.get("registration_numbers") or "").split("|"):
        if number and rec.get("country"):
            keys.append(f"reg:{rec['country']}:{number.upper()}")
    if rec.get("license_no") and rec.get("country"):
        keys.append(f"lic:{rec['country']}:{rec['license_no'].upper()}")
    if label == "Product" and rec.get("brand_id") and rec.get("model"):
        keys.append(f"model:{rec['brand_id']}:{name_key(rec['model'])}")
    return keys


def find_matches(label: str, recs: dict[str, dict[str, Any]], decisions: Decisions) -> tuple[_Union, list[dict]]:
    """Union of the records that are one thing, and the pairs to review."""
    union = _Union(recs)
    rejected = {k for k, d in decisions.decided.items() if d["decision"] == "reject"}
    by_key: dict[str, str] = {}
    for rid, rec in recs.items():
        for key in _strong_keys(label, rec):
            if key in by_key and recs[by_key[key]]["group"] != rec["group"]:
                if pair_id(label, rid, by_key[key]) not in rejected:
                    union.union(rid, by_key[key])
            by_key.setdefault(key, rid)
    for d in decisions.decided.values():
        if d["decision"] == "accept" and d["label"] == label and d["a"] in recs and d["b"] in recs:
            union.union(d["a"], d["b"])
    review: dict[str, dict] = {}
    if label == "Product":
        return union, []
    blocks: dict[str, list[str]] = defaultdict(list)
    for rid, rec in recs.items():
        for token in set(name_key(rec.get("name") or "").split()):
            if len(token) > 2 and not token.isdigit():
                blocks[token].append(rid)
    candidates: dict[str, dict[str, float]] = defaultdict(dict)
    for ids in blocks.values():
        if len(ids) > 200:  # a token shared by everything says nothing
            continue
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                ra, rb = recs[a], recs[b]
                if ra["group"] == rb["group"] or b in candidates[a] or union.find(a) == union.find(b):
                    continue
                s = score(ra, rb)
                candidates[a][b] = candidates[b][a] = s
    for a, found in candidates.items():
        for b, s in found.items():
            if a > b or s < REVIEW or pair_id(label, a, b) in rejected or union.find(a) == union.find(b):
                continue
            # "one candidate": a has one strong match in b's source, and b one in a's
            strong_a = sum(1 for c, v in candidates[a].items() if v >= AUTO and recs[c]["order"] == recs[b]["order"])
            strong_b = sum(1 for c, v in candidates[b].items() if v >= AUTO and recs[c]["order"] == recs[a]["order"])
            if s >= AUTO and strong_a == 1 and strong_b == 1 and union.union(a, b):
                continue
            if s < max(candidates[a].values()) and s < max(candidates[b].values()):
                continue  # only each record's best candidates are worth a reviewer's time
            pid = pair_id(label, a, b)
            names = [recs[a].get("name"), recs[b].get("name")]
            review[pid] = {"id": pid, "label": label, "a": a, "b": b, "score": s, "names": names}
    # a pair that can no longer merge (already one, or each side holds a record of the same bundle) is moot
    return union, [
        r for r in review.values() if not union.groups[union.find(r["a"])] & union.groups[union.find(r["b"])]
    ]


def _canonical(members: list[dict[str, Any]]) -> str:
    """The id a merged node keeps: the user's own bundle id first, then the earliest loaded."""
    return min(members, key=lambda r: ("source_format" in r, r["order"], r["id"]))["id"]


def resolve_entities(bundles: Bundles, decisions: Decisions) -> tuple[Bundles, list[dict[str, Any]]]:
    """Bundles with the ids of one real thing rewritten to one id; and the review queue."""
    queue: list[dict[str, Any]] = []
    for label in (*LABELS, "Product"):  # products last: their brands are resolved by then
        recs = _records(bundles, label)
        if len({r["group"] for r in recs.values()}) < 2:
            continue
        union, review = find_matches(label, recs, decisions)
        queue.extend(review)
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for rid, rec in recs.items():
            groups[union.find(rid)].append(rec)
        mapping: dict[str, str] = {}
        extra: dict[str, dict[str, str]] = {}
        for members in groups.values():
            if len(members) < 2:
                continue
            keep = _canonical(members)
            names = sorted({n for m in members for n in m["names"]})
            ids = sorted(m["id"] for m in members)
            for m in members:
                mapping[m["id"]] = keep
            extra[keep] = {"merged_ids": "|".join(ids), "name_variants": "|".join(names)}
        if mapping:
            bundles = _rewrite(bundles, label, mapping, extra)
    bundles, review = _listings(bundles, decisions)
    queue.extend(review)
    return bundles, sorted(queue, key=lambda r: (-r["score"], r["id"]))


def _listings(bundles: Bundles, decisions: Decisions) -> tuple[Bundles, list[dict[str, Any]]]:
    """A listed company (FollowTheMoney entity on a sanctions or forced-labour list) that is also a factory or an
    agency of the graph: its listing findings are repeated on that factory or agency (subject_type factory or
    agency), so that exposure answers show the risk wherever the listed entity sits in a supply chain. Matching as
    for entities of one type: the same registration/licence number, or name, country and address scored; an
    automatic match needs 0.8 or more with one candidate; 0.5-0.8 goes to the review queue (label `Listing`)."""
    listed = _listed(bundles)
    if not listed:
        return bundles, []
    decided = {k: d["decision"] for k, d in decisions.decided.items() if d["label"] == "Listing"}
    targets = {label: _records(bundles, label) for label in ("Factory", "Agency")}
    index: dict[str, list[tuple[str, str]]] = defaultdict(list)
    numbers: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for label, recs in targets.items():
        for rid, rec in recs.items():
            for token in set(name_key(rec.get("name") or "").split()):
                if len(token) > 2 and not token.isdigit():
                    index[token].append((label, rid))
            if rec.get("license_no") and rec.get("country"):
                numbers[f"{rec['country']}:{rec['license_no'].upper()}"].append((label, rid))
    matched: dict[tuple[int, str], list[tuple[str, str, float]]] = defaultdict(list)
    review = []
    for (order, cid), rec in listed.items():
        scores: dict[tuple[str, str], float] = {}
        for number in (rec.get("registration_numbers") or "").split("|"):
            for hit in numbers.get(f"{rec.get('country')}:{number.upper()}", []) if number else []:
                scores[hit] = 1.0
        for token in set(name_key(rec.get("name") or "").split()):
            for hit in index.get(token, [])[:200]:
                if hit not in scores:
                    scores[hit] = score(rec, targets[hit[0]][hit[1]])
        strong = [hit for hit, s in scores.items() if s >= AUTO]
        for (label, rid), s in scores.items():
            pid = pair_id("Listing", cid, rid)
            if decided.get(pid) == "reject" or (s < REVIEW and decided.get(pid) != "accept"):
                continue
            if decided.get(pid) == "accept" or (s >= AUTO and len(strong) == 1):
                matched[(order, cid)].append((label, rid, s))
            elif s >= max(scores.values()) or s >= AUTO:
                names = [rec.get("name"), targets[label][rid].get("name")]
                review.append({"id": pid, "label": "Listing", "a": cid, "b": rid, "score": s, "names": names})
    return (_add_listing_findings(bundles, matched) if matched else bundles), review


def _listed(bundles: Bundles) -> dict[tuple[int, str], dict[str, Any]]:
    """(bundle position, company id) -> name, country, address, registration numbers of listed companies."""
    out = {}
    for order, (_bundle, tables) in enumerate(bundles):
        table = tables.get("companies")
        if table is None or "listed" not in table.column_names:
            continue
        wanted = [
            c for c in ("id", "name", "country", "address", "registration_numbers", "listed") if c in table.column_names
        ]
        for row in table.filter(pc.is_valid(table.column("listed"))).select(wanted).to_pylist():
            out[(order, row["id"])] = row
    return out


def _add_listing_findings(bundles: Bundles, matched: dict[tuple[int, str], list[tuple[str, str, float]]]) -> Bundles:
    out: Bundles = []
    for order, (bundle, tables) in enumerate(bundles):
        findings = tables.get("findings")
        ours = {cid: hits for (o, cid), hits in matched.items() if o == order}
        if not ours or findings is None or "subject_id" not in findings.column_names:
            out.append((bundle, tables))
            continue
        new = []
        for row in findings.to_pylist():
            if row.get("subject_type") != "company" or row.get("subject_id") not in ours:
                continue
            for label, rid, s in ours[row["subject_id"]]:
                kind = label.lower()
                new.append(
                    {
                        **row,
                        "id": f"{row['id']}@{rid}",
                        "subject_type": kind,
                        "subject_id": rid,
                        "summary": f"{row.get('summary') or row['id']} (matched to {kind} {rid}, score {s:.2f})",
                        "listing_match": f"{row['subject_id']}={rid}@{s:.2f}",
                    }
                )
        if not new:
            out.append((bundle, tables))
            continue
        schema = findings.schema
        if "listing_match" not in schema.names:
            schema = schema.append(pa.field("listing_match", pa.string()))
        added = pa.Table.from_pylist(new, schema=schema)
        out.append((bundle, {**tables, "findings": pa.concat_tables([findings, added], promote_options="default")}))
    return out


def _replace(column: pa.ChunkedArray | pa.Array, mapping: dict[str, str]) -> pa.Array:
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_list(column.type):
        flat = _replace(pc.list_flatten(column), mapping)
        return pa.ListArray.from_arrays(column.offsets, flat, mask=pc.is_null(column))
    keys = pa.array(list(mapping), pa.string())
    index = pc.index_in(column, value_set=keys)
    new = pc.take(pa.array(list(mapping.values()), pa.string()), index)
    return pc.if_else(pc.is_null(index), column, new)


def _rewrite(bundles: Bundles, label: str, mapping: dict[str, str], extra: dict[str, dict[str, str]]) -> Bundles:
    stem = SCHEMA.nodes[label].file.removesuffix(".csv")
    refs = [r for r in SCHEMA.references if r.target == label]
    out: Bundles = []
    for bundle, tables in bundles:
        tables = dict(tables)
        if stem in tables:
            table = tables[stem]
            ids = _replace(table.column("id"), mapping)
            table = table.set_column(table.column_names.index("id"), "id", ids)
            for col in ("merged_ids", "name_variants"):
                values = pa.array([extra.get(i, {}).get(col) for i in ids.to_pylist()], pa.string())
                if col in table.column_names:
                    table = table.drop_columns([col])
                table = table.append_column(col, values)
            tables[stem] = table
        for ref in refs:
            ref_stem = SCHEMA.nodes[ref.node].file.removesuffix(".csv")
            if ref_stem in tables and ref.column in tables[ref_stem].column_names:
                t = tables[ref_stem]
                col = t.column(ref.column)
                new = _replace(col, mapping)
                if ref.when is not None:
                    keep = pc.equal(t.column("subject_type"), ref.when)
                    new = pc.if_else(pc.fill_null(keep, False), new, col.combine_chunks())
                tables[ref_stem] = t.set_column(t.column_names.index(ref.column), ref.column, new)
        for name, link in SCHEMA.links.items():
            if name not in tables:
                continue
            t = tables[name]
            for end, col in ((link.source, "from_id"), (link.target, "to_id")):
                if end.node == label:
                    t = t.set_column(t.column_names.index(col), col, _replace(t.column(col), mapping))
            tables[name] = t
        out.append((bundle, tables))
    return out
