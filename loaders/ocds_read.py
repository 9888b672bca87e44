"""The releases of an OCDS file, however it is packaged: a release package, a record package (a record's
compiledRelease, else its releases), JSON Lines of releases or of packages, a JSON array of releases, records or
packages. Streamed: one release (or one package of an array) at a time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from supplygraph.loaders.canonical import TableBuilder, Ticker
from supplygraph.loaders.jsonfile import is_json_lines, json_document, json_lines

RECORD_PREFIXES = ("releases.item", "records.item", "item", "item.releases.item", "item.records.item")


def releases(
    path: Path, out: TableBuilder, tick: Ticker, encoding: str | None = None
) -> Iterator[tuple[Any, int, str]]:
    """(release, line or index, JSON pointer) for every release in the file, packages and records unpacked."""
    if is_json_lines(path, encoding):
        values = json_lines(path, out, tick, encoding)
    else:
        values = json_document(path, out, tick, RECORD_PREFIXES, encoding)
    found = False
    for value, line, where in values:
        for release, pointer in unpack(value, where, line, out):
            found = True
            yield release, line, pointer
    if not found and not out.problems:
        out.problem(
            "", None, "no OCDS releases or records found; expected a release package, a record package or JSON Lines"
        )


def unpack(obj: Any, pointer: str, line: int, out: TableBuilder) -> Iterator[tuple[Any, str]]:
    """The releases in one value: a release, a record (its compiledRelease, else its releases) or a package."""
    if not isinstance(obj, dict):
        yield obj, pointer  # reported as a bad record by the mapping
        return
    base = pointer or "#"
    if "compiledRelease" in obj or ("releases" in obj and "ocid" in obj):  # a record
        if isinstance(obj.get("compiledRelease"), dict):
            yield obj["compiledRelease"], f"{base}/compiledRelease"
            return
        for i, rel in enumerate(obj.get("releases") or []):
            if isinstance(rel, dict) and "ocid" in rel:
                yield rel, f"{base}/releases/{i}"
            else:
                out.warn(f"{base}/releases/{i}", line, "linked release (url only) ignored")
        return
    for key in ("releases", "records"):  # a package (on one line, or an item of an array of packages)
        if key in obj and "ocid" not in obj:
            items = obj[key]
            if not isinstance(items, list):
                out.problem(f"{base}/{key}", line, f"expected an array, found {type(items).__name__}")
                return
            for i, item in enumerate(items):
                yield from unpack(item, f"{base}/{key}/{i}", line, out)
            return
    yield obj, pointer
