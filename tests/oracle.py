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
    "brand_sites",
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


# ---------------------------------------------------------------- version 1.1 ("Exposure with a basis")
# Written again from the spec's words, plainly: no product code. Bases strongest first.

BASES = ["disclosed", "matched", "brand_list"]
CPV_TABLE = {
    "30213100": "notebook", "30213200": "tablet", "30213000": "desktop", "30213300": "desktop",
    "30214000": "workstation", "48820000": "server", "30231300": "monitor", "30231310": "monitor",
    "30120000": "mfd", "30121000": "mfd", "30121100": "mfd", "30232110": "mfd", "32250000": "phone",
}


def words(text: str | None) -> list[str]:
    """Runs of letters and digits, as ASCII, lower-cased (the oracle's own simple transliteration)."""
    import re
    import unicodedata

    out = []
    for run in re.findall(r"[^\W_]+", text or ""):
        ascii_run = unicodedata.normalize("NFKD", run).encode("ascii", "ignore").decode().lower()
        ascii_run = re.sub(r"[^a-z0-9]", "", ascii_run)
        if ascii_run:
            out.append(ascii_run)
    return out


def name_occurs(name: str, description: str) -> bool:
    want = "".join(words(name))
    text = words(description)
    if not want:
        return False
    return any("".join(text[i:j]) == want for i in range(len(text)) for j in range(i + 1, len(text) + 1))


def cpv_to_category(cpv: str | None) -> str | None:
    for code in (cpv or "").split("|"):
        digits = code.strip()[:8]
        if len(digits) < 8 or not digits.isdigit():
            continue
        best = None
        for listed, cat in CPV_TABLE.items():
            stem = listed.rstrip("0")
            if digits.startswith(stem) and (best is None or len(stem) > len(best[0])):
                best = (stem, cat)
        if best:
            return best[1]
    return None


def company_names(company: dict) -> list[str]:
    return [n for n in [_v(company, "name"), *(_v(company, "aliases") or "").split("|")] if n and n.strip()]


def items_of(rows, decisions: dict[tuple[str, str], str] | None = None) -> dict[str, dict]:
    """item id -> {contract, product, basis (of its item -> product link), brand, brand_from, category}."""
    decisions = decisions or {}
    companies = {_v(c, "company_id"): c for c in rows.get("companies", [])}
    products = {_v(p, "product_id"): p for p in rows.get("products", [])}
    contracts = {_v(c, "contract_id"): c for c in rows.get("contracts", [])}
    out: dict[str, dict] = {}
    count: dict[str, int] = {}
    for row in rows.get("contract_items", []):
        contract = _v(row, "contract_id")
        count[contract] = count.get(contract, 0) + 1
        item = _v(row, "item_id") or f"{contract}#{count[contract]}"
        product, basis = _v(row, "product_id"), None
        if product:
            basis = "disclosed"
        else:
            accepted = sorted(p for (i, p), d in decisions.items() if i == item and d == "accept")
            rejected = {p for (i, p), d in decisions.items() if i == item and d == "reject"}
            if accepted:
                product, basis = accepted[0], "disclosed"
            else:
                desc = _v(row, "description") or ""
                candidates = [
                    p for pid, p in products.items()
                    if pid not in rejected
                    and any(name_occurs(n, desc) for n in company_names(companies.get(_v(p, "brand_id"), {})))
                    and name_occurs(_v(p, "model") or "", desc)
                ]
                if candidates:
                    most = max(len(words(_v(p, "model"))) for p in candidates)
                    top = [p for p in candidates if len(words(_v(p, "model"))) == most]
                    if len(top) == 1:
                        product, basis = _v(top[0], "product_id"), "matched"
        brand, brand_from = None, None
        if product and _v(products.get(product, {}), "brand_id"):
            brand, brand_from = _v(products[product], "brand_id"), "product"
        else:
            want = "".join(words(_v(row, "brand_name")))
            named = [c for c in companies.values() if want and any("".join(words(n)) == want for n in company_names(c))]
            if named:
                named.sort(key=lambda c: ("brand" not in (_v(c, "roles") or "").split("|"), _v(c, "company_id")))
                brand, brand_from = _v(named[0], "company_id"), "brand_name"
            else:
                lengths = {}
                for c in companies.values():
                    if "brand" in (_v(c, "roles") or "").split("|"):
                        hits = [len("".join(words(n))) for n in company_names(c) if name_occurs(n, _v(row, "description") or "")]
                        if hits:
                            lengths[_v(c, "company_id")] = max(hits)
                top = [c for c, n in lengths.items() if lengths and n == max(lengths.values())]
                if len(top) == 1:
                    brand, brand_from = top[0], "description"
                else:
                    supplier = _v(contracts.get(contract, {}), "supplier_id")
                    if not top and supplier and "brand" in (_v(companies.get(supplier, {}), "roles") or "").split("|"):
                        brand, brand_from = supplier, "supplier"
        category = (
            _v(row, "category")
            or _v(products.get(product or "", {}), "category")
            or cpv_to_category(_v(row, "cpv"))
            or cpv_to_category(_v(contracts.get(contract, {}), "cpv"))
            or "other"
        )
        out[item] = {"contract": contract, "product": product, "basis": basis, "brand": brand,
                     "brand_from": brand_from, "category": category}
    return out


def bought_items(rows, items: dict[str, dict], affiliate_id: str, day: date) -> set[str]:
    contracts = [c for c in rows.get("contracts", []) if contract_active(c, day)]
    held = {_v(c, "contract_id") for c in contracts if _v(c, "affiliate_id") == affiliate_id}
    buying = {_v(c, "contract_id") for c in contracts if _v(c, "contract_id") in held or _v(c, "framework_id") in held}
    return {i for i, it in items.items() if it["contract"] in buying}


def exposure_oracle_11(rows, affiliate_id: str, day: date, depth: int = 4, decisions=None) -> dict:
    """factories: id -> (tier, basis); agencies and findings: id -> basis; gaps: item -> brand whose list
    gave it a brand_list exposure (or None). A basis b's answer is the walk over links of basis b or stronger."""
    items = items_of(rows, decisions)
    bought = bought_items(rows, items, affiliate_id, day)
    assembly = [a for a in rows.get("assembly", []) if active(a, day)]
    assembled = {_v(a, "product_id") for a in assembly}
    sites = [s for s in rows.get("brand_sites", []) if active(s, day)]
    supply: dict[str, set[str]] = {}
    for s in rows.get("supply", []):
        if active(s, day):
            supply.setdefault(_v(s, "buyer_factory_id"), set()).add(_v(s, "supplier_factory_id"))
    # the links from the affiliate into the factories: (tier, factory, basis of the link)
    entries: list[tuple[int, str, str]] = []
    listed: dict[str, str | None] = {}
    for i in bought:
        it = items[i]
        if it["product"]:
            entries += [(1, _v(a, "factory_id"), it["basis"]) for a in assembly if _v(a, "product_id") == it["product"]]
        if it["product"] in assembled:
            continue
        listed[i] = None
        for s in sites:
            if _v(s, "brand_id") == it["brand"] and _v(s, "category") in (None, it["category"]):
                listed[i] = it["brand"]
                tier = 2 if _v(s, "role") == "component" else 1
                entries.append((tier, _v(s, "factory_id"), "brand_list"))
    factories: dict[str, tuple[int, str]] = {}
    agencies: dict[str, str] = {}
    findings: dict[str, str] = {}
    operators = {_v(f, "factory_id"): _v(f, "operator_id") for f in rows.get("factories", [])}
    for k, basis in enumerate(BASES):
        allowed = set(BASES[: k + 1])
        tiers: dict[str, int] = {}
        for tier in range(1, depth + 1):  # breadth first, tier by tier
            frontier = [f for f, t in tiers.items() if t == tier - 1]
            new = {f for t, f, b in entries if t == tier and b in allowed}
            new |= {g for f in frontier for g in supply.get(f, ())}
            for f in sorted(new):
                tiers.setdefault(f, tier)
        for f, t in tiers.items():
            factories.setdefault(f, (t, basis))
        for ag in agency_hops(rows, set(tiers), day):
            agencies.setdefault(ag, basis)
        companies = {operators.get(f) for f in tiers} - {None}
        for i in bought:
            it = items[i]
            if it["brand"] and ((it["brand_from"] == "product" and it["basis"] in allowed) or basis == "brand_list"):
                companies.add(it["brand"])
        subjects = {"factory": set(tiers), "agency": set(agency_hops(rows, set(tiers), day)), "company": companies}
        for fi in rows.get("findings", []):
            if finding_open(fi, day) and _v(fi, "subject_id") in subjects.get(_v(fi, "subject_type"), set()):
                findings.setdefault(_v(fi, "finding_id"), basis)
    return {"factories": factories, "agencies": agencies, "findings": findings, "gaps": listed}
