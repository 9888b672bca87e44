"""Independent test oracle for exposure semantics of the disclosure bundle.

Written only from /work/shared/spec/bundle-format.md ("What the graph means").
Deliberately plain and slow: no product code is imported here.
"""

from __future__ import annotations

import csv
from collections import deque
from datetime import date
from pathlib import Path

TABLES = [
    "sources",
    "affiliates",
    "companies",
    "contracts",
    "products",
    "contract_items",
    "factories",
    "assembly",
    "supply",
    "agencies",
    "placements",
    "agency_links",
    "findings",
]


def read_bundle(folder: Path) -> dict[str, list[dict[str, str]]]:
    """Every known table -> list of rows (column -> stripped str, "" = unknown)."""
    out: dict[str, list[dict[str, str]]] = {}
    for name in TABLES:
        path = Path(folder) / f"{name}.csv"
        rows: list[dict[str, str]] = []
        if path.exists():
            with open(path, newline="", encoding="utf-8-sig") as fh:
                for row in csv.DictReader(fh):
                    rows.append({k.strip(): (v or "").strip() for k, v in row.items() if k is not None})
        out[name] = rows
    return out


def _v(row: dict, key: str) -> str | None:
    """Cell value, None when empty or missing (empty cell = unknown)."""
    val = row.get(key)
    if val is None:
        return None
    val = str(val).strip()
    return val or None


def _d(row: dict, key: str) -> date | None:
    val = _v(row, key)
    return date.fromisoformat(val) if val else None


def active(row: dict, day: date, start: str = "valid_from", end: str = "valid_to") -> bool:
    s, e = _d(row, start), _d(row, end)
    return (s is None or s <= day) and (e is None or e >= day)


def contract_active(row: dict, day: date) -> bool:
    return active(row, day, "start_date", "end_date")


def finding_open(row: dict, day: date) -> bool:
    rep, closed = _d(row, "reported_on"), _d(row, "closed_on")
    if rep is not None and rep > day:
        return False
    if closed is not None:
        return closed > day
    return _v(row, "status") != "remediated"


def bought_products(rows, affiliate_id: str, day: date) -> set[str]:
    contracts = [c for c in rows.get("contracts", []) if contract_active(c, day)]
    items: dict[str, set[str]] = {}
    for it in rows.get("contract_items", []):
        items.setdefault(_v(it, "contract_id"), set()).add(_v(it, "product_id"))
    held = {_v(c, "contract_id") for c in contracts if _v(c, "affiliate_id") == affiliate_id}
    bought: set[str] = set()
    for c in contracts:
        cid = _v(c, "contract_id")
        if cid in held or _v(c, "framework_id") in held:  # own contract / call-off of own framework
            bought |= items.get(cid, set())
    return bought


def factory_tiers(rows, products: set[str], day: date, depth: int = 4) -> dict[str, int]:
    """factory_id -> smallest tier (1 = assembly) for the given bought products."""
    tiers: dict[str, int] = {}
    queue: deque[str] = deque()
    if depth < 1:
        return tiers
    for a in rows.get("assembly", []):
        f = _v(a, "factory_id")
        if _v(a, "product_id") in products and active(a, day) and f not in tiers:
            tiers[f] = 1
            queue.append(f)
    edges: dict[str, set[str]] = {}
    for s in rows.get("supply", []):
        if active(s, day):
            edges.setdefault(_v(s, "buyer_factory_id"), set()).add(_v(s, "supplier_factory_id"))
    while queue:
        f = queue.popleft()
        if tiers[f] >= depth:
            continue
        for g in edges.get(f, ()):
            if g not in tiers:
                tiers[g] = tiers[f] + 1
                queue.append(g)
    return tiers


def agency_hops(rows, factories: set[str], day: date, max_hops: int = 3) -> dict[str, int]:
    """agency_id -> fewest agency links from an agency placed at one of the factories."""
    hops: dict[str, int] = {}
    queue: deque[str] = deque()
    for p in rows.get("placements", []):
        ag = _v(p, "agency_id")
        if _v(p, "factory_id") in factories and active(p, day) and ag not in hops:
            hops[ag] = 0
            queue.append(ag)
    edges: dict[str, set[str]] = {}
    for link in rows.get("agency_links", []):
        if active(link, day):
            edges.setdefault(_v(link, "agency_id"), set()).add(_v(link, "subagent_id"))
    while queue:
        ag = queue.popleft()
        if hops[ag] >= max_hops:
            continue
        for sub in edges.get(ag, ()):
            if sub not in hops:
                hops[sub] = hops[ag] + 1
                queue.append(sub)
    return hops


def exposure_oracle(rows, affiliate_id: str, as_of: date, depth: int = 4) -> dict:
    products = bought_products(rows, affiliate_id, as_of)
    assembled = {_v(a, "product_id") for a in rows.get("assembly", []) if active(a, as_of)}
    factories = factory_tiers(rows, products, as_of, depth)
    agencies = set(agency_hops(rows, set(factories), as_of))
    operators = {_v(f, "operator_id") for f in rows.get("factories", []) if _v(f, "factory_id") in factories} - {None}
    brands = {_v(p, "brand_id") for p in rows.get("products", []) if _v(p, "product_id") in products} - {None}
    subjects = {"factory": set(factories), "agency": agencies, "company": operators | brands}
    findings = {
        _v(f, "finding_id")
        for f in rows.get("findings", [])
        if finding_open(f, as_of) and _v(f, "subject_id") in subjects.get(_v(f, "subject_type"), set())
    }
    return {"factories": factories, "agencies": agencies, "findings": findings, "gaps": products - assembled}


def all_affiliates(rows) -> set[str]:
    ids = {_v(a, "affiliate_id") for a in rows.get("affiliates", [])}
    ids |= {_v(c, "affiliate_id") for c in rows.get("contracts", [])}
    return ids - {None}


def exposed_affiliates_oracle(rows, kind: str, item_id: str, as_of: date, depth: int = 4) -> set[str]:
    key = {"factory": "factories", "agency": "agencies", "finding": "findings"}[kind]
    return {a for a in all_affiliates(rows) if item_id in exposure_oracle(rows, a, as_of, depth)[key]}
