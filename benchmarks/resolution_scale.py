"""Time and peak memory of entity resolution on many synthetic factory records with realistic shared tokens.

Names are built like real supplier lists: a city or province ("Lanzhou ..."), a distinctive word made of
syllables, a trade word ("Garment", "Electronics", "Industrial") and a legal form; addresses name a house
number, a street, a district, the city and a postcode; coordinates sit near the city. A disclosure bundle
holds 60 % of the records (own ids); an Open Supply Hub-like bundle the other 40 % (OS IDs), of which 70 %
describe a factory of the disclosure with variants (case, legal form, a typo, a missing address) and 30 % are
other factories, many of them sharing the city, trade and legal form. All names are invented.

    .venv/bin/python -m benchmarks.resolution_scale [--records 1000000] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import resource
import time

import pyarrow as pa
from supplygraph.loaders.resolve import Decisions, resolve_entities

SYLLABLES = [a + b for a in "b ch d f g h j k l m n p q r s sh t w x y z zh".split() for b in
             "a ai an ang ao e ei en eng i ian iang in ing o ong ou u uan un".split()]  # fmt: skip
TRADES = ["Garment", "Garments", "Electronics", "Industrial", "Textile", "Knitting", "Precision", "Plastic",
          "Metal", "Technology", "Manufacturing", "Components", "Shoes", "Apparel", "Printing", "Packaging"]  # fmt: skip
FORMS = ["Co., Ltd.", "Company Limited", "Co Ltd", "Ltd.", "Limited", "Inc.", "JSC", "Sdn. Bhd.", "S.A. de C.V."]
COUNTRIES = ["CN", "VN", "BD", "IN", "ID", "TH", "KH", "MX", "TR", "PK"]


def word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def places(rng: random.Random, count: int) -> list[tuple[str, str, float, float, str]]:
    """Cities: (name, country, lat, lng, province)."""
    provinces = [word(rng, 2) for _ in range(60)]
    return [(word(rng, 2), rng.choice(COUNTRIES), rng.uniform(-8, 35), rng.uniform(70, 120), rng.choice(provinces))
            for _ in range(count)]  # fmt: skip


def factory(rng: random.Random, cities: list, n: int) -> dict:
    city, country, lat, lng, province = rng.choice(cities)
    head = rng.choice([city, city, province])
    return {
        "name": f"{head} {word(rng, rng.choice((2, 3)))} {rng.choice(TRADES)} {rng.choice(FORMS)}",
        "country": country,
        "address": f"No. {rng.randint(1, 999)} {word(rng, 2)} Road, {word(rng, 2)} District, {city}, "
        f"{province} {rng.randint(100000, 999999)}",
        "lat": round(lat + rng.uniform(-0.2, 0.2), 5),
        "lng": round(lng + rng.uniform(-0.2, 0.2), 5),
    }


def variant(rng: random.Random, rec: dict) -> dict:
    name, out = rec["name"], dict(rec)
    for form in FORMS:
        if name.endswith(form):
            name = name[: -len(form)] + rng.choice(FORMS)
            break
    kind = rng.random()
    if kind < 0.3:
        name = name.upper()
    elif kind < 0.5:
        words = name.split()
        i = rng.randrange(1, 3)
        if len(words[i]) > 4:
            j = rng.randrange(1, len(words[i]) - 1)
            words[i] = words[i][:j] + words[i][j + 1 :]
        name = " ".join(words)
    if rng.random() < 0.2:
        out.update(address=None, lat=None, lng=None)
    elif rng.random() < 0.5:
        out["lat"] = round(rec["lat"] + rng.uniform(-0.001, 0.001), 5)
    return {**out, "name": name}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000, help="records in all (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    cities = places(rng, max(200, args.records // 500))
    own = [{"id": f"FA-{i:07d}", **factory(rng, cities, i)} for i in range(args.records * 6 // 10)]
    count = args.records - len(own)
    sources = rng.sample(own, count * 7 // 10)  # each disclosed factory at most once: OS IDs are distinct
    truth: dict[str, str] = {}
    other = []
    for i in range(count):
        rec = variant(rng, sources[i]) if i < len(sources) else factory(rng, cities, i)
        oid = f"{rec['country']}{i:07d}OSHSYN"
        if i < len(sources):
            truth[oid] = sources[i]["id"]
        other.append({**rec, "id": oid, "os_id": oid, "source_format": "oshub"})
    bundles = [("disclosure", {"factories": pa.Table.from_pylist(own)}),
               ("oshub", {"factories": pa.Table.from_pylist(other)})]  # fmt: skip
    del own, other, sources
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    resolved, queue = resolve_entities(bundles, Decisions())
    seconds = time.perf_counter() - started
    old = resolved[1][1]["factories"].column("os_id").to_pylist()
    new = resolved[1][1]["factories"].column("id").to_pylist()
    merged = {o: n for o, n in zip(old, new, strict=True) if o != n}
    correct = sum(1 for o, n in merged.items() if truth.get(o) == n)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"records: {args.records:,}  resolution: {seconds:.1f} s  peak RSS: {peak:,.0f} MB "
          f"(of which {before:,.0f} MB before resolution: generating the records)")  # fmt: skip
    print(f"merged: {len(merged):,}  correct: {correct:,}  precision: {correct / max(1, len(merged)):.4f}  "
          f"recall: {correct / max(1, len(truth)):.4f}  review queue: {len(queue):,}")  # fmt: skip


if __name__ == "__main__":
    main()
