"""The disclosure bundle (../shared/spec/bundle-format.md): a folder or .zip of CSV files.

`read_bundle` yields nothing until every file is valid: it returns one `Bundle` of canonical
record tables, or raises `BundleError` with every problem found (file, line, column, expectation).
References between files are checked later, across every bundle in the graph (graph.tables).
"""

from __future__ import annotations

import functools
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pyarrow as pa
from supplygraph.graph.errors import BundleError, Problem
from supplygraph.graph.schema import SCHEMA
from supplygraph.loaders.csvfile import read_csv
from supplygraph.loaders.file_checks import check_file
from supplygraph.loaders.quarantine import drop_references
from supplygraph.loaders.zip_limits import MemberReader, ZipLimits, check_declared


@dataclass
class Bundle:
    """Validated canonical records of one bundle: table name (file stem) -> Arrow table."""

    name: str
    tables: dict[str, pa.Table]
    warnings: list[Problem] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)  # records set aside by --skip-invalid (loaders.quarantine)

    @property
    def rows(self) -> int:
        return sum(t.num_rows for t in self.tables.values())


def bundle_name(path: Path) -> str:
    return path.stem if path.suffix.lower() == ".zip" else path.resolve().name


def _folder_files(path: Path) -> tuple[dict[str, Callable[[], bytes]], list[str], list[Problem]]:
    """A folder's bundle files. A symbolic link is followed only to a file inside the bundle folder: one
    leaving it (to /etc/passwd, to another user's data) is refused, as is anything but a regular file."""
    known = set(SCHEMA.files)
    found: dict[str, Callable[[], bytes]] = {}
    unknown: list[str] = []
    problems: list[Problem] = []
    root = path.resolve()
    for item in sorted(path.iterdir()):
        if item.name not in known:
            if item.suffix.lower() == ".csv":
                unknown.append(item.name)
            continue
        target = item.resolve()
        if item.is_symlink() and not target.is_relative_to(root):
            problems.append(
                Problem(
                    item.name,
                    None,
                    None,
                    f"is a symbolic link to {str(target)!r}, outside the bundle folder; "
                    "copy the file into the bundle instead",
                )
            )
        elif not target.is_file():
            problems.append(Problem(item.name, None, None, "is not a regular file; expected a CSV file"))
        else:
            found[item.name] = target.read_bytes
    return found, unknown, problems


def _zip_files(
    path: Path, limits: ZipLimits
) -> tuple[dict[str, Callable[[], bytes]], list[str], list[Problem]]:
    """A zip's bundle files, read in pieces under the caps of loaders/zip_limits.py. A member that is a
    symbolic link is refused (zipfile would hand over the link's target path as the file's text)."""
    known = set(SCHEMA.files)
    found: dict[str, Callable[[], bytes]] = {}
    unknown: list[str] = []
    problems: list[Problem] = []
    archive = zipfile.ZipFile(path)
    reader = MemberReader(archive, path.name, limits)
    chosen: list[zipfile.ZipInfo] = []
    for info in archive.infolist():
        name = PurePosixPath(info.filename).name
        if info.is_dir() or name.startswith("._") or "__MACOSX" in info.filename:
            continue
        if name in known and name not in found:
            if stat.S_ISLNK(info.external_attr >> 16):
                problems.append(
                    Problem(f"{path.name}[{info.filename}]", None, None, "is a symbolic link; a bundle holds files")
                )
                continue
            found[name] = functools.partial(reader.read, info)
            chosen.append(info)
        elif name.lower().endswith(".csv"):
            unknown.append(info.filename)
    if not problems:
        check_declared(archive, path.name, chosen, limits)
    return found, unknown, problems


def read_bundle(
    path: Path, name: str | None = None, skip_invalid: bool = False, limits: ZipLimits | None = None
) -> Bundle:
    path = Path(path)
    if not path.exists():
        raise BundleError([Problem(str(path), None, None, "no such file or folder")])
    if not path.is_dir() and not zipfile.is_zipfile(path):
        raise BundleError([Problem(str(path), None, None, "not a folder or a .zip of CSV files")])
    if path.is_dir():
        files, unknown, problems = _folder_files(path)
    else:
        files, unknown, problems = _zip_files(path, limits or ZipLimits.from_settings())
    if problems:
        raise BundleError(problems)
    warnings = [Problem(f, None, None, "not a bundle file; ignored") for f in unknown]
    if not files:
        problems.append(
            Problem(str(path), None, None, f"no bundle files found; expected some of: {', '.join(SCHEMA.files)}")
        )
    tables: dict[str, pa.Table] = {}
    rejects: list[dict] = []
    skipped: dict[str, set[str]] = {}
    for filename, read in files.items():
        parsed = read_csv(read(), filename)
        if isinstance(parsed, list):
            problems.extend(parsed)
            continue
        spec = SCHEMA.node_for_file(filename) or SCHEMA.link_for_file(filename)
        assert spec is not None
        table = check_file(parsed, spec, problems, warnings, skip_invalid, rejects, skipped)
        if table is not None:
            tables[filename.removesuffix(".csv")] = table
    if problems:
        raise BundleError(problems)
    return Bundle(name or bundle_name(path), tables, warnings, rejects + drop_skipped(tables, skipped, ".csv"))


def drop_skipped(tables: dict[str, pa.Table], skipped: dict[str, set[str]], suffix: str) -> list[dict]:
    """Rows referring to skipped ids removed from `tables`; their rejects (file = table + suffix, line)."""
    if not skipped:
        return []
    return drop_references(tables, skipped, lambda table, row: {"file": f"{table}{suffix}", "line": row["_line"]})
