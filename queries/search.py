"""Search by what people type: accents, case and word order do not matter ("Modra" finds "Modrá", "dolni
brana" finds "Dolní Brána", "Heron Plant 2" finds "Silver Heron Assembly Plant 2").

A node matches when every word of the search text starts a word, folded, of its id, display name or one of the
other texts it is known by: a factory's address and OS ID, a company's aliases and LEI, an agency's
licence number, the name variants and ids a merged node keeps. Results come by type (factories, agencies,
companies, affiliates, findings, products, sources; contracts and contract items last), and within a
type the id itself first, then ids and names starting with the text, names holding it, the rest; then by
id in natural order (X2 before X10).

The searchable texts of every node but contracts and contract items are read once per generation and
kept (a few hundred bytes a node); contracts and items, which can number in the millions, are searched in
the store by id and title or description, lower-cased but not folded.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.stores.protocol import Store, ident
from supplygraph.queries.exposure_summary import natural_key

ORDER = ("Factory", "Agency", "Company", "Affiliate", "Finding", "Product", "Source", "Contract", "Item")
IN_STORE = ("Contract", "Item")  # searched by the store, not kept
ALSO_KNOWN_BY = ("address", "os_id", "aliases", "lei", "license_no", "name_variants", "merged_ids")
NOT_WORDS = re.compile(r"[^0-9a-z]+")
KEPT_GENERATIONS = 2


def fold(text: str) -> str:
    """Lower case without accents, every run of other characters one space: 'Dolní Brána 7/B' -> 'dolni brana 7 b'."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return NOT_WORDS.sub(" ", plain.casefold().replace("ß", "ss")).strip()


@dataclass(frozen=True)
class Entry:
    label: str
    id: str
    name: str | None
    country: str | None
    text: str  # every searchable text, folded, joined by " | ", after a space (a word starts after a space)
    folded_id: str
    folded_name: str


def _texts(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def _entries(store: Store, label: str, ids: Collection[str] | None = None) -> list[Entry]:
    """The searchable texts of every `label` node, or of those with `ids`."""
    display = SCHEMA.nodes[label].display
    if ids is None:
        rows = store.run(f"MATCH (n:{ident(label)}) RETURN n AS node")
    elif not ids:
        return []
    else:
        rows = store.run(f"MATCH (n:{ident(label)}) WHERE n.id IN $ids RETURN n AS node", {"ids": sorted(ids)})
    out = []
    for row in rows:
        node = row["node"]
        node_id = str(node["id"])
        name = None if node.get(display) is None else str(node[display])
        texts = [node_id, *(_texts(name)), *(t for key in ALSO_KNOWN_BY for t in _texts(node.get(key)))]
        country = node.get("country")
        out.append(Entry(label, node_id, name, None if country is None else str(country),
                         " " + " | ".join(fold(t) for t in texts), fold(node_id), fold(name or "")))
    return out


class SearchIndex:
    """The searchable texts of one generation's nodes, by label (built on first use, then kept)."""

    def __init__(self, store: Store) -> None:
        self.by_label = {label: _entries(store, label) for label in ORDER if label not in IN_STORE}


_kept: dict[tuple[str, str | None], SearchIndex] = {}
_lock = threading.Lock()


def index_for(store: Store) -> SearchIndex:
    """The index of the store's current generation (a store without generations gets a new one each time)."""
    generation = store.generation
    if generation is None:
        return SearchIndex(store)
    key = (str(store.data_folder or id(store)), generation)
    with _lock:
        found = _kept.get(key)
    if found is not None:
        return found
    made = SearchIndex(store)
    with _lock:
        _kept[key] = made
        while len(_kept) > KEPT_GENERATIONS:
            _kept.pop(next(iter(_kept)))
    return made


@dataclass
class Found:
    """One label's matches, best first: (label, id, name, country) each."""

    label: str
    items: list[tuple[str, str, str | None, str | None]]


IN_STORE_SEARCH = (
    "MATCH (n:{label}) WHERE toLower(n.id) CONTAINS $q OR toLower(n.{display}) CONTAINS $q"
    " RETURN n.id AS id, n.{display} AS name ORDER BY id LIMIT $limit"
)


def search(
    store: Store,
    text: str,
    labels: Sequence[str] | None = None,
    country: str | None = None,
    among: Mapping[str, Collection[str]] | None = None,
    in_store_limit: int = 1000,
) -> list[Found]:
    """Matches of `text` per label, in ORDER, of `labels` (default all) and `country` (an ISO code; nodes
    without a country are left out by it). With `among` (label -> ids), only those nodes are read and
    searched, nothing else: what an affiliate key may see. Empty text matches everything."""
    words = [" " + w for w in fold(text).split()]  # each must start a word: "2" is not in "12"
    wanted = [label for label in ORDER if labels is None or label in labels]
    whole = fold(text)
    index = None
    if among is None and any(label not in IN_STORE for label in wanted):
        index = index_for(store)
    out = []
    for label in wanted:
        if among is not None or label not in IN_STORE:
            if among is not None:
                pool = _entries(store, label, among.get(label, ()))
            else:
                assert index is not None
                pool = index.by_label[label]
            entries = [
                e for e in pool
                if all(w in e.text for w in words) and (country is None or (e.country or "").upper() == country.upper())
            ]
            entries.sort(key=lambda e: (rank(e, whole), natural_key(e.id)))
            items = [(label, e.id, e.name, e.country) for e in entries]
        else:
            if country is not None:
                continue  # contracts and items have no country
            items = _in_store(store, label, text, in_store_limit)
        if items:
            out.append(Found(label, items))
    return out


def rank(entry: Entry, whole: str) -> int:
    """0 the id itself, 1 an id starting with the text, 2 a name starting with it, 3 a name holding it, 4 the rest."""
    if entry.folded_id == whole:
        return 0
    if entry.folded_id.startswith(whole):
        return 1
    if entry.folded_name.startswith(whole):
        return 2
    return 3 if whole in entry.folded_name else 4


def _in_store(store: Store, label: str, text: str, limit: int) -> list[tuple[str, str, str | None, str | None]]:
    display = SCHEMA.nodes[label].display
    needle = text.strip().lower()
    if needle:
        query = IN_STORE_SEARCH.replace("{label}", ident(label)).replace("{display}", ident(display))
        rows = store.run(query, {"q": needle, "limit": limit})
    else:
        query = f"MATCH (n:{ident(label)}) RETURN n.id AS id, n.{ident(display)} AS name ORDER BY id LIMIT $limit"
        rows = store.run(query, {"limit": limit})
    return [(label, str(r["id"]), None if r["name"] is None else str(r["name"]), None) for r in rows]


def flat(found: Iterable[Found]) -> list[tuple[str, str, str | None, str | None]]:
    return [item for group in found for item in group.items]
