"""A synthetic bundle generator for benchmarks and load tests (fictional, numbered names only).

    python benchmarks/synthetic.py OUTDIR --factories 100000 --links 10

Shape: factories form supply clusters of 200 (one per product family, like a real notebook's
supply base): the first 10 of a cluster assemble, the next 30 are tier-2 suppliers, the next 60
tier 3, the rest deeper. Each factory buys from about 10 suppliers: 98 % in its own cluster (mostly
the next tier down, 5 % sideways, so cycles occur) and 0.5 % anywhere. 1 affiliate per 100
factories with frameworks and call-offs, 1 product per 10 factories, agencies with sub-agent
chains, findings on 5 % of factories and agencies.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

COUNTRIES = np.array(["CN", "TH", "VN", "MY", "CZ", "MX", "TW", "IN", "PH", "ID"])
ORIGINS = np.array(["MM", "NP", "KH", "LA", "UA", "MN", "BD"])
CATEGORIES = np.array(["student_labour", "recruitment_fees", "retention_of_identity_documents", "indirect_employment",
                       "excessive_overtime", "debt_bondage", "wages", "health_safety"])
SEVERITIES = np.array(["low", "medium", "high", "critical"])
STATUSES = np.array(["open", "in_remediation", "remediated", "disputed"])


def _ids(prefix: str, n: int) -> np.ndarray:
    return np.char.add(prefix, np.arange(n).astype(str))


def _dates(rng: np.random.Generator, n: int, empty: float, start: str, end: str) -> pa.Array:
    lo, hi = np.datetime64(start), np.datetime64(end)
    days = rng.integers(0, int((hi - lo).astype(int)), n)
    values = (lo + days).astype(str)
    mask = rng.random(n) < empty
    return pa.array(np.where(mask, "", values))


def _write(folder: Path, name: str, columns: dict[str, object]) -> int:
    table = pa.table({k: pa.array(v) if not isinstance(v, pa.Array) else v for k, v in columns.items()})
    pacsv.write_csv(table, folder / f"{name}.csv", pacsv.WriteOptions(quoting_style="needed"))
    return table.num_rows


def generate(
    folder: Path, factories: int = 10_000, links: int = 10, seed: int = 7, brand_lists: bool = False
) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    n_aff = max(5, factories // 100)
    n_prod = max(10, factories // 10)
    n_ag = max(5, factories // 20)
    n_src = 200
    counts: dict[str, int] = {}
    sources = _ids("S", n_src)
    counts["sources"] = _write(folder, "sources", {"source_id": sources, "title": np.char.add("Report ", sources),
                                                   "kind": np.full(n_src, "audit")})
    aff = _ids("A", n_aff)
    consortia = aff[: max(1, n_aff // 10)]
    kind = np.where(np.isin(aff, consortia), "central_purchasing_body", "university")
    parent = np.where(np.isin(aff, consortia), "", rng.choice(consortia, n_aff))
    counts["affiliates"] = _write(folder, "affiliates", {"affiliate_id": aff, "name": np.char.add("Buyer ", aff),
                                                         "country": np.full(n_aff, "DE"), "kind": kind, "parent_id": parent})
    brands = _ids("B", 20)
    counts["companies"] = _write(folder, "companies", {"company_id": brands, "name": np.char.add("Brand ", brands),
                                                       "roles": np.full(20, "brand")})
    prods = _ids("P", n_prod)
    prod_brands = rng.choice(brands, n_prod)
    counts["products"] = _write(folder, "products", {"product_id": prods, "brand_id": prod_brands,
                                                     "model": np.char.add("Model ", prods), "category": np.full(n_prod, "notebook")})
    # Contracts: each consortium one framework; each affiliate 3 own contracts, some call-offs of its consortium's framework.
    fw_ids = np.char.add("FW", consortia)
    own = np.repeat(aff, 3)
    c_ids = np.concatenate([fw_ids, _ids("C", len(own))])
    holders = np.concatenate([consortia, own])
    framework = np.concatenate([np.full(len(fw_ids), ""), np.where(rng.random(len(own)) < 0.4,
                                np.char.add("FW", np.repeat(parent, 3)), "")])
    framework = np.where(framework == "FW", "", framework)
    n_c = len(c_ids)
    counts["contracts"] = _write(folder, "contracts", {
        "contract_id": c_ids, "affiliate_id": holders, "title": np.char.add("Contract ", c_ids),
        "start_date": _dates(rng, n_c, 0.1, "2019-01-01", "2024-01-01"), "end_date": _dates(rng, n_c, 0.5, "2026-01-01", "2029-01-01"),
        "value": rng.integers(10_000, 5_000_000, n_c).astype(str), "currency": np.full(n_c, "EUR"), "framework_id": framework})
    items_c = np.repeat(c_ids[len(fw_ids):], 3)
    counts["contract_items"] = _write(folder, "contract_items", {"contract_id": items_c, "product_id": rng.choice(prods, len(items_c)),
                                                                 "quantity": rng.integers(1, 500, len(items_c)).astype(str)})
    fac = _ids("F", factories)
    counts["factories"] = _write(folder, "factories", {
        "factory_id": fac, "name": np.char.add("Factory ", fac), "country": rng.choice(COUNTRIES, factories),
        "lat": np.round(rng.uniform(-40, 60, factories), 4).astype(str), "lng": np.round(rng.uniform(-100, 140, factories), 4).astype(str),
        "workers": rng.integers(50, 20_000, factories).astype(str)})
    cluster_size = 200
    n_clusters = max(1, factories // cluster_size)
    asm_idx = np.concatenate([np.arange(n_prod), rng.integers(0, n_prod, n_prod // 5)])
    asm_p = prods[asm_idx]
    n_asm = len(asm_p)
    asm_fac = (asm_idx % n_clusters) * cluster_size + rng.integers(0, 10, n_asm)
    counts["assembly"] = _write(folder, "assembly", {"product_id": asm_p, "factory_id": fac[np.minimum(asm_fac, factories - 1)],
                                                     "valid_from": _dates(rng, n_asm, 0.5, "2018-01-01", "2023-01-01"),
                                                     "valid_to": pa.array(np.full(n_asm, "")), "source_id": rng.choice(sources, n_asm)})
    n_links = factories * links
    buyer = np.repeat(np.arange(factories), links)
    position = buyer % cluster_size
    base = buyer - position
    # next tier down: tier 1 (0-9) buys from 10-39, tier 2 from 40-99, tier 3 and deeper from 100-199
    low = np.select([position < 10, position < 40], [10, 40], 100)
    high = np.select([position < 10, position < 40], [40, 100], cluster_size)
    supplier = base + low + (rng.random(n_links) * (high - low)).astype(np.int64)
    sideways = rng.random(n_links) < 0.05
    supplier = np.where(sideways, base + rng.integers(0, cluster_size, n_links), supplier)
    anywhere = rng.random(n_links) < 0.005
    supplier = np.where(anywhere, rng.integers(0, factories, n_links), supplier)
    supplier = np.minimum(supplier, factories - 1)
    supplier = np.where(supplier == buyer, (supplier + 1) % factories, supplier)
    counts["supply"] = _write(folder, "supply", {
        "supplier_factory_id": fac[supplier], "buyer_factory_id": fac[buyer],
        "component": np.full(n_links, "part"), "valid_from": _dates(rng, n_links, 0.7, "2018-01-01", "2025-01-01"),
        "valid_to": _dates(rng, n_links, 0.9, "2025-01-01", "2030-01-01"), "source_id": rng.choice(sources, n_links)})
    ags = _ids("G", n_ag)
    counts["agencies"] = _write(folder, "agencies", {"agency_id": ags, "name": np.char.add("Agency ", ags),
                                                     "country": rng.choice(np.concatenate([COUNTRIES, ORIGINS]), n_ag)})
    # Agencies work regionally: agency i places workers in cluster i % n_clusters; sub-agents likewise.
    n_pl = factories // 5
    pl_agency = rng.integers(0, n_ag, n_pl)
    pl_factory = np.minimum((pl_agency % n_clusters) * cluster_size + rng.integers(0, cluster_size, n_pl), factories - 1)
    counts["placements"] = _write(folder, "placements", {"agency_id": ags[pl_agency], "factory_id": fac[pl_factory],
                                                         "worker_origin": rng.choice(ORIGINS, n_pl), "source_id": rng.choice(sources, n_pl)})
    n_al = n_ag
    a_from = rng.integers(0, n_ag, n_al)
    a_to = (a_from + n_clusters * rng.integers(1, 4, n_al)) % n_ag
    counts["agency_links"] = _write(folder, "agency_links", {"agency_id": ags[a_from], "subagent_id": ags[a_to],
                                                             "source_id": rng.choice(sources, n_al)})
    n_fi = factories // 20 + n_ag // 20
    subj_is_factory = np.arange(n_fi) < factories // 20
    subject = np.where(subj_is_factory, rng.choice(fac, n_fi), rng.choice(ags, n_fi))
    if brand_lists:
        counts.update(_brand_lists(folder, rng, fac, brands, prods, prod_brands, c_ids[len(fw_ids):], n_clusters, cluster_size, sources))
    counts["findings"] = _write(folder, "findings", {
        "finding_id": _ids("X", n_fi), "subject_type": np.where(subj_is_factory, "factory", "agency"), "subject_id": subject,
        "category": rng.choice(CATEGORIES, n_fi), "severity": rng.choice(SEVERITIES, n_fi), "status": rng.choice(STATUSES, n_fi),
        "reported_on": _dates(rng, n_fi, 0.1, "2019-01-01", "2026-01-01"), "source_id": rng.choice(sources, n_fi)})
    return counts


def _brand_lists(
    folder: Path,
    rng: np.random.Generator,
    fac: np.ndarray,
    brands: np.ndarray,
    prods: np.ndarray,
    prod_brands: np.ndarray,
    contracts: np.ndarray,
    n_clusters: int,
    cluster_size: int,
    sources: np.ndarray,
) -> dict[str, int]:
    """Version 1.1: each brand publishes a list of 10 final assembly sites and 20 component suppliers (tier 2),
    in the supply clusters of its own products; one contract in three also buys an item only described: half name a
    brand and a model the matcher links (`Brand B3 Model P17 notebook`), half a brand alone (`brand_name`)."""
    # a brand lists sites in the supply clusters of its own products (product i is made in cluster i % n_clusters)
    clusters = {b: np.flatnonzero(prod_brands == b) % n_clusters for b in brands}
    final = np.repeat(brands, 10)
    final_site = np.array([rng.choice(clusters[b]) for b in final]) * cluster_size + rng.integers(0, 10, len(final))
    component = np.repeat(brands, 20)
    component_site = np.array([rng.choice(clusters[b]) for b in component]) * cluster_size + rng.integers(
        10, 40, len(component)
    )
    sites = np.minimum(np.concatenate([final_site, component_site]), len(fac) - 1)
    n_s = len(sites)
    counts = {
        "brand_sites": _write(folder, "brand_sites", {
            "brand_id": np.concatenate([final, component]), "factory_id": fac[sites],
            "category": np.where(rng.random(n_s) < 0.5, "notebook", ""),
            "role": np.concatenate([np.full(len(final), "final_assembly"), np.full(len(component), "component")]),
            "valid_from": _dates(rng, n_s, 0.5, "2018-01-01", "2024-01-01"), "source_id": rng.choice(sources, n_s)}),
    }
    buying = contracts[rng.random(len(contracts)) < 1 / 3]
    n_i = len(buying)
    pick = rng.integers(0, len(prods), n_i)
    product = prods[pick]
    named = rng.random(n_i) < 0.5
    brand = np.where(named, prod_brands[pick], rng.choice(brands, n_i))
    described = np.where(named, np.char.add(np.char.add("Model ", product), " notebook"), "notebook computer")
    # only the named half carries the brand's name in the text; the other half says it in brand_name
    text = np.where(named, np.char.add("Brand ", np.char.add(np.char.add(brand, " "), described)), described)
    counts["contract_items_described"] = n_i
    items = pa.table({
        "contract_id": pa.array(buying), "product_id": pa.array(np.full(n_i, "")), "quantity": pa.array(np.full(n_i, "5")),
        "item_id": pa.array(np.char.add("D", np.arange(n_i).astype(str))), "description": pa.array(text),
        "brand_name": pa.array(np.where(named, "", np.char.add("Brand ", brand))), "cpv": pa.array(np.full(n_i, "30213100")),
    })
    existing = pacsv.read_csv(folder / "contract_items.csv", convert_options=pacsv.ConvertOptions(strings_can_be_null=False,
                              column_types={c: pa.string() for c in ("contract_id", "product_id", "quantity")}))
    for column in ("item_id", "description", "brand_name", "cpv"):
        existing = existing.append_column(column, pa.array(np.full(existing.num_rows, "")))
    pacsv.write_csv(pa.concat_tables([existing, items]), folder / "contract_items.csv",
                    pacsv.WriteOptions(quoting_style="needed"))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--factories", type=int, default=10_000)
    parser.add_argument("--links", type=int, default=10, help="supply links per factory")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--brand-lists", action="store_true", help="bundle 1.1: brand lists and described items")
    args = parser.parse_args()
    started = time.perf_counter()
    counts = generate(args.outdir, args.factories, args.links, args.seed, args.brand_lists)
    print(f"wrote {sum(counts.values()):,} rows to {args.outdir} in {time.perf_counter() - started:.1f} s: {counts}")


if __name__ == "__main__":
    main()
