"""The id of every contract item, over the bundles in load order (spec "Version 1.1", contract_items.csv).

An item's id is its `item_id`, else `<contract_id>#<n>` (n counts the contract's rows over the bundles in load
order, as if their files were one). An `item_id` is unique only in its bundle: when an earlier row (of an
earlier bundle, or an automatic id) already gave that id to an item of another contract, the later item's id
is `<contract_id>:<item_id>`, with a warning; the same `item_id` with the same contract in two bundles stays one
item (one contract's items split over bundles). So the ids of a bundle never change when a later one arrives,
and review decisions, kept by item id, keep applying. An id that would still name items of two contracts (a
qualified id that is also some row's `item_id`, an automatic id taken by an `item_id`) is refused.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
from supplygraph.graph.errors import Problem

FILE = "contract_items.csv"


class ItemIds:
    """Gives every contract-item row its id; collects the warnings and problems of ids taken by another contract."""

    def __init__(self, tables: Iterable[pa.Table]) -> None:
        self.given: set[str] = set()  # every row's own item_id, in any bundle
        for table in tables:
            if "item_id" in table.column_names:
                self.given.update(v for v in table.column("item_id").to_pylist() if v is not None)
        self.owner: dict[str, tuple[str, str]] = {}  # id -> (contract, bundle) of the first row given it
        self.rows: dict[str, int] = {}  # contract -> its rows so far
        self.warnings: list[Problem] = []
        self.problems: list[Problem] = []

    def of(self, bundle: str, contract: str, item_id: str | None, line: int) -> str:
        """The id of the row at `line` of `bundle`'s contract_items."""
        self.rows[contract] = self.rows.get(contract, 0) + 1
        if item_id is None:
            return self._take(f"{contract}#{self.rows[contract]}", bundle, contract, line)
        taken = self.owner.get(item_id)
        if taken is None or taken[0] == contract:
            return self._take(item_id, bundle, contract, line)
        qualified = f"{contract}:{item_id}"
        if qualified in self.given:
            self.problems.append(
                Problem(
                    f"{bundle}/{FILE}",
                    line,
                    "item_id",
                    f"item_id {item_id!r} is already an item of contract {taken[0]!r} (bundle {taken[1]!r}), and "
                    f"{qualified!r}, the id this item would then get, is an item_id of its own: expected another item_id",
                )
            )
            return qualified
        self.warnings.append(
            Problem(
                f"{bundle}/{FILE}",
                line,
                "item_id",
                f"item_id {item_id!r} is already an item of contract {taken[0]!r} (bundle {taken[1]!r}); "
                f"this item of contract {contract!r} is {qualified!r}",
            )
        )
        return self._take(qualified, bundle, contract, line)

    def _take(self, item: str, bundle: str, contract: str, line: int) -> str:
        taken = self.owner.setdefault(item, (contract, bundle))
        if taken[0] != contract:
            self.problems.append(
                Problem(
                    f"{bundle}/{FILE}",
                    line,
                    "item_id",
                    f"this item's id {item!r} is already an item of contract {taken[0]!r} (bundle {taken[1]!r}): "
                    "expected an item_id no other contract's item has",
                )
            )
        return item
