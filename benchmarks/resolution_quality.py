"""Precision and recall of automatic merges, and the review queue, on two sets with known truth.

The real set: 1,028 organisation records from public lists (tests/fixtures/real/resolution/, clusters labelled
by hand; see its SOURCES.md). The generated set: 2,000 factory records:

Source A (a disclosure bundle) lists 1,000 factories. Source B (an Open Supply Hub-like file) has 1,000
records: 700 describe factories of A with typos, legal-form variants ("Co., Ltd." / "Company Limited" /
"Co Ltd"), transliterations (diacritics, "No." / "#"), case changes and missing addresses; 300 are other
factories, many of them hard negatives (a sister plant with another number, the same name in another country,
a similar name at another address). All names are invented from word lists.

    .venv/bin/python -m benchmarks.resolution_quality [--seed 7] [--set real|generated|both] [--show-wrong]
"""

from __future__ import annotations

import argparse
import random
import time

import pyarrow as pa
from supplygraph.loaders.resolve import Decisions, name_key, resolve_entities

from benchmarks.resolution_metrics import measure, wrong_merges
from benchmarks.resolution_real import read_real, real_bundles

PLACES = ["Huaxin", "Dongrui", "Tianmei", "Jinlong", "Baoshan", "Xinyue", "Kaiyuan", "Minghai", "Ruifeng", "Yongtai",
          "Saigon Delta", "Binh Khanh", "Tan Phuoc", "Siam Crest", "Chao Phraya", "Lamchabang", "Penang Ridge",
          "Klang Vale", "Batam Straits", "Cikarang Raya", "Brno Vale", "Ostrava Ring", "Monterrey Alta", "Tijuana Mesa",
          "Đồng Xuân", "Hải Phòng Bay", "Thủ Đức", "Bắc Ninh Cao", "Quảng Lợi", "Zürichsee", "Łódź Polna", "Győr Mező"]  # fmt: skip
STEMS = ["Precision", "Electronic", "Circuit", "Power", "Display", "Optic", "Plastic", "Metal", "Cable", "Battery",
         "Semicon", "Smart", "Micro", "Photon", "Thermal", "Magnet", "Acoustic", "Glass", "Connector", "Module"]  # fmt: skip
TRADES = ["Technology", "Manufacturing", "Industrial", "Components", "Electronics", "Devices", "Systems", "Works"]
FORMS = [
    "Co., Ltd.",
    "Company Limited",
    "Co Ltd",
    "Limited",
    "Ltd.",
    "Inc.",
    "JSC",
    "s.r.o.",
    "Sdn. Bhd.",
    "S.A. de C.V.",
]
COUNTRIES = ["CN", "VN", "TH", "MY", "ID", "CZ", "MX", "PL", "HU"]
ROADS = ["Industrial Road", "Export Zone Avenue", "Tech Park Street", "Harbour Road", "Ring Road", "Valley Lane"]


def factory(rng: random.Random, n: int) -> dict:
    name = f"{rng.choice(PLACES)} {rng.choice(STEMS)} {rng.choice(TRADES)}"
    if rng.random() < 0.3:
        name += f" Plant {rng.randint(1, 5)}"
    return {
        "name": f"{name} {rng.choice(FORMS)}",
        "country": rng.choice(COUNTRIES),
        "address": f"No. {rng.randint(1, 400)} {rng.choice(ROADS)}, {rng.choice(PLACES)} Zone {n % 97}",
    }


def typo(rng: random.Random, text: str) -> str:
    i = rng.randrange(1, len(text) - 1)
    op = rng.choice(("drop", "swap", "double"))
    if op == "drop":
        return text[:i] + text[i + 1 :]
    if op == "swap":
        return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]
    return text[:i] + text[i] + text[i:]


def variant(rng: random.Random, rec: dict) -> dict:
    name, address = rec["name"], rec["address"]
    for form in FORMS:
        if name.endswith(form):
            name = name[: -len(form)] + rng.choice([f for f in FORMS[:5] if f != form] or [form])
            break
    kinds = rng.sample(["typo", "case", "ascii", "no_address", "number_sign", "none"], k=2)
    if "typo" in kinds:
        words = name.split()
        j = rng.randrange(len(words))
        if len(words[j]) > 4 and not any(c.isdigit() for c in words[j]):
            words[j] = typo(rng, words[j])
        name = " ".join(words)
    if "case" in kinds:
        name = name.upper()
    if "ascii" in kinds:
        import normality

        name = normality.ascii_text(name) or name
    if "number_sign" in kinds:
        address = address.replace("No. ", "#")
    if "no_address" in kinds:
        address = None
    return {"name": name, "country": rec["country"], "address": address}


def negative(rng: random.Random, rec: dict, n: int) -> dict:
    kind = rng.choice(("sister", "country", "similar"))
    if kind == "sister":
        base = rec["name"].split(" Plant ")[0]
        for form in FORMS:
            base = base.removesuffix(" " + form)
        k = rng.randint(6, 9)
        return {"name": f"{base} Plant {k} {rng.choice(FORMS)}", "country": rec["country"],
                "address": f"No. {rng.randint(401, 800)} {rng.choice(ROADS)}, Zone {n}"}  # fmt: skip
    if kind == "country":
        return {
            "name": rec["name"],
            "address": rec["address"],
            "country": rng.choice([c for c in COUNTRIES if c != rec["country"]]),
        }
    words = rec["name"].split()
    words[1] = rng.choice([s for s in STEMS if s != words[1]])
    return {"name": " ".join(words), "country": rec["country"],
            "address": f"No. {rng.randint(401, 800)} {rng.choice(ROADS)}, Zone {n}"}  # fmt: skip


def table(rows: list[dict], fmt: str | None) -> pa.Table:
    cols = {k: [r.get(k) for r in rows] for k in ("id", "name", "country", "address")}
    if fmt:  # Open Supply Hub rows carry OS IDs: distinct facilities of one file are never merged together
        cols["source_format"] = [fmt] * len(rows)
        cols["os_id"] = [f"{r['country']}2024{i:03d}{'X' * 6}" for i, r in enumerate(rows)]
    cols["_line"] = list(range(2, len(rows) + 2))
    return pa.table(cols)


def real(show_wrong: bool) -> None:
    rows = read_real()
    started = time.perf_counter()
    resolved, queue = resolve_entities(real_bundles(rows), Decisions())
    seconds = time.perf_counter() - started
    found = {}
    for name, tables in resolved:
        (table,) = tables.values()
        found[name] = table.column("id")[0].as_py()
    truth = {row["record_id"]: row["cluster"] for row in rows}
    print(f"real set: {len(rows):,} records  time: {seconds:.2f} s")
    for line in measure(truth, found, len(queue)).lines():
        print("  " + line)
    if show_wrong:
        names = {row["record_id"]: f"{row['name']} @ {row['city'] or row['address'][:60]}" for row in rows}
        for cluster in wrong_merges(truth, found):
            print("  wrong merge: " + " + ".join(f"{r} {names[r]}" for r in cluster))
        true_found = {r: found[r] for r in truth}
        for cluster in wrong_merges(found, truth):  # true clusters split over several found ones
            print("  missed: " + " / ".join(f"{r}->{true_found[r]} {names[r]}" for r in cluster))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated set")
    parser.add_argument("--set", choices=("real", "generated", "both"), default="both", help="which set to measure")
    parser.add_argument("--show-wrong", action="store_true", help="list wrong and missed merges of the real set")
    args = parser.parse_args()
    if args.set in ("real", "both"):
        real(args.show_wrong)
    if args.set in ("generated", "both"):
        generated(args.seed)


def generated(seed: int) -> None:
    rng = random.Random(seed)
    a_rows: list[dict] = []
    seen = set()
    while len(a_rows) < 1000:
        rec = factory(rng, len(a_rows))
        base = (name_key(rec["name"]), rec["country"])  # a name differing only in legal form is the same name
        if base in seen:
            continue
        seen.add(base)
        a_rows.append({"id": f"A-{len(a_rows):04d}", **rec})
    truth: dict[str, str] = {}
    b_rows = []
    for i, rec in enumerate(rng.sample(a_rows, 700)):
        b_rows.append({"id": f"B-{i:04d}", **variant(rng, rec)})
        truth[f"B-{i:04d}"] = rec["id"]
    for i, rec in enumerate(rng.sample(a_rows, 300), start=700):
        b_rows.append({"id": f"B-{i:04d}", **negative(rng, rec, i)})
    started = time.perf_counter()
    bundles = [("disclosure", {"factories": table(a_rows, None)}), ("oshub", {"factories": table(b_rows, "oshub")})]
    resolved, queue = resolve_entities(bundles, Decisions())
    seconds = time.perf_counter() - started
    new_ids = resolved[1][1]["factories"].column("id").to_pylist()
    merged = {b["id"]: new for b, new in zip(b_rows, new_ids, strict=True) if new != b["id"]}
    correct = sum(1 for b, a in merged.items() if truth.get(b) == a)
    precision = correct / len(merged) if merged else 1.0
    recall = correct / len(truth)
    queued_true = sum(1 for m in queue if truth.get(m["b"]) == m["a"] or truth.get(m["a"]) == m["b"])
    print(f"generated set (seed {seed}): {len(a_rows) + len(b_rows):,} records (A {len(a_rows):,}, B {len(b_rows):,}; "
          f"{len(truth)} true pairs)")  # fmt: skip
    print(f"automatic merges: {len(merged)}  correct: {correct}  wrong: {len(merged) - correct}")
    print(f"precision: {precision:.4f}  recall: {recall:.4f}")
    print(f"review queue: {len(queue)} pairs ({queued_true} of them true matches)  time: {seconds:.2f} s")


if __name__ == "__main__":
    main()
