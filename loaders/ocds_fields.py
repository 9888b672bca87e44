"""Typed access to the fields of one OCDS release: a wrong type is a problem at its JSON pointer, not a crash."""

from __future__ import annotations

from typing import Any

from supplygraph.loaders.canonical import TableBuilder


class Fields:
    """Reads fields of objects of one release (at `line` of the input), reporting wrong types to `out`."""

    def __init__(self, out: TableBuilder, line: int) -> None:
        self.out, self.line = out, line

    def problem(self, where: str, message: str) -> None:
        self.out.problem(where, self.line, message)

    def array(self, obj: dict, key: str, where: str) -> list:
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(f"{where}/{key}", f"expected an array, found {type(value).__name__}")
            return []
        return value

    def object(self, obj: dict, key: str, where: str) -> dict:
        value = obj.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(f"{where}/{key}", f"expected an object, found {type(value).__name__}")
            return {}
        return value

    def text(self, obj: dict, key: str, where: str) -> str | None:
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and key in ("id", "awardID"):
            return str(value)  # OCDS 1.0 and many publishers use integer ids
        if not isinstance(value, str):
            self.problem(f"{where}/{key}", f"expected a string, found {type(value).__name__}")
            return None
        return value

    def number(self, obj: dict, key: str, where: str) -> float | None:
        value: Any = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problem(f"{where}/{key}", f"expected a number, found {type(value).__name__} {value!r}")
            return None
        return float(value)

    def day(self, obj: dict, key: str, where: str) -> str | None:
        value = self.text(obj, key, where)
        return value[:10] if value else None
