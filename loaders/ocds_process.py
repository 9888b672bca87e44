"""Joining what OCDS spreads over the releases of one process (ocid), after they are merged.

`join_processes`: a contract takes the buyer of its process (the latest release that names one) and the suppliers
of its award when its own release lacks them; an award that no contract refers to becomes a contract unless it is
unsuccessful or cancelled; a contract whose awardID names no award of the process, or whose process names no buyer,
is a warning. `link_frameworks`: framework_ocid -> framework_id. Both work one partition of contracts at a time
(contracts are partitioned by ocid), so memory holds a partition, not the input.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.loaders.canonical import TableBuilder

INACTIVE_AWARDS = ("unsuccessful", "cancelled")
WITHDRAWN = "\x00withdrawn"  # a field a release set to null: it wins the merge, then means unknown
RESETTABLE = ("value", "currency", "start_date", "end_date")
WARN_EACH = 20  # warnings of one kind listed one by one; the rest are counted


def _frame(table: pa.Table, columns: list[str] | None = None) -> pl.DataFrame:
    result = pl.from_arrow(table.select(columns) if columns else table)
    assert isinstance(result, pl.DataFrame)
    return result


class _Warnings:
    def __init__(self, out: TableBuilder) -> None:
        self.out, self.counts = out, {"award": 0, "buyer": 0}

    def add(self, kind: str, row: dict, message: str) -> None:
        self.counts[kind] += 1
        if self.counts[kind] <= WARN_EACH:
            self.out.warnings.append(self.out.place(row["_where"] or "", int(row["_line"]), None, message))

    def summary(self, kind: str, message: str) -> None:
        if self.counts[kind] > WARN_EACH:
            self.out.warn("", None, f"... and {self.counts[kind] - WARN_EACH} more {message}")


def _join(frame: pl.DataFrame, warnings: _Warnings) -> tuple[pl.DataFrame, list[str], int]:
    """The contracts of one partition; the ids of award rows and contracts left out; awards skipped as inactive."""
    kind = pl.col("ocds_kind")
    buyers = frame.sort("_order").group_by("ocid").agg(pl.col("affiliate_id").drop_nulls().last().alias("_buyer"))
    awards = frame.filter(kind == "award").select(
        "ocid",
        "award_id",
        pl.col("supplier_id").alias("_award_suppliers"),
        pl.col("award_status").alias("_award_status"),
        pl.lit(True).alias("_has_award"),
    )
    contracts = frame.filter(kind == "contract")
    referred = contracts.select("ocid", "award_id").drop_nulls().unique()
    contracts = contracts.join(awards, on=["ocid", "award_id"], how="left", maintain_order="left").with_columns(
        pl.coalesce("supplier_id", "_award_suppliers").alias("supplier_id"),
        pl.coalesce("award_status", "_award_status").alias("award_status"),
    )
    dangling = contracts.filter(
        pl.col("award_id").is_not_null() & pl.col("award_in_release").is_null() & pl.col("_has_award").is_null()
    )
    for row in dangling.iter_rows(named=True):
        warnings.add(
            "award",
            row,
            f"contract {row['contract_id']!r} refers to award {row['award_id']!r}, which no release of "
            f"{row['ocid']} has; kept without a supplier",
        )
    unreferred = frame.filter(kind == "award").join(referred, on=["ocid", "award_id"], how="anti")
    inactive = pl.col("award_status").str.to_lowercase().is_in(list(INACTIVE_AWARDS)).fill_null(False)
    award_contracts = unreferred.filter(~inactive)
    dropped = frame.filter(kind == "award").join(award_contracts, on="contract_id", how="anti")["contract_id"]
    merged = pl.concat(
        [contracts.drop("_award_suppliers", "_award_status", "_has_award"), award_contracts], how="diagonal_relaxed"
    )
    merged = merged.join(buyers, on="ocid", how="left", maintain_order="left").with_columns(
        pl.coalesce("affiliate_id", "_buyer").alias("affiliate_id")
    )
    unknown = merged.filter(pl.col("affiliate_id").is_null())
    for row in unknown.iter_rows(named=True):
        warnings.add(
            "buyer",
            row,
            f"contract {row['contract_id']!r}: no release of {row['ocid']} names its buyer; not loaded (every "
            "contract of the graph is held by an affiliate)",
        )
    merged = merged.filter(pl.col("affiliate_id").is_not_null()).drop("_buyer")
    left_out = dropped.to_list() + unknown["contract_id"].to_list()
    return merged, left_out, unreferred.filter(inactive).height


def _complete(part: pa.Table) -> bool:
    """Every row is a contract whose own release named its buyer and its award (or it names no award)."""
    kinds = pc.unique(part.column("ocds_kind")).to_pylist()
    if kinds not in ([], ["contract"]) or part.column("affiliate_id").null_count:
        return False
    unmatched = pc.and_(pc.is_valid(part.column("award_id")), pc.is_null(part.column("award_in_release")))
    return not pc.any(unmatched).as_py()


def _finish(table: pa.Table) -> pa.Table:
    """Without the columns only the join needs; `award_status` kept where it says more than `active`."""
    for column in RESETTABLE:
        if column in table.column_names:
            values = table.column(column).cast(pa.string())
            gone = pc.fill_null(pc.equal(values, WITHDRAWN), False)
            if pc.any(gone).as_py():
                table = table.set_column(
                    table.column_names.index(column), column, pc.if_else(gone, pa.scalar(None, pa.string()), values)
                )
    status = table.column("award_status").cast(pa.string())
    active = pc.fill_null(pc.equal(status, "active"), False)
    table = table.set_column(
        table.column_names.index("award_status"),
        "award_status",
        pc.if_else(active, pa.scalar(None, pa.string()), status),
    )
    return table.drop_columns([c for c in ("ocds_kind", "award_in_release", "award_id", "award_lots") if c in table.column_names])


def join_processes(out: TableBuilder) -> None:
    parts = out.merged("contracts")
    if not any("ocds_kind" in p.column_names for p in parts):
        return
    warnings = _Warnings(out)
    joined, left_out, inactive = [], [], 0
    for part in parts:
        for column in ("award_id", "award_in_release", "award_status", "supplier_id", "affiliate_id"):
            if column not in part.column_names:
                part = part.append_column(column, pa.nulls(part.num_rows, pa.string()))
        if _complete(part):  # every row a contract with its buyer and its award: nothing to join
            joined.append(_finish(part))
            continue
        contracts, dropped, skipped = _join(_frame(part), warnings)
        left_out += dropped
        inactive += skipped
        joined.append(out.keep(_finish(contracts.to_arrow())))
        del contracts
    out.replace_merged("contracts", joined)
    warnings.summary("award", "contracts referring to an award their process does not have")
    warnings.summary("buyer", "contracts without a buyer, not loaded")
    if inactive:
        out.warn("", None, f"{inactive} unsuccessful or cancelled awards without a contract skipped")
    if left_out and "contract_items" in out.tables():
        gone = pa.array(left_out, pa.string())
        items = [
            p.filter(pc.invert(pc.is_in(p.column("contract_id"), value_set=gone))) for p in out.merged("contract_items")
        ]
        out.replace_merged("contract_items", [out.keep(t) for t in items])


def link_frameworks(out: TableBuilder) -> None:
    """framework_ocid -> framework_id: the framework process's first contract in this input.

    One partition of contracts at a time: first the framework ocids referred to, then the first contract of each
    of those processes, then the call-offs joined to them (memory: the frameworks, not the contracts)."""
    parts = out.merged("contracts")
    if not any("framework_ocid" in p.column_names for p in parts):
        return

    with_framework = [p for p in parts if "framework_ocid" in p.column_names]
    wanted = pl.concat([_frame(p, ["framework_ocid"]).drop_nulls().unique() for p in with_framework]).unique()
    firsts = pl.concat(
        [
            _frame(p, ["ocid", "contract_id", "_order"]).join(
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
        joined = _frame(part).join(lookup, on="framework_ocid", how="left", maintain_order="left")
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
