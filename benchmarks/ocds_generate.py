"""Write a large fictional OCDS JSON Lines file (one release per line) for the streaming benchmark.

Buyers, suppliers and brands are invented; one release in ten amends an earlier contract (same ocid, later
date), one in five is a call-off of a framework.

    .venv/bin/python -m benchmarks.ocds_generate bench-data/ocds-200mb.jsonl --mb 200
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

COUNTRIES = ["United Kingdom", "Germany", "France", "Netherlands", "Czechia", "Spain", "Italy", "Poland"]
WORDS = ["Northfield", "Eastmere", "Castlebrook", "Westerholm", "Ravensmoor", "Larkdale", "Oakhurst", "Fenwick"]
KINDS = ["University of", "City of", "Hospital Trust of", "Schools of", "County of"]
MODELS = [("30213100", "Aeris"), ("30213300", "Tower"), ("48820000", "Stratum"), ("30231000", "Vista")]


def release(rng: random.Random, n: int) -> dict:
    buyer = rng.randrange(600)
    supplier = rng.randrange(3000)
    ocid = f"ocds-f1ct10-GEN-{n:09d}"
    cpv, family = rng.choice(MODELS)
    items = []
    for i in range(rng.randint(1, 4)):
        item = {"id": str(i + 1), "description": f"{family} device, lot {i + 1}", "quantity": rng.randint(1, 900),
                "classification": {"scheme": "CPV", "id": cpv, "description": "Generated item"},
                "unit": {"name": "piece", "value": {"amount": rng.randint(200, 4000), "currency": "EUR"}}}  # fmt: skip
        if rng.random() < 0.5:
            brand = f"Brand {rng.randrange(40):02d} Computing Co., Ltd."
            item["attributes"] = [{"name": "brand", "value": brand},
                                  {"name": "model", "value": f"{family} {rng.randrange(300)}"}]  # fmt: skip
        items.append(item)
    start = f"20{rng.randint(18, 25)}-{rng.randint(1, 12):02d}-01"
    rel = {
        "ocid": ocid, "id": f"{ocid}-1", "date": f"{start}T09:00:00Z", "tag": ["contract"],
        "initiationType": "tender", "language": "en",
        "buyer": {"id": f"GEN-B{buyer}", "name": f"{rng.choice(KINDS)} {WORDS[buyer % 8]} {buyer}"},
        "parties": [
            {"id": f"GEN-B{buyer}", "name": f"{KINDS[buyer % 5]} {WORDS[buyer % 8]} {buyer}", "roles": ["buyer"],
             "identifier": {"scheme": "XX-GEN", "id": f"B{buyer}"},
             "address": {"streetAddress": f"{buyer} Generated Street", "countryName": COUNTRIES[buyer % 8]}},
            {"id": f"GEN-S{supplier}", "name": f"Supplier {supplier} Trading Ltd", "roles": ["supplier"],
             "identifier": {"scheme": "XX-GEN", "id": f"S{supplier}"},
             "address": {"streetAddress": f"{supplier} Market Road", "countryName": COUNTRIES[supplier % 8]}},
        ],
        "tender": {"id": f"T{n}", "title": f"Supply of {family} devices ({n})", "status": "complete",
                   "description": "Generated tender for the streaming benchmark. " * 3},
        "awards": [{"id": f"A{n}", "status": "active", "date": f"{start}T09:00:00Z",
                    "suppliers": [{"id": f"GEN-S{supplier}", "name": f"Supplier {supplier} Trading Ltd"}],
                    "value": {"amount": rng.randint(10_000, 5_000_000), "currency": "EUR"}}],
        "contracts": [{"id": f"C{n}", "awardID": f"A{n}", "status": "active", "title": f"{family} devices",
                       "period": {"startDate": f"{start}T00:00:00Z", "endDate": f"20{rng.randint(26, 30)}-12-31T00:00:00Z"},
                       "value": {"amount": rng.randint(10_000, 5_000_000), "currency": "EUR"}, "items": items}],
    }  # fmt: skip
    if n % 5 == 1:
        rel["relatedProcesses"] = [{"id": "1", "relationship": ["framework"], "scheme": "ocid",
                                    "identifier": f"ocds-f1ct10-GEN-{n - 1:09d}"}]  # fmt: skip
    return rel


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    limit, written, n = args.mb * 2**20, 0, 0
    with args.out.open("w") as fh:
        while written < limit:
            rel = release(rng, n)
            if n and n % 10 == 0:  # an amendment of an earlier release: same ocid, later date
                earlier = release(random.Random(args.seed * 7919 + n - 3), n - 3)
                earlier["date"], earlier["id"] = "2026-01-15T00:00:00Z", f"{earlier['ocid']}-2"
                line = json.dumps(earlier) + "\n"
                fh.write(line)
                written += len(line)
            line = json.dumps(rel) + "\n"
            fh.write(line)
            written += len(line)
            n += 1
    print(f"{args.out}: {written / 2**20:,.0f} MB, {n:,} releases")


if __name__ == "__main__":
    main()
