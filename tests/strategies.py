"""Hypothesis strategies that draw small, valid disclosure bundles.

Written only from /work/shared/spec/bundle-format.md. A bundle is
``dict[table name without .csv, list[row]]``, row = column -> str ("" = unknown).
Dates come from a coarse grid (quarter starts 2020..2026) so that query dates
land on link/contract/finding boundaries often.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

from hypothesis import strategies as st

COLUMNS: dict[str, list[str]] = {
    "sources": ["source_id", "title", "url", "published_on", "kind"],
    "affiliates": ["affiliate_id", "name", "country", "kind", "parent_id"],
    "companies": ["company_id", "name", "country", "lei", "roles"],
    "contracts": [
        "contract_id",
        "affiliate_id",
        "supplier_id",
        "title",
        "start_date",
        "end_date",
        "value",
        "currency",
        "cpv",
        "framework_id",
    ],
    "products": ["product_id", "brand_id", "model", "category"],
    "contract_items": ["contract_id", "product_id", "quantity", "value"],
    "factories": ["factory_id", "name", "country", "address", "lat", "lng", "os_id", "operator_id", "workers"],
    "assembly": ["product_id", "factory_id", "valid_from", "valid_to", "source_id"],
    "supply": ["supplier_factory_id", "buyer_factory_id", "component", "valid_from", "valid_to", "source_id"],
    "agencies": ["agency_id", "name", "country", "license_no", "owner_id"],
    "placements": ["agency_id", "factory_id", "worker_origin", "workers", "valid_from", "valid_to", "source_id"],
    "agency_links": ["agency_id", "subagent_id", "valid_from", "valid_to", "source_id"],
    "findings": [
        "finding_id",
        "subject_type",
        "subject_id",
        "category",
        "severity",
        "status",
        "reported_on",
        "closed_on",
        "monitor",
        "summary",
        "source_id",
    ],
    "brand_sites": ["brand_id", "factory_id", "category", "role", "valid_from", "valid_to", "source_id"],
}
# Version 1.1 columns, written only when a bundle uses them (bundles() draws version 1 bundles).
COLUMNS_11 = {
    "companies": ["aliases"],
    "contract_items": ["item_id", "description", "brand_name", "cpv", "category"],
}

COUNTRIES = ["CN", "TH", "CZ", "MM", "CH", "DE", "VN"]
CATEGORIES = [
    "abuse_of_vulnerability",
    "deception",
    "restriction_of_movement",
    "isolation",
    "physical_sexual_violence",
    "intimidation_threats",
    "retention_of_identity_documents",
    "withholding_of_wages",
    "debt_bondage",
    "abusive_working_living_conditions",
    "excessive_overtime",
    "recruitment_fees",
    "student_labour",
    "indirect_employment",
    "health_safety",
    "wages",
    "freedom_of_association",
    "other",
]
SEVERITIES = ["low", "medium", "high", "critical"]
STATUSES = ["open", "in_remediation", "remediated", "disputed"]
PRODUCT_CATEGORIES = ["notebook", "desktop", "workstation", "server", "mfd", "monitor", "phone", "tablet", "other"]
AFFILIATE_KINDS = ["university", "municipality", "hospital", "other"]
SOURCE_KINDS = ["disclosure", "audit", "worker_interview", "media", "registry", "other"]

# Quarter starts 2020-01-01 .. 2026-10-01 (28 dates).
GRID: list[date] = [date(y, m, 1) for y in range(2020, 2027) for m in (1, 4, 7, 10)]


def _iso(d: date | None) -> str:
    return d.isoformat() if d else ""


@st.composite
def _window(draw, p_open: float = 0.35):
    """(start, end) ISO strings, start <= end; either may be "" (unknown)."""
    shape = draw(st.sampled_from(["open"] * int(p_open * 20) + ["from"] * 5 + ["to"] * 3 + ["both"] * 5))
    i = draw(st.integers(0, len(GRID) - 1))
    j = draw(st.integers(i, len(GRID) - 1))
    start = GRID[i] if shape in ("from", "both") else None
    end = GRID[j] if shape in ("to", "both") else None
    if shape == "to":
        end = GRID[max(j, len(GRID) // 3)]  # mostly not long expired
    return _iso(start), _iso(end)


@st.composite
def bundles(draw) -> dict[str, list[dict[str, str]]]:
    pick = lambda xs: draw(st.sampled_from(xs))
    maybe = lambda xs: draw(st.sampled_from([""] + list(xs)))
    b: dict[str, list[dict[str, str]]] = {t: [] for t in COLUMNS}

    # sources
    n_src = draw(st.integers(1, 3))
    src_ids = [f"S{i}" for i in range(1, n_src + 1)]
    for s in src_ids:
        b["sources"].append(
            {
                "source_id": s,
                "title": f"Report {s}",
                "url": f"https://example.org/{s}",
                "published_on": _iso(pick(GRID)),
                "kind": pick(SOURCE_KINDS),
            }
        )
    src = lambda: maybe(src_ids)

    # companies: brands, operators, agency owners
    n_br, n_op = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    brands = [f"CB{i}" for i in range(1, n_br + 1)]
    operators = [f"CO{i}" for i in range(1, n_op + 1)]
    owners = ["CA1"]
    for cid in brands + operators + owners:
        role = {"B": "brand", "O": "factory_operator", "A": "agency_owner"}[cid[1]]
        if cid == "CB1" and draw(st.booleans()):
            role = "brand|reseller"
        b["companies"].append(
            {"company_id": cid, "name": f"Company {cid}", "country": pick(COUNTRIES), "lei": "", "roles": role}
        )

    # affiliates: one central purchasing body + members
    n_aff = draw(st.integers(2, 4))
    aff_ids = [f"A{i}" for i in range(1, n_aff + 1)]
    for a in aff_ids:
        cpb = a == "A1"
        b["affiliates"].append(
            {
                "affiliate_id": a,
                "name": f"Affiliate {a}",
                "country": pick(["CH", "DE", "CZ"]),
                "kind": "central_purchasing_body" if cpb else pick(AFFILIATE_KINDS),
                "parent_id": "" if cpb else pick(["", "A1"]),
            }
        )

    # products
    n_prod = draw(st.integers(2, 7))
    prod_ids = [f"P{i}" for i in range(1, n_prod + 1)]
    for p in prod_ids:
        b["products"].append(
            {"product_id": p, "brand_id": pick(brands), "model": f"Model {p}", "category": pick(PRODUCT_CATEGORIES)}
        )

    # contracts: frameworks (held by anyone, mostly the CPB), own contracts, call-offs
    n_fw = draw(st.integers(1, 2))
    n_own = draw(st.integers(1, 4))
    n_call = draw(st.integers(1, 4))
    contracts: list[dict[str, str]] = []
    for i in range(1, n_fw + n_own + 1):
        holder = "A1" if (i <= n_fw and draw(st.integers(0, 3)) > 0) else pick(aff_ids)
        contracts.append({"contract_id": f"K{i}", "affiliate_id": holder, "framework_id": ""})
    fw_ids = [c["contract_id"] for c in contracts[:n_fw]]
    for i in range(n_fw + n_own + 1, n_fw + n_own + n_call + 1):
        fw = pick(fw_ids)
        fw_holder = next(c["affiliate_id"] for c in contracts if c["contract_id"] == fw)
        others = [a for a in aff_ids if a != fw_holder]
        contracts.append({"contract_id": f"K{i}", "affiliate_id": pick(others), "framework_id": fw})
    for c in contracts:
        start, end = draw(_window(p_open=0.3))
        c.update(
            {
                "supplier_id": maybe(brands),
                "title": f"Contract {c['contract_id']}",
                "start_date": start,
                "end_date": end,
                "value": "",
                "currency": "CHF",
                "cpv": "",
            }
        )
        b["contracts"].append({k: c[k] for k in COLUMNS["contracts"]})
        is_fw = c["contract_id"] in fw_ids
        for p in draw(
            st.lists(st.sampled_from(prod_ids), min_size=0 if is_fw else 1, max_size=1 if is_fw else 3, unique=True)
        ):
            b["contract_items"].append(
                {
                    "contract_id": c["contract_id"],
                    "product_id": p,
                    "quantity": str(draw(st.integers(1, 500))),
                    "value": "",
                }
            )

    # factories
    n_fac = draw(st.integers(6, 25))
    fac_ids = [f"F{i}" for i in range(1, n_fac + 1)]
    for f in fac_ids:
        b["factories"].append(
            {
                "factory_id": f,
                "name": f"Factory {f}",
                "country": pick(COUNTRIES),
                "address": "",
                "lat": "",
                "lng": "",
                "os_id": "",
                "operator_id": maybe(operators),
                "workers": "",
            }
        )

    # assembly: most products assembled somewhere (one at the head of the supply
    # chain below), some products not at all (gaps), some links expired/future
    order = draw(st.permutations(fac_ids))
    asm_fac = list(dict.fromkeys([order[0]] + fac_ids[: max(2, n_fac // 4)]))
    for p in prod_ids:
        k = draw(st.sampled_from([0, 1, 1, 1, 2, 2]))
        for f in draw(st.lists(st.sampled_from(asm_fac), min_size=k, max_size=k, unique=True)):
            vf, vt = draw(_window(p_open=0.5))
            b["assembly"].append(
                {"product_id": p, "factory_id": f, "valid_from": vf, "valid_to": vt, "source_id": src()}
            )

    # supply links (buyer -> supplier): a random chain, forced cycles, random extras
    def supply(buyer: str, supplier: str) -> None:
        vf, vt = draw(_window(p_open=0.5))
        b["supply"].append(
            {
                "supplier_factory_id": supplier,
                "buyer_factory_id": buyer,
                "component": pick(["", "mainboard", "battery", "display", "chip"]),
                "valid_from": vf,
                "valid_to": vt,
                "source_id": src(),
            }
        )

    chain_len = draw(st.integers(3, min(7, n_fac)))
    for x, y in zip(order[: chain_len - 1], order[1:chain_len]):
        supply(x, y)
    a_, b_ = order[-2:]
    supply(a_, b_)
    supply(b_, a_)  # 2-cycle
    supply(order[chain_len - 1], order[1])  # back edge: longer cycle
    pairs = st.tuples(st.sampled_from(fac_ids), st.sampled_from(fac_ids)).filter(lambda t: t[0] != t[1])
    for x, y in draw(st.lists(pairs, min_size=0, max_size=n_fac)):
        supply(x, y)

    # agencies, placements, agency links (agency -> sub-agent)
    n_ag = draw(st.integers(3, 7))
    ag_ids = [f"R{i}" for i in range(1, n_ag + 1)]
    for r in ag_ids:
        b["agencies"].append(
            {
                "agency_id": r,
                "name": f"Agency {r}",
                "country": pick(COUNTRIES),
                "license_no": "",
                "owner_id": maybe(owners),
            }
        )
    ag_order = draw(st.permutations(ag_ids))
    chain_fac = order[:chain_len]
    placed = [ag_order[0]] + [r for r in ag_order[1:] if draw(st.integers(0, 3)) == 0]
    vf, vt = draw(_window(p_open=0.6))
    b["placements"].append(
        {
            "agency_id": ag_order[0],
            "factory_id": pick(order[:2]),
            "worker_origin": pick(COUNTRIES),
            "workers": "",
            "valid_from": vf,
            "valid_to": vt,
            "source_id": src(),
        }
    )
    for r in placed:
        for f in draw(
            st.lists(
                st.sampled_from(chain_fac if draw(st.booleans()) else fac_ids), min_size=1, max_size=3, unique=True
            )
        ):
            vf, vt = draw(_window(p_open=0.5))
            b["placements"].append(
                {
                    "agency_id": r,
                    "factory_id": f,
                    "worker_origin": pick(COUNTRIES),
                    "workers": str(draw(st.integers(1, 300))),
                    "valid_from": vf,
                    "valid_to": vt,
                    "source_id": src(),
                }
            )

    def link(r: str, sub: str) -> None:
        vf, vt = draw(_window(p_open=0.6))
        b["agency_links"].append(
            {"agency_id": r, "subagent_id": sub, "valid_from": vf, "valid_to": vt, "source_id": src()}
        )

    for x, y in zip(ag_order, ag_order[1:]):  # long chain
        link(x, y)
    if n_ag >= 3 and draw(st.booleans()):
        link(ag_order[-1], ag_order[draw(st.integers(0, n_ag - 2))])  # cycle
    apairs = st.tuples(st.sampled_from(ag_ids), st.sampled_from(ag_ids)).filter(lambda t: t[0] != t[1])
    for x, y in draw(st.lists(apairs, max_size=2)):
        link(x, y)

    # findings on factories, agencies, companies
    subjects = {"factory": fac_ids + chain_fac * 2, "agency": ag_ids, "company": brands + operators + owners}
    for i in range(1, draw(st.integers(1, 14)) + 1):
        stype = pick(["factory", "factory", "agency", "company"])
        status = pick(STATUSES)
        ri = draw(st.integers(0, len(GRID) - 1))
        reported = pick([None, GRID[ri]])
        closed = pick([None, GRID[draw(st.integers(ri, len(GRID) - 1))]])
        b["findings"].append(
            {
                "finding_id": f"FI{i}",
                "subject_type": stype,
                "subject_id": pick(subjects[stype]),
                "category": pick(CATEGORIES),
                "severity": maybe(SEVERITIES),
                "status": status,
                "reported_on": _iso(reported),
                "closed_on": _iso(closed),
                "monitor": "",
                "summary": f"Finding {i}",
                "source_id": src(),
            }
        )
    return b


BRAND_NAMES = [("Korvo", "KRV|Korvo Inc."), ("Tessa", "Tessa Imaging"), ("Velmar", "")]
MODELS = ["Aeris 14", "Aeris 14 Pro", "Aeris-14", "Stratum R2", "Lumo 13", "Opal C4"]
CPVS = ["", "30213100", "30213100-6", "30213110", "48821000", "30231310", "30232110", "30200000", "30213200|30213100"]


@st.composite
def bundles_11(draw) -> dict[str, list[dict[str, str]]]:
    """A version 1.1 bundle: a version 1 bundle whose brands have names and aliases, whose products have
    models from a small vocabulary (so that descriptions match one, several or none), with items that
    only describe what was bought, brand lists with both roles, and CPV codes."""
    b = draw(bundles())
    pick = lambda xs: draw(st.sampled_from(xs))
    brands = [c for c in b["companies"] if c["company_id"].startswith("CB")]
    for c, (name, aliases) in zip(brands, BRAND_NAMES, strict=False):
        c["name"], c["aliases"] = name, pick([aliases, ""])
    names = {c["company_id"]: [c["name"], *[a for a in c.get("aliases", "").split("|") if a]] for c in brands}
    for p in b["products"]:
        p["model"] = pick(MODELS)
    for c in b["contracts"]:
        c["cpv"] = pick(CPVS)
    contract_ids = [c["contract_id"] for c in b["contracts"]]
    for k in range(draw(st.integers(0, 8))):
        product = pick(b["products"])
        brand = pick([product["brand_id"], product["brand_id"], pick(brands)["company_id"]])
        text = pick(
            [
                f"{pick(names[brand])} {product['model']} notebook",
                f"{pick(names[brand])} {product['model']} notebook",
                f"{product['model']} by {pick(names[brand])}",
                f"{pick(names[brand])} device",
                "accessories and cables",
                f"{pick(names[brand])} {pick(MODELS)}, 14-inch",
            ]
        )
        b["contract_items"].append(
            {
                "contract_id": pick(contract_ids),
                "item_id": pick(["", f"IT{k}"]),
                "product_id": "",
                "description": text,
                "brand_name": pick(["", "", pick(names[brand]).upper()]),
                "cpv": pick(CPVS),
                "category": pick(["", "", pick(PRODUCT_CATEGORIES)]),
                "quantity": "",
                "value": "",
            }
        )
    factories = [f["factory_id"] for f in b["factories"]]
    for _ in range(draw(st.integers(0, 6))):
        start, end = draw(_window(p_open=0.5))
        b["brand_sites"].append(
            {
                "brand_id": pick(brands)["company_id"],
                "factory_id": pick(factories),
                "category": pick(["", "", pick(PRODUCT_CATEGORIES)]),
                "role": pick(["", "final_assembly", "component"]),
                "valid_from": start,
                "valid_to": end,
                "source_id": pick(["", b["sources"][0]["source_id"]]),
            }
        )
    return b


def bundle_dates(rows: dict[str, list[dict[str, str]]]) -> list[date]:
    """Every date mentioned in the bundle, plus the days either side of it."""
    found = set()
    for table in rows.values():
        for row in table:
            for k, v in row.items():
                if v and (k.endswith("_on") or k.endswith("_date") or k in ("valid_from", "valid_to")):
                    d = date.fromisoformat(v)
                    found |= {d - timedelta(days=1), d, d + timedelta(days=1)}
    return sorted(found)


def query_dates(rows: dict[str, list[dict[str, str]]] | None = None):
    """Query days: grid days (= boundaries), grid days +-1, and if rows is given,
    the bundle's own boundary days +-1."""
    near = [d + timedelta(days=k) for d in GRID for k in (-1, 1)]
    options = [st.sampled_from(GRID), st.sampled_from(GRID), st.sampled_from(near)]
    if rows is not None:
        own = bundle_dates(rows)
        if own:
            options += [st.sampled_from(own)] * 2
    return st.one_of(options)


def write_bundle(rows: dict[str, list[dict[str, str]]], folder: Path) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, base in COLUMNS.items():
        if name not in rows:
            continue
        extra = [c for c in COLUMNS_11.get(name, []) if any(r.get(c) for r in rows[name])]
        cols = base + extra
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
            w.writeheader()
            for r in rows[name]:
                w.writerow({c: r.get(c, "") or "" for c in cols})


if __name__ == "__main__":
    import random
    import sys
    import tempfile
    from collections import Counter

    sys.path.insert(0, str(Path(__file__).parent))
    from oracle import agency_hops, bought_products, exposure_oracle, factory_tiers, read_bundle

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    draws: list = []
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=n, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(bundles(), st.data())
    def collect(bundle, data):
        draws.append((bundle, data.draw(query_dates(bundle))))

    collect()
    c: Counter = Counter()
    rnd = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        for k, (b, day) in enumerate(draws):
            folder = Path(tmp) / f"b{k}"
            write_bundle(b, folder)
            back = read_bundle(folder)
            assert back == b, "round trip changed the bundle"
            days = [day] + [rnd.choice(GRID) for _ in range(2)]
            seen = Counter()
            for d in days:
                for a in (r["affiliate_id"] for r in b["affiliates"]):
                    ex = exposure_oracle(back, a, d)
                    own = bought_products(
                        {**back, "contracts": [x for x in back["contracts"] if not x["framework_id"]]}, a, d
                    )
                    tiers = set(ex["factories"].values())
                    hops = agency_hops(back, set(ex["factories"]), d)
                    c["pairs"] += 1
                    kinds = {fi["finding_id"]: fi["subject_type"] for fi in back["findings"]}
                    flags = {
                        "buys": bool(bought_products(back, a, d)),
                        "buys_via_framework_only": bool(bought_products(back, a, d) - own),
                        "any_factory": bool(tiers),
                        "tier>=2": max(tiers, default=0) >= 2,
                        "tier>=3": max(tiers, default=0) >= 3,
                        "tier==4": 4 in tiers,
                        "agency": bool(hops),
                        "subagent(hop>=1)": any(h >= 1 for h in hops.values()),
                        "subagent hop==3": 3 in hops.values(),
                        "gap": bool(ex["gaps"]),
                        "agency cut off at hop 4+": len(agency_hops(back, set(ex["factories"]), d, 99)) > len(hops),
                        "factory cut off at tier 5+": len(factory_tiers(back, bought_products(back, a, d), d, 99))
                        > len(ex["factories"]),
                        "finding": bool(ex["findings"]),
                        "finding_factory": any(kinds[f] == "factory" for f in ex["findings"]),
                        "finding_agency": any(kinds[f] == "agency" for f in ex["findings"]),
                        "finding_company": any(kinds[f] == "company" for f in ex["findings"]),
                    }
                    for key, val in flags.items():
                        c[key] += val
                        seen[key] |= val
                    if k < 3 and d == day:
                        print(f"bundle {k} day {d} {a}: {ex}")
            for key, val in seen.items():
                c["bundle:" + key] += val
    print(f"\n{len(draws)} bundles, {c['pairs']} (affiliate, day) pairs")
    for key in sorted(k for k in c if k != "pairs" and not k.startswith("bundle:")):
        print(f"  {key:26s} pairs {c[key] / c['pairs']:6.1%}   bundles {c['bundle:' + key] / len(draws):6.1%}")
