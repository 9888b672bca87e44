"""What supplygraph stores from OCDS files against the reference: ocdsmerge's compiled release of each ocid.

    .venv/bin/python -m benchmarks.real_data_check FILE... [--schema release-schema.json] [--skip-invalid]

Per file: the contracts, values, suppliers and buyers stored (what `supplygraph load` would write, before entity
resolution) and expected, and every disagreement (the target is none). Expected, per compiled release: one
contract per OCDS contract (`<ocid>/<contract id>`, its own value or none), and one per award that no contract
refers to and that is not unsuccessful or cancelled (`<ocid>/award:<award id>`, the award's value); suppliers are
those of the contract's award; none of a process without a buyer is stored. A contract's items are its own, else
its award's, else the tender's items of the award's lots, else (one contract, no lots) all the tender's, each
item with a description (else its classification's) compared by id, description, quantity, unit and unit price. The files are read here on their own
(json, not the loader's reader), so the comparison does not trust the code it checks. Needs `ocdsmerge` (dev
extras); the release schema defaults to OCDS 1.1.2 from tests/fixtures/real.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

SCHEMA = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "real" / "release-schema-1.1.2.json"
INACTIVE = ("unsuccessful", "cancelled")


def documents(path: Path, encoding: str = "utf-8") -> list[tuple[int | None, Any]]:
    """The file's JSON values with their line: one document (line None), or one per line (JSON Lines)."""
    text = path.read_text(encoding=encoding)
    try:
        return [(None, json.loads(text))]
    except json.JSONDecodeError:
        return [(n, json.loads(line)) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def processes(
    values: list[tuple[int | None, Any]], rejected: set[tuple[int | None, str | None]]
) -> tuple[dict[str, list[dict]], dict[str, dict]]:
    """Releases by ocid, and the compiled releases that records carry; releases at a rejected place left out."""
    releases: dict[str, list[dict]] = defaultdict(list)
    compiled: dict[str, dict] = {}

    def walk(obj: Any, line: int | None, pointer: str) -> None:
        if (line, pointer or None) in rejected:
            return
        if isinstance(obj, list):
            for i, item in enumerate(obj):
                walk(item, line, f"{pointer or '#'}/{i}")
        elif isinstance(obj, dict) and "compiledRelease" in obj:
            if (line, f"{pointer or '#'}/compiledRelease") not in rejected:
                compiled[obj["compiledRelease"]["ocid"]] = obj["compiledRelease"]
        elif isinstance(obj, dict) and "ocid" in obj and "releases" in obj:
            for i, rel in enumerate(obj["releases"]):
                if isinstance(rel, dict) and "ocid" in rel:
                    walk(rel, line, f"{pointer or '#'}/releases/{i}")
        elif isinstance(obj, dict) and ("releases" in obj or "records" in obj) and "ocid" not in obj:
            key = "releases" if "releases" in obj else "records"
            for i, item in enumerate(obj[key]):
                walk(item, line, f"{pointer or '#'}/{key}/{i}")
        elif isinstance(obj, dict) and "ocid" in obj:
            releases[obj["ocid"]].append(obj)

    for line, value in values:
        walk(value, line, "")
    return releases, compiled


def item_entries(items: list) -> list[tuple]:
    """(id, description, quantity, unit, unit price) of each item that describes something, by id."""
    out = []
    for n, item in enumerate(items, 1):
        description = item.get("description") or (item.get("classification") or {}).get("description")
        if description:
            unit = item.get("unit") or {}
            price = (unit.get("value") or {}).get("amount")
            quantity = item.get("quantity")
            out.append(
                (
                    str(item.get("id", n)),
                    description,
                    None if quantity is None else float(quantity),
                    unit.get("name"),
                    None if price is None else float(price),
                )
            )
    return sorted(out)


def expected(release: dict) -> dict[str, dict]:
    """contract id -> value, currency, suppliers, buyer (identifier, else name), as the compiled release says."""
    ocid = release["ocid"]
    parties = {str(p.get("id")): p for p in release.get("parties") or [] if isinstance(p, dict)}

    def name(ref: dict) -> str | None:
        """An organisation as compared: its identifier (scheme-id) where it has one, else its name."""
        party = parties.get(str(ref.get("id")), {}) if ref.get("id") is not None else {}
        ident = party.get("identifier") or ref.get("identifier") or {}
        if ident.get("scheme") and ident.get("id") is not None:
            return f"{ident['scheme']}-{ident['id']}"
        return party.get("name") or ref.get("name")

    buyer = release.get("buyer")
    buyer_name = name(buyer) if isinstance(buyer, dict) else None
    if buyer_name is None:
        buyer_name = next(
            (name(p) for p in parties.values() if {"buyer", "procuringEntity"} & set(p.get("roles") or [])), None
        )
    if buyer_name is None:
        return {}
    awards = {str(a.get("id")): a for a in release.get("awards") or []}
    out: dict[str, dict] = {}

    def entry(obj: dict, award: dict) -> dict:
        value = obj.get("value") or {}
        suppliers = sorted({n for s in award.get("suppliers") or [] if (n := name(s))})
        return {
            "value": value.get("amount"),
            "currency": value.get("currency"),
            "suppliers": suppliers,
            "buyer": buyer_name,
            "items": item_entries(obj.get("items") or award.get("items") or []),
        }

    referred = set()
    award_of: dict[str, dict] = {}  # contract id -> its award
    for contract in release.get("contracts") or []:
        aid = str(contract["awardID"]) if contract.get("awardID") is not None else None
        referred.add(aid)
        cid = contract.get("id", contract.get("awardID"))
        out[f"{ocid}/{cid}"] = entry(contract, awards.get(aid or "", {}))
        award_of[f"{ocid}/{cid}"] = awards.get(aid or "", {})
    for aid, award in awards.items():
        if aid not in referred and str(award.get("status") or "").lower() not in INACTIVE:
            out[f"{ocid}/award:{aid}"] = entry(award, award)
            award_of[f"{ocid}/award:{aid}"] = award
    tender_items = [i for i in (release.get("tender") or {}).get("items") or [] if isinstance(i, dict)]
    for cid, award in award_of.items():  # no items of its own or its award's: the tender's of the award's lots
        if not out[cid]["items"] and award.get("relatedLots"):
            lots = {str(lot) for lot in award["relatedLots"]}
            out[cid]["items"] = item_entries([i for i in tender_items if str(i.get("relatedLot")) in lots])
    if len(out) == 1:  # one contract for no lot: what the tender lists is what it buys
        ((cid, only),) = out.items()
        if not only["items"] and not award_of.get(cid, {}).get("relatedLots"):
            only["items"] = item_entries(tender_items)
    return out


def stored(path: Path, skip_invalid: bool, encoding: str | None) -> tuple[dict[str, dict], list[dict]]:
    """contract id -> what is stored (as `expected` says it), and the records set aside as invalid."""
    from supplygraph.loaders import read_source

    bundle = read_source(path, skip_invalid=skip_invalid, encoding=encoding)
    names = {}  # node id -> its identifier (scheme-id) where it has one, else its name
    for table in ("companies", "affiliates"):
        if table in bundle.tables:
            for r in bundle.tables[table].to_pylist():
                scheme, number = r.get("identifier_scheme"), r.get("identifier_id")
                names[r["id"]] = f"{scheme}-{number}" if scheme and number else r["name"]
    out: dict[str, dict] = {}
    if "contracts" not in bundle.tables:
        return out, bundle.rejects
    items: dict[str, list[tuple]] = defaultdict(list)
    for r in bundle.tables["contract_items"].to_pylist() if "contract_items" in bundle.tables else []:
        quantity = r["quantity"] if r["quantity"] is not None else r.get("ocds_quantity")
        price = r.get("unit_price")
        items[r["from_id"]].append(
            (
                r["item_id"].rpartition("/item:")[2],
                r["description"],
                None if quantity is None else float(quantity),
                r.get("unit"),
                None if price is None else float(price),
            )
        )
    for row in bundle.tables["contracts"].to_pylist():
        out[row["id"]] = {
            "value": row["value"],
            "currency": row["currency"],
            "suppliers": sorted({names.get(s, s) for s in row["supplier_id"] or []}),
            "buyer": names.get(row["affiliate_id"], row["affiliate_id"]),
            "items": sorted(items.get(row["id"], [])),
        }
    return out, bundle.rejects


def compare(path: Path, schema: Path = SCHEMA, skip_invalid: bool = False, encoding: str | None = None) -> dict:
    """Counts stored and expected, and the disagreements, for one OCDS file."""
    import ocdsmerge

    merger = ocdsmerge.Merger(schema=json.loads(schema.read_text()))
    have, rejects = stored(path, skip_invalid, encoding)
    rejected = {(r.get("line"), r.get("pointer")) for r in rejects if "canonical" not in r}
    releases, compiled = processes(documents(path, encoding or "utf-8-sig"), rejected)
    want: dict[str, dict] = {}
    for rels in releases.values():
        want.update(expected(merger.create_compiled_release(rels)))
    for release in compiled.values():
        want.update(expected(release))
    for r in rejects:  # a contract set aside after merging (say, it ends before it starts)
        if r.get("canonical") == "contracts":
            want.pop(r["id"], None)
    disagreements = []
    for cid in sorted(set(want) | set(have)):
        if cid not in have:
            disagreements.append(f"{cid}: expected, not stored")
        elif cid not in want:
            disagreements.append(f"{cid}: stored, not expected")
        else:
            for field in ("value", "currency", "suppliers", "buyer", "items"):
                if want[cid][field] != have[cid][field]:
                    disagreements.append(f"{cid}: {field} {have[cid][field]!r} stored, {want[cid][field]!r} expected")

    def totals(side: dict[str, dict]) -> dict[str, Any]:
        return {
            "contracts": len(side),
            "value": round(sum(c["value"] or 0 for c in side.values()), 2),
            "suppliers": len({s for c in side.values() for s in c["suppliers"]}),
            "buyers": len({c["buyer"] for c in side.values()}),
            "items": sum(len(c["items"]) for c in side.values()),
        }

    return {
        "file": str(path),
        "stored": totals(have),
        "expected": totals(want),
        "disagreements": disagreements,
        "rejected": len(rejects),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--schema", type=Path, default=SCHEMA, help="OCDS release schema for ocdsmerge")
    parser.add_argument("--skip-invalid", action="store_true", help="load as `supplygraph load --skip-invalid` does")
    parser.add_argument("--encoding", help="the files' encoding when not UTF-8")
    args = parser.parse_args()
    total = 0
    for path in args.files:
        report = compare(path, args.schema, args.skip_invalid, args.encoding)
        s, e = report["stored"], report["expected"]
        print(f"{path}")
        for key in ("contracts", "value", "suppliers", "buyers", "items"):
            print(f"  {key:<10} stored {s[key]:>16,}  ocdsmerge {e[key]:>16,}")
        if report["rejected"]:
            print(f"  set aside as invalid (--skip-invalid): {report['rejected']} problems, left out of both sides")
        print(f"  disagreements: {len(report['disagreements'])}")
        for line in report["disagreements"]:
            print(f"    {line}")
        total += len(report["disagreements"])
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
