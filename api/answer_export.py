"""An exposure answer as a table: CSV or an Excel workbook, one row per item (finding, factory, agency, gap).

Every cell is written as text or a number, never as a formula: a CSV cell that a spreadsheet would read
as one (starting with = + - @ or a tab) is prefixed with an apostrophe, and workbook cells are typed as
strings, so a name in the data cannot run anything when the file is opened.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from typing import Any

COLUMNS = (
    "section", "id", "name", "tier", "country", "basis", "severity", "category", "status", "subject",
    "reported_on", "monitor", "summary", "path", "sources", "source_titles", "source_urls",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
UNSAFE_IN_NAMES = re.compile(r"[^A-Za-z0-9._-]+")
SECTION_ITEM = {"findings": "finding", "factories": "factory", "agencies": "agency", "gaps": "gap"}


def rows(answer: Mapping[str, Any]) -> Iterator[list[Any]]:
    """One row per item, in the answer's order (findings first), with COLUMNS."""
    sources = answer.get("sources", {})
    for section in ("findings", "factories", "agencies", "gaps"):
        for item in answer.get(section, ()):
            ids = list(item.get("sources", ()))
            known = [sources.get(s, {}) for s in ids]
            subject = item.get("subject")
            yield [
                SECTION_ITEM[section],
                item["id"],
                item.get("name") or item.get("model"),
                item.get("tier"),
                item.get("country"),
                item.get("basis", "disclosed" if section != "gaps" else None),
                item.get("severity"),
                item.get("category"),
                item.get("status"),
                f"{subject['type']} {subject['id']}" if subject else None,
                item.get("reported_on"),
                item.get("monitor"),
                item.get("summary"),
                " > ".join(item.get("path", ())),
                "; ".join(ids),
                "; ".join(k.get("title") or "" for k in known) if ids else None,
                "; ".join(k.get("url") or "" for k in known) if ids else None,
            ]


def safe_name(text: str) -> str:
    """`text` usable in a file name (anything but letters, digits, dot, dash and underscore becomes '_')."""
    return UNSAFE_IN_NAMES.sub("_", text)[:80] or "_"


def _csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(answer: Mapping[str, Any]) -> bytes:
    """UTF-8 with a byte order mark (so that spreadsheets read accents right), a header row first."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows(answer):
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + text.getvalue()).encode()


def to_xlsx(answer: Mapping[str, Any]) -> bytes:
    """A workbook with the sheet `exposure` (one row per item) and the sheet `summary` (the counts)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("exposure")

    def cells(values: list[Any], where: Any = sheet) -> list[WriteOnlyCell]:
        made = []
        for value in values:
            cell = WriteOnlyCell(where, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            made.append(cell)
        return made

    sheet.append(cells(list(COLUMNS)))
    for row in rows(answer):
        sheet.append(cells(row))
    counts = book.create_sheet("summary")
    affiliate = answer["affiliate"]
    counts.append(cells(["affiliate", affiliate["id"], affiliate.get("name")], counts))
    counts.append(cells(["as_of", answer["as_of"]], counts))
    for key, value in answer.get("summary", {}).items():
        if isinstance(value, dict):
            for name, n in value.items():
                counts.append(cells([key, name, n], counts))
        else:
            counts.append(cells([key, None, value], counts))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
