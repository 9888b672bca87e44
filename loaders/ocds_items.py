"""OCDS items -> contract items of bundle version 1.1: description, CPV codes, quantity, unit, value and brand.

Which items a contract has. OCDS lists what was tendered (`tender/items`), what was awarded (`awards/items`) and
what was contracted (`contracts/items`); a contract that repeats nothing of its award leaves its items out. So a
contract's items are its own `contracts/items`; else the items of the award it names (`awardID`), and for an award
without a contract the award's own items; else the tender's items of the lots the award is for (`relatedLots` of
the award, `relatedLot` of the item); else, when the award names no lot and the process has a single contract,
all the tender's items (with several contracts and no lots nothing says which tender items each one got, so none
gets any). Releases of one process
are merged first, items by id as OCDS merges arrays of objects with ids: a later release wins field by field, so
a quantity amended by a later release is the later one.

An item's id is `<contract id>/item:<OCDS item id>` (its position from 1 when the item has no id), stable across
releases, so review decisions stay with it. Its CPV codes (`cpv`, a `|` list: the classification first, then the
additional classifications) are those of scheme CPV, or of no scheme when the code has the CPV form (8 digits and
a check digit); another scheme's code (a national catalogue) is no CPV code. `quantity` is the item's quantity when
it is a whole number (else it is kept as `ocds_quantity`); `unit` and `unit_id` are `unit/name` and `unit/id`;
`unit_price` and `currency` are `unit/value`; `value` is quantity times unit price. `brand_name` is the item's
`brand`, an attribute named brand, manufacturer or marca, or an additional classification of scheme BRAND or
MANUFACTURER (its description, else its id). An item without a description takes its classification's description;
an item with neither (and no product) describes nothing and is left out, counted in one warning.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl
import pyarrow as pa
from supplygraph.loaders.canonical import TableBuilder
from supplygraph.loaders.item_match import cpv_category
from supplygraph.loaders.name_ids import name_slug, slug
from supplygraph.loaders.ocds_fields import Fields
from supplygraph.loaders.ocds_process import INACTIVE_AWARDS

CPV_FORM = re.compile(r"^(\d{8})(-\d)?$")
BRAND_ATTRIBUTES = ("brand", "manufacturer", "marca", "marque", "marke")
BRAND_SCHEMES = ("BRAND", "MANUFACTURER")
MODEL_ATTRIBUTES = ("model", "modelo", "modele", "modell")
HELPERS = ("ocid", "award_id", "ocds_item_id", "related_lot")  # columns only the assignment needs


def cpv_code(f: Fields, cls: Any, where: str) -> str | None:
    """The 8 digits of a classification of scheme CPV (or of no scheme, with a code of the CPV form)."""
    if not isinstance(cls, dict):
        f.problem(where, f"expected an object, found {type(cls).__name__}")
        return None
    code = f.text(cls, "id", where)
    if not code:
        return None
    scheme = f.text(cls, "scheme", where)
    digits = re.match(r"\d{8}", code.strip())
    if scheme is not None and scheme.strip().upper() == "CPV":
        return digits.group(0) if digits else None
    found = CPV_FORM.match(code.strip()) if scheme is None else None
    return found.group(1) if found else None


def _first(values: list[Any]) -> str | None:
    """The first value that is a non-empty text (or a number, as text)."""
    for value in values:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return None


def item_fields(f: Fields, item: dict, where: str, position: int) -> dict[str, Any]:
    """The contract-item columns one OCDS item gives, with `ocds_item_id` and `_model` (for a product)."""
    cls = f.object(item, "classification", where)
    codes = [cpv_code(f, cls, f"{where}/classification")] if cls else []
    brands: list[str] = []
    extra = f.array(item, "additionalClassifications", where)
    for i, more in enumerate(extra):
        codes.append(cpv_code(f, more, f"{where}/additionalClassifications/{i}"))
        if isinstance(more, dict) and str(more.get("scheme") or "").strip().upper() in BRAND_SCHEMES:
            name = more.get("description") or more.get("id")
            if isinstance(name, str) and name.strip():
                brands.append(name.strip())
    attrs: dict[str, Any] = {}
    for i, attr in enumerate(f.array(item, "attributes", where)):
        if isinstance(attr, dict) and isinstance(attr.get("name"), str):
            attrs[attr["name"].strip().lower()] = attr.get("value")
        else:
            f.problem(f"{where}/attributes/{i}", "expected an object with a name")
    brand = _first([item.get("brand"), *(attrs.get(a) for a in BRAND_ATTRIBUTES), *brands])
    model = _first([item.get("model"), *(attrs.get(a) for a in MODEL_ATTRIBUTES)])
    unit = f.object(item, "unit", where)
    price = f.object(unit, "value", f"{where}/unit")
    description = f.text(item, "description", where) or (
        f.text(cls, "description", f"{where}/classification") if cls else None
    )
    return {
        "ocds_item_id": f.text(item, "id", where) or str(position),
        "description": description,
        "cpv": "|".join(dict.fromkeys(c for c in codes if c)) or None,
        "quantity": f.number(item, "quantity", where),
        "unit": f.text(unit, "name", f"{where}/unit"),
        "unit_id": f.text(unit, "id", f"{where}/unit"),
        "unit_price": f.number(price, "amount", f"{where}/unit/value"),
        "currency": f.text(price, "currency", f"{where}/unit/value"),
        "brand_name": brand,
        "related_lot": _first([item.get("relatedLot")]),
        "_model": model,
    }


def item_rows(
    f: Fields, ocid: str | None, owner: str, level: str, item: dict, where: str, position: int
) -> tuple[list[tuple[str, dict[str, Any]]], str | None, str | None]:
    """The rows one OCDS item gives: a contract-item row of `owner` (a contract, an award `<ocid>/award:<id>` or
    the tender `<ocid>#tender`; `assign_items` gives award and tender items to their contracts), and a brand and a
    product when the item names both. Also its first CPV code, and its category when it made no product (what
    the contract's `item_categories` list)."""
    row = item_fields(f, item, where, position)
    model, brand = row.pop("_model"), row["brand_name"]
    first = (row["cpv"] or "").split("|")[0] or None
    category = cpv_category(first) or ("other" if first else None)  # the spec's CPV table
    rows: list[tuple[str, dict[str, Any]]] = []
    product_id = None
    if model and brand:
        brand_id = f"brand:{name_slug(brand)}"
        product_id = f"product:{name_slug(brand)}:{slug(model)}"
        rows.append(("companies", {"company_id": brand_id, "name": brand, "roles": "brand"}))
        rows.append(
            ("products", {"product_id": product_id, "brand_id": brand_id, "model": model, "category": category})
        )
    rows.append(
        (
            "contract_items",
            {
                "contract_id": owner,
                "item_id": f"{owner}/item:{row['ocds_item_id']}",
                "product_id": product_id,
                "ocds_items_from": level,
                "ocid": ocid,
                "award_id": owner if level == "award" else None,
                **row,
            },
        )
    )
    return rows, first, None if product_id else category


def _frame(table: pa.Table) -> pl.DataFrame:
    result = pl.from_arrow(table)
    assert isinstance(result, pl.DataFrame)
    return result


def _contracts(out: TableBuilder) -> pl.DataFrame:
    """Every contract and award-contract of the input: its id, process, award key and the process's contract count."""
    frames = []
    for part in out.merged("contracts"):
        frame = _frame(part)
        for column in ("award_id", "ocds_kind", "ocid", "award_status", "award_lots"):
            if column not in frame.columns:
                frame = frame.with_columns(pl.lit(None, pl.String).alias(column))
        frames.append(frame.select("contract_id", "ocid", "award_id", "ocds_kind", "award_status", "award_lots"))
    if not frames:
        return pl.DataFrame(
            schema={
                "contract_id": pl.String,
                "ocid": pl.String,
                "award_key": pl.String,
                "lots": pl.String,
                "n": pl.UInt32,
            }
        )
    every = pl.concat(frames).filter(pl.col("ocds_kind").is_in(["contract", "award"]))
    lots = (  # an award in another release than its contract: its lots from its own row
        every.filter(pl.col("ocds_kind") == "award").select("ocid", "award_id", pl.col("award_lots").alias("lots"))
    )
    contracts = every.filter(pl.col("ocds_kind") == "contract")
    referred = contracts.select("ocid", "award_id").drop_nulls().unique()
    inactive = pl.col("award_status").str.to_lowercase().is_in(list(INACTIVE_AWARDS)).fill_null(False)
    awards = every.filter((pl.col("ocds_kind") == "award") & ~inactive)
    every = pl.concat([contracts, awards.join(referred, on=["ocid", "award_id"], how="anti")])
    key = (
        pl.when(pl.col("ocds_kind") == "contract")
        .then(pl.col("ocid") + "/award:" + pl.col("award_id"))
        .otherwise(pl.col("contract_id"))
    )
    counts = every.group_by("ocid").agg(pl.len().alias("n"))
    return (
        every.join(lots, on=["ocid", "award_id"], how="left")
        .select("contract_id", "ocid", key.alias("award_key"), pl.coalesce("award_lots", "lots").alias("lots"))
        .join(counts, on="ocid", how="left")
    )


def _assigned(items: pl.DataFrame, contracts: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """The items of one partition on the contracts they belong to; how many described nothing."""
    contracts = contracts.join(items.select("ocid").unique(), on="ocid", how="semi")
    level = pl.col("ocds_items_from")
    own = items.filter(level == "contract")
    with_own = own.select("contract_id").unique()
    rest = contracts.join(with_own, on="contract_id", how="anti")
    from_award = (
        items.filter(level == "award")
        .drop("contract_id")
        .join(rest.select("contract_id", "award_key"), left_on="award_id", right_on="award_key", how="inner")
    )
    rest = rest.join(from_award.select("contract_id").unique(), on="contract_id", how="anti")
    tender = items.filter(level == "tender").drop("contract_id")
    by_lot = (
        rest.filter(pl.col("lots").is_not_null())
        .with_columns(pl.col("lots").str.split("|").alias("lot"))
        .explode("lot")
        .select("contract_id", "ocid", "lot")
    )
    for_lots = tender.join(by_lot, left_on=["ocid", "related_lot"], right_on=["ocid", "lot"], how="inner")
    single = rest.filter(pl.col("lots").is_null() & (pl.col("n") == 1)).select("contract_id", "ocid")
    for_single = tender.join(single, on="ocid", how="inner")
    merged = pl.concat(
        [own, *(part.select(own.columns) for part in (from_award, for_lots, for_single))], how="vertical_relaxed"
    ).with_columns((pl.col("contract_id") + "/item:" + pl.col("ocds_item_id")).alias("item_id"))
    empty = merged["description"].is_null() & merged["product_id"].is_null()
    return merged.filter(~empty), int(empty.sum())


def _amounts(frame: pl.DataFrame) -> pl.DataFrame:
    """Whole quantities in `quantity` (others in `ocds_quantity`); value = quantity x unit price."""
    quantity = pl.col("quantity").cast(pl.Float64, strict=False)
    whole = (quantity >= 0) & (quantity == quantity.floor())
    price = pl.col("unit_price").cast(pl.Float64, strict=False)
    return frame.with_columns(
        pl.when(whole).then(quantity.cast(pl.Int64).cast(pl.String)).otherwise(None).alias("quantity"),
        pl.when(whole).then(None).otherwise(pl.col("quantity")).alias("ocds_quantity"),
        (quantity * price).cast(pl.String).alias("value"),
    )


def assign_items(out: TableBuilder) -> None:
    """Contract items from the merged OCDS items of each process (see the module's words); before join_processes."""
    if "contract_items" not in out.tables():
        return
    contracts = _contracts(out)
    parts, empty = [], 0
    for part in out.merged("contract_items"):
        frame = _frame(part)
        for column in ("award_id", "product_id", "description", "quantity", "unit_price", "related_lot"):
            if column not in frame.columns:
                frame = frame.with_columns(pl.lit(None, pl.String).alias(column))
        assigned, none = _assigned(frame, contracts)
        empty += none
        assigned = _amounts(assigned).drop([c for c in HELPERS if c in assigned.columns])
        parts.append(out.keep(assigned.to_arrow()))
    out.replace_merged("contract_items", parts)
    if empty:
        out.warn("", None, f"{empty} items with neither a description nor a product left out")
