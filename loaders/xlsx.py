"""A bundle as one spreadsheet: each sheet named like a bundle file (`factories` or `factories.csv`).

Cells are turned into the bundle's text form (dates as YYYY-MM-DD, whole numbers without `.0`) and then checked
exactly like the CSV files; problems name the workbook, the sheet and the spreadsheet row.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException
from supplygraph.graph.errors import BundleError, Problem
from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.stores.protocol import Progress
from supplygraph.loaders.bundle import Bundle
from supplygraph.loaders.canonical import Ticker
from supplygraph.loaders.csvfile import read_csv
from supplygraph.loaders.file_checks import check_file
from supplygraph.loaders.quarantine import drop_references
from supplygraph.loaders.zip_limits import ZipLimits, check_declared


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_xlsx(
    path: Path,
    name: str | None = None,
    progress: Progress | None = None,
    skip_invalid: bool = False,
    limits: ZipLimits | None = None,
) -> Bundle:
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:  # a workbook is a zip: the same caps as a zipped bundle
            check_declared(archive, path.name, archive.infolist(), limits or ZipLimits.from_settings())
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise BundleError([Problem(path.name, None, None, f"not a readable .xlsx workbook: {exc}")]) from None
    known = {f.removesuffix(".csv"): f for f in SCHEMA.files}
    problems: list[Problem] = []
    warnings: list[Problem] = []
    tables = {}
    rejects: list[dict] = []
    skipped: dict[str, set[str]] = {}
    for sheet in book.worksheets:
        stem = sheet.title.strip().lower().removesuffix(".csv")
        if stem not in known:
            warnings.append(Problem(f"{path.name}[{sheet.title}]", None, None, "not a bundle sheet; ignored"))
            continue
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        tick = Ticker(progress, f"reading {path.name}[{sheet.title}]", sheet.max_row or 0)
        for row_no, row in enumerate(sheet.iter_rows(values_only=True)):
            tick(row_no)
            cells = [_cell(v) for v in row]
            if any(cells):
                writer.writerow(cells)
            else:  # a row the sheet counts only for its formatting: a blank line, so later rows keep their numbers
                text.write("\n")
        tick(sheet.max_row or 0, final=True)
        where = f"{path.name}[{sheet.title}]"
        parsed = read_csv(text.getvalue().encode("utf-8"), where)
        if isinstance(parsed, list):
            problems.extend(parsed)
            continue
        spec = SCHEMA.node_for_file(known[stem]) or SCHEMA.link_for_file(known[stem])
        assert spec is not None
        table = check_file(parsed, spec, problems, warnings, skip_invalid, rejects, skipped)
        if table is not None:
            tables[stem] = table
    book.close()
    if not tables and not problems:
        problems.append(
            Problem(path.name, None, None, f"no bundle sheets; expected sheets named like: {', '.join(known)}")
        )
    if problems:
        raise BundleError(problems)
    sheets = {stem: f"{path.name}[{stem}]" for stem in tables}
    rejects += drop_references(tables, skipped, lambda t, row: {"file": sheets[t], "line": row["_line"]})
    return Bundle(name or path.stem, tables, warnings, rejects)
