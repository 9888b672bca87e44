"""Loaders: one module per input format, each turning source files into validated canonical records.

`read_source` picks the loader from the file's type and content; every loader returns the same `Bundle`
of canonical tables, so stores, queries and exposure need not know where the data came from.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

from supplygraph.graph.errors import BundleError, Problem
from supplygraph.graph.stores.protocol import Progress
from supplygraph.loaders.bundle import Bundle, read_bundle
from supplygraph.loaders.zip_limits import ZipLimits

FORMATS = ("bundle", "ocds", "oshub", "ftm", "xlsx")


def _first_json(path: Path, encoding: str | None = None) -> dict | None:
    """The keys of the first JSON Lines record, of a JSON document, or of the first item of a JSON array
    (`_array` set), to tell formats apart by content; None when the start is not JSON."""
    from supplygraph.loaders.jsonfile import open_utf8

    with open_utf8(path, encoding) as fh:
        while raw := fh.readline(1 << 24):
            if raw.strip():
                try:
                    first = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    break
                return first if isinstance(first, dict) else None
    import ijson

    keys: dict = {}
    with open_utf8(path, encoding) as fh:
        try:
            for prefix, event, value in ijson.parse(fh):
                if prefix == "" and event == "map_key":
                    keys[value] = None
                elif prefix == "item" and event == "map_key":
                    keys.update({value: None, "_array": True})
                elif prefix == "item" and event == "end_map":
                    break
        except (ijson.JSONError, UnicodeDecodeError):
            return keys or None
    return keys or None


def detect_format(path: Path, encoding: str | None = None) -> str:
    """bundle, ocds, oshub, ftm or xlsx, from the file type and a look at the content."""
    suffix = path.suffix.lower()
    if path.is_dir() or (suffix == ".zip" and zipfile.is_zipfile(path)):
        return "bundle"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix == ".csv":
        with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
            header = {h.strip().lower() for h in next(csv.reader(io.StringIO(fh.readline())), [])}
        from supplygraph.loaders.oshub import looks_like_oshub

        if looks_like_oshub(header):
            return "oshub"
        raise BundleError(
            [
                Problem(
                    str(path.name),
                    1,
                    None,
                    "a single CSV file is neither an Open Supply Hub "
                    "download nor its upload template; put bundle CSV files in a folder or .zip",
                )
            ]
        )
    if suffix in (".json", ".jsonl", ".ndjson", ".ijson", ".txt", ""):
        first = _first_json(path, encoding)
        if isinstance(first, dict):
            if "schema" in first and ("properties" in first or "id" in first):
                return "ftm"
            if "op" in first and "entity" in first:  # a yente/OpenSanctions delta file
                return "ftm"
            if any(k in first for k in ("ocid", "releases", "records", "uri", "publisher", "version")):
                return "ocds"
        if first is None:  # broken at the start, or not UTF-8: let the OCDS reader report where
            return "ocds"
        raise BundleError(
            [
                Problem(
                    path.name,
                    None,
                    None,
                    "JSON is neither OCDS (releases, records, ocid) nor FollowTheMoney entities (schema, properties)",
                )
            ]
        )
    raise BundleError(
        [
            Problem(
                path.name,
                None,
                None,
                f"unknown input type {suffix or '(none)'!r}; expected a bundle "
                "folder or .zip, OCDS .json/.jsonl, FtM .json/.jsonl, Open Supply Hub .csv or .xlsx",
            )
        ]
    )


def read_source(
    path: Path,
    name: str | None = None,
    format: str | None = None,
    progress: Progress | None = None,
    skip_invalid: bool = False,
    encoding: str | None = None,
    limits: ZipLimits | None = None,
) -> Bundle:
    """Read any supported input into validated canonical tables; raise BundleError naming where it is wrong.

    `progress(step, done, total)` is told how far reading has come (bytes of JSON, rows of CSV and sheets).
    With `skip_invalid`, invalid records are set aside in the bundle's `rejects` instead of refusing the input;
    `encoding` reads a JSON or CSV file that is not UTF-8; `limits`
    cap what a zipped bundle or a workbook may unpack to (default: from the settings)."""
    path = Path(path)
    if not path.exists():
        raise BundleError([Problem(str(path), None, None, "no such file or folder")])
    kind = format or detect_format(path, encoding)
    if kind == "bundle":
        return read_bundle(path, name, skip_invalid, limits)
    if kind == "ocds":
        from supplygraph.loaders.ocds import read_ocds

        return read_ocds(path, name, progress, skip_invalid, encoding)
    if kind == "oshub":
        from supplygraph.loaders.oshub import read_oshub

        return read_oshub(path, name, progress, skip_invalid, encoding)
    if kind == "ftm":
        from supplygraph.loaders.ftm import read_ftm

        return read_ftm(path, name, progress, skip_invalid, encoding)
    if kind == "xlsx":
        from supplygraph.loaders.xlsx import read_xlsx

        return read_xlsx(path, name, progress, skip_invalid, limits)
    raise BundleError(
        [Problem(str(path), None, None, f"unknown format {kind!r}; expected one of {', '.join(FORMATS)}")]
    )
