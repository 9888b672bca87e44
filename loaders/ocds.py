"""Open Contracting Data Standard: release packages, record packages and JSON Lines of releases.

Mapping (OCDS 1.1): parties with role `buyer` -> affiliates (a procuring entity only where no buyer is
named; otherwise kept on the contracts as `procuring_entity` and `procuring_entity_id`), `supplier` -> companies (identifier scheme and id
kept; the id is `<scheme>-<id>` as in org-id.guide, else `<ocid>/<party id>`); awards and contracts -> one
contract per award (`<ocid>/<awardID>`, the contract's values win over the award's); items with a named model
(`model`/`brand` fields or item `attributes` of those names) -> products and contract items; other items give
the contract its CPV code and `item_categories`; `relatedProcesses` with relationship `framework` -> the
call-off's framework_id (the framework's contract in the same input). Releases of one ocid are merged field by
field in date order (later wins). Large inputs are streamed (ijson, or line by line) and their rows
hash-partitioned to temporary files (loaders.canonical.TableBuilder): memory holds one partition, not the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson
import polars as pl
import pyarrow as pa

from graph.errors import BundleError, Problem
from graph.store import Progress
from loaders.bundle import Bundle
from loaders.canonical import TableBuilder, Ticker, partitions_for

ITEM_PREFIXES = ("releases.item", "records.item", "item")
CPV_CATEGORY = (  # CPV prefix -> product category
    ("30213100", "notebook"),
    ("30213200", "tablet"),
    ("30213300", "desktop"),
    ("30213000", "desktop"),
    ("30214000", "workstation"),
    ("48820000", "server"),
    ("30231", "monitor"),
    ("30232", "mfd"),
    ("301211", "mfd"),
    ("30120", "mfd"),
    ("32250", "phone"),
)
SLUG = re.compile(r"[^a-z0-9]+")


def cpv_category(code: str | None) -> str | None:
    if not code:
        return None
    return next((cat for prefix, cat in CPV_CATEGORY if code.startswith(prefix)), "other")


def slug(text: str) -> str:
    return SLUG.sub("-", text.lower()).strip("-")


def name_slug(name: str) -> str:
    """An id part for a company known only by name: name variants ("Co., Ltd.", "Company Limited") agree."""
    from graph.resolve import name_key

    return slug(name_key(name)) or slug(name)


def _releases(path: Path, out: TableBuilder, tick: Ticker) -> Iterator[tuple[dict, int, str]]:
    """(release, line or index, JSON pointer) for every release in the file."""
    if path.suffix.lower() in (".jsonl", ".ndjson") or path.name.lower().endswith(".jsonl.gz"):
        with path.open("rb") as fh:
            for lineno, raw in enumerate(fh, 1):
                if lineno % 256 == 0:
                    tick(fh.tell())
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    out.problem(
                        "", lineno, f"broken JSON: {getattr(exc, 'msg', exc)} at character {getattr(exc, 'colno', '?')}"
                    )
                    continue
                yield from _unpack(obj, lineno, "", out)
        return
    out.by_line = False
    index = 0
    with path.open("rb") as fh:
        try:
            events = ijson.parse(fh, use_float=True)
            for prefix, event, value in events:
                if prefix in ITEM_PREFIXES and event == "start_map":
                    builder = ijson.ObjectBuilder()
                    builder.event(event, value)
                    for prefix2, event2, value2 in events:
                        builder.event(event2, value2)
                        if prefix2 == prefix and event2 == "end_map":
                            break
                    pointer = "#/" + prefix.replace(".item", f"/{index}").replace("item", str(index), 1)
                    yield from _unpack(builder.value, index + 1, pointer, out, top=prefix)
                    index += 1
                    if index % 64 == 0:
                        tick(fh.tell())
        except ijson.JSONError as exc:
            where = f"#/releases/{index}" if index else ""
            out.problem(where, None, f"broken JSON near byte {fh.tell():,} (after {index} complete releases): {exc}")
    if index == 0 and not out.problems:
        out.problem(
            "", None, "no OCDS releases or records found; expected a release package, a record package or JSON Lines"
        )


def _unpack(obj: Any, line: int, pointer: str, out: TableBuilder, top: str = "") -> Iterator[tuple[dict, int, str]]:
    if not isinstance(obj, dict):
        out.problem(pointer, line, f"expected a JSON object, found {type(obj).__name__}")
        return
    if top == "records.item" or "compiledRelease" in obj or ("releases" in obj and "ocid" in obj):
        if isinstance(obj.get("compiledRelease"), dict):
            yield obj["compiledRelease"], line, f"{pointer or '#'}/compiledRelease"
            return
        for i, rel in enumerate(_list(obj, "releases", pointer, line, out)):
            if isinstance(rel, dict) and "ocid" in rel:
                yield rel, line, f"{pointer or '#'}/releases/{i}"
            else:
                out.warn(f"{pointer or '#'}/releases/{i}", line, "linked release (url only) ignored")
        return
    if "releases" in obj:  # a package on one line
        for i, rel in enumerate(_list(obj, "releases", pointer, line, out)):
            yield rel, line, f"{pointer or '#'}/releases/{i}"
        return
    yield obj, line, pointer


def _list(obj: dict, key: str, pointer: str, line: int, out: TableBuilder) -> list:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        out.problem(f"{pointer or '#'}/{key}", line, f"expected an array, found {type(value).__name__}")
        return []
    return value


def _obj(obj: dict, key: str, pointer: str, line: int, out: TableBuilder) -> dict:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        out.problem(f"{pointer or '#'}/{key}", line, f"expected an object, found {type(value).__name__}")
        return {}
    return value


def _str(obj: dict, key: str, pointer: str, line: int, out: TableBuilder) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and key == "id":
        return str(value)  # OCDS allows integer ids
    if not isinstance(value, str):
        out.problem(f"{pointer or '#'}/{key}", line, f"expected a string, found {type(value).__name__}")
        return None
    return value


def _num(obj: dict, key: str, pointer: str, line: int, out: TableBuilder) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        out.problem(f"{pointer or '#'}/{key}", line, f"expected a number, found {type(value).__name__} {value!r}")
        return None
    return float(value)


def _day(obj: dict, key: str, pointer: str, line: int, out: TableBuilder) -> str | None:
    value = _str(obj, key, pointer, line, out)
    return value[:10] if value else None


class _Release:
    """Turns one release into canonical rows."""

    def __init__(self, out: TableBuilder, release: dict, line: int, pointer: str) -> None:
        self.out, self.r, self.line, self.p = out, release, line, pointer or "#"
        self.ocid = _str(release, "ocid", self.p, line, out)
        self.order = _str(release, "date", self.p, line, out) or ""
        self.parties: dict[str, str] = {}  # party id -> node id
        self.procuring: list[tuple[dict, str]] = []  # procuring entities that are not the buyer: (row, where)

    def add(self, table: str, row: dict, where: str) -> None:
        self.out.add(table, row, self.line, where, self.order)

    def run(self) -> None:
        if not self.ocid:
            self.out.problem(self.p, self.line, "release has no ocid")
            return
        buyer_ref = _obj(self.r, "buyer", self.p, self.line, self.out)
        for i, party in enumerate(_list(self.r, "parties", self.p, self.line, self.out)):
            self.party(party, f"{self.p}/parties/{i}")
        buyer = self.parties.get(str(buyer_ref.get("id"))) if buyer_ref else None
        if buyer is None:
            buyer = next((nid for nid in self.parties.values() if nid.startswith("buyer:")), None)
        if buyer is None and self.procuring:  # no buyer stated: the procuring entity buys
            row, where = self.procuring.pop(0)
            self.add("affiliates", row, where)
            buyer = row["affiliate_id"]
        buyer = buyer.removeprefix("buyer:") if buyer else None
        tender = _obj(self.r, "tender", self.p, self.line, self.out)
        tender_title = _str(tender, "title", f"{self.p}/tender", self.line, self.out)
        framework = None
        for i, rel in enumerate(_list(self.r, "relatedProcesses", self.p, self.line, self.out)):
            if isinstance(rel, dict) and "framework" in (rel.get("relationship") or []):
                framework = _str(rel, "identifier", f"{self.p}/relatedProcesses/{i}", self.line, self.out)
        awards: dict[str, dict] = {}
        for i, award in enumerate(_list(self.r, "awards", self.p, self.line, self.out)):
            where = f"{self.p}/awards/{i}"
            if not isinstance(award, dict):
                self.out.problem(where, self.line, "expected an object")
                continue
            aid = _str(award, "id", where, self.line, self.out) or str(i)
            awards[aid] = award
            self.contract(aid, award, where, buyer, tender_title, framework, award)
        for i, contract in enumerate(_list(self.r, "contracts", self.p, self.line, self.out)):
            where = f"{self.p}/contracts/{i}"
            if not isinstance(contract, dict):
                self.out.problem(where, self.line, "expected an object")
                continue
            key = _str(contract, "awardID", where, self.line, self.out) or _str(
                contract, "id", where, self.line, self.out
            )
            self.contract(key or str(i), contract, where, buyer, tender_title, framework, awards.get(key or "", {}))

    def party(self, party: Any, where: str) -> None:
        if not isinstance(party, dict):
            self.out.problem(where, self.line, "expected an object")
            return
        ident = _obj(party, "identifier", where, self.line, self.out)
        scheme = _str(ident, "scheme", f"{where}/identifier", self.line, self.out)
        number = _str(ident, "id", f"{where}/identifier", self.line, self.out)
        pid = _str(party, "id", where, self.line, self.out) or ""
        node = f"{scheme}-{number}" if scheme and number else f"{self.ocid}/{pid}"
        roles = party.get("roles") or []
        if not isinstance(roles, list):
            self.out.problem(f"{where}/roles", self.line, f"expected an array, found {type(roles).__name__}")
            roles = []
        address = _obj(party, "address", where, self.line, self.out)
        country = _str(address, "countryName", f"{where}/address", self.line, self.out)
        name = _str(party, "name", where, self.line, self.out)
        common = {
            "name": name,
            "country": country,
            "identifier_scheme": scheme,
            "identifier_id": number,
            "ocds_party_id": pid,
            "street_address": _str(address, "streetAddress", f"{where}/address", self.line, self.out),
        }
        if "buyer" in roles:
            self.add("affiliates", {"affiliate_id": node, **common}, where)
            self.parties[pid] = "buyer:" + node
        elif "procuringEntity" in roles:  # kept on the buyer's contracts, not an affiliate without contracts
            self.procuring.append(({"affiliate_id": node, **common}, where))
        if "supplier" in roles:
            lei = number if scheme == "XI-LEI" else None
            self.add("companies", {"company_id": node, **common, "lei": lei, "roles": "reseller"}, where)
            self.parties.setdefault(pid, node)

    def contract(
        self, key: str, obj: dict, where: str, buyer: str | None, title: str | None, framework: str | None, award: dict
    ) -> None:
        period = _obj(obj, "period" if "period" in obj else "contractPeriod", where, self.line, self.out)
        value = _obj(obj, "value", where, self.line, self.out)
        supplier = None
        for i, s in enumerate(_list(award, "suppliers", where, self.line, self.out)):
            if isinstance(s, dict) and i == 0:
                supplier = self.parties.get(str(s.get("id")), "").removeprefix("buyer:") or None
        cid = f"{self.ocid}/{key}"
        cpvs: list[str] = []
        categories: list[str] = []
        for i, item in enumerate(_list(obj, "items", where, self.line, self.out)):
            self.item(cid, item, f"{where}/items/{i}", cpvs, categories)
        row = {
            "contract_id": cid,
            "affiliate_id": buyer,
            "supplier_id": supplier,
            "title": _str(obj, "title", where, self.line, self.out) or title,
            "start_date": _day(period, "startDate", f"{where}/period", self.line, self.out),
            "end_date": _day(period, "endDate", f"{where}/period", self.line, self.out),
            "value": _num(value, "amount", f"{where}/value", self.line, self.out),
            "currency": _str(value, "currency", f"{where}/value", self.line, self.out),
            "cpv": cpvs[0] if cpvs else None,
            "item_categories": sorted(set(categories)),
            "ocid": self.ocid,
            "framework_ocid": framework,
            "status": _str(obj, "status", where, self.line, self.out),
            "procuring_entity": "|".join(p["name"] for p, _ in self.procuring if p.get("name")) or None,
            "procuring_entity_id": "|".join(p["affiliate_id"] for p, _ in self.procuring) or None,
        }
        self.add("contracts", row, where)

    def item(self, cid: str, item: Any, where: str, cpvs: list[str], categories: list[str]) -> None:
        if not isinstance(item, dict):
            self.out.problem(where, self.line, "expected an object")
            return
        cls = _obj(item, "classification", where, self.line, self.out)
        code = _str(cls, "id", f"{where}/classification", self.line, self.out)
        if code and (_str(cls, "scheme", f"{where}/classification", self.line, self.out) or "CPV").upper() == "CPV":
            cpvs.append(code.split("-")[0])
        attrs = {}
        for i, attr in enumerate(_list(item, "attributes", where, self.line, self.out)):
            if isinstance(attr, dict) and isinstance(attr.get("name"), str):
                attrs[attr["name"].lower()] = attr.get("value")
            else:
                self.out.problem(f"{where}/attributes/{i}", self.line, "expected an object with a name")
        model = item.get("model") or attrs.get("model")
        brand = item.get("brand") or attrs.get("brand") or attrs.get("manufacturer")
        category = cpv_category(code.split("-")[0] if code else None)
        if not (model and brand):
            if category:
                categories.append(category)
            return
        brand_id = f"brand:{name_slug(str(brand))}"
        product_id = f"product:{name_slug(str(brand))}:{slug(str(model))}"
        self.add("companies", {"company_id": brand_id, "name": str(brand), "roles": "brand"}, where)
        self.add(
            "products",
            {"product_id": product_id, "brand_id": brand_id, "model": str(model), "category": category},
            where,
        )
        unit = _obj(_obj(item, "unit", where, self.line, self.out), "value", f"{where}/unit", self.line, self.out)
        quantity = _num(item, "quantity", where, self.line, self.out)
        price = _num(unit, "amount", f"{where}/unit/value", self.line, self.out)
        total = quantity * price if quantity is not None and price is not None else None
        qty = str(int(quantity)) if quantity is not None and quantity == int(quantity) else quantity
        self.add(
            "contract_items", {"contract_id": cid, "product_id": product_id, "quantity": qty, "value": total}, where
        )


def read_ocds(path: Path, name: str | None = None, progress: Progress | None = None) -> Bundle:
    path = Path(path)
    size = path.stat().st_size
    out = TableBuilder(path.name, "ocds", partitions=partitions_for(size))
    tick = Ticker(progress, f"reading {path.name} (bytes)", size)
    for release, line, pointer in _releases(path, out, tick):
        _Release(out, release, line, pointer).run()
    tick(size, final=True)
    if out.problems:
        raise BundleError(out.problems)
    _link_frameworks(out)
    return out.build(name or path.stem)


def _link_frameworks(out: TableBuilder) -> None:
    """framework_ocid -> framework_id: the framework process's first contract in this input.

    One partition of contracts at a time: first the framework ocids referred to, then the first contract of each
    of those processes, then the call-offs joined to them (memory: the frameworks, not the contracts)."""
    parts = out.merged("contracts")
    if not any("framework_ocid" in p.column_names for p in parts):
        return

    def frame(table: pa.Table, columns: list[str] | None = None) -> pl.DataFrame:
        result = pl.from_arrow(table.select(columns) if columns else table)
        assert isinstance(result, pl.DataFrame)
        return result

    with_framework = [p for p in parts if "framework_ocid" in p.column_names]
    wanted = pl.concat([frame(p, ["framework_ocid"]).drop_nulls().unique() for p in with_framework]).unique()
    firsts = pl.concat(
        [
            frame(p, ["ocid", "contract_id", "_order"]).join(
                wanted, left_on="ocid", right_on="framework_ocid", how="semi"
            )
            for p in parts
        ]
    )
    lookup = (
        firsts.sort("_order")
        .group_by("ocid", maintain_order=True)
        .agg(pl.col("contract_id").first())
        .rename({"ocid": "framework_ocid", "contract_id": "framework_id"})
    )
    linked = []
    for part in parts:
        if "framework_ocid" not in part.column_names:
            linked.append(part)
            continue
        joined = frame(part).join(lookup, on="framework_ocid", how="left", maintain_order="left")
        missing = joined.filter(pl.col("framework_ocid").is_not_null() & pl.col("framework_id").is_null())
        for row in missing.unique("framework_ocid", maintain_order=True).iter_rows(named=True):
            out.warnings.append(
                out.place(
                    row["_where"],
                    int(row["_line"]),
                    None,
                    f"framework {row['framework_ocid']!r} is not in this input; the call-off is kept without it",
                )
            )
        linked.append(out.keep(joined.to_arrow()))
        del joined
    out.replace_merged("contracts", linked)


def looks_like_ocds(first: dict) -> bool:
    return isinstance(first, dict) and any(k in first for k in ("ocid", "releases", "records"))


__all__ = ["Problem", "looks_like_ocds", "read_ocds"]
