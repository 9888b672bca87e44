"""How `supplygraph exposure` writes its answer: tables, JSON, CSV or an Excel workbook, to stdout or a file.

A file is written whole or not at all: into a temporary file beside it, renamed over it when complete.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from supplygraph.api import render
from supplygraph.api.answer_export import to_csv, to_xlsx
from supplygraph.api.terminal import json_text, plain_console
from supplygraph.graph.errors import InvalidParameter
from supplygraph.graph.schema import SCHEMA
from supplygraph.queries.exposure_pages import filtered

FORMATS = ("table", "json", "csv", "xlsx")


def write_exposure(
    answer: dict[str, Any], fmt: str | None, output: Path | None, category: str | None, min_severity: str | None
) -> None:
    """`fmt` None: from the output file's suffix (.json, .csv, .xlsx), else tables."""
    if fmt is None:
        suffix = output.suffix.lower().lstrip(".") if output is not None else ""
        fmt = suffix if suffix in FORMATS[1:] else "table"
    if fmt not in FORMATS:
        raise InvalidParameter("--format", f"must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if category is not None and category not in SCHEMA.enums["finding_category"]:
        choices = ", ".join(SCHEMA.enums["finding_category"])
        raise InvalidParameter("--category", f"must be one of {choices}, got {category!r}")
    if fmt == "xlsx" and output is None:
        raise InvalidParameter("--output", "an xlsx workbook is written to a file: give -o FILE")
    if output is not None and not output.parent.is_dir():
        raise InvalidParameter("--output", f"no folder {str(output.parent)!r} to write {output.name!r} in")
    if category is not None or min_severity is not None:
        answer = filtered(answer, category=category, min_severity=min_severity)
    if fmt == "table":
        if output is not None:
            raise InvalidParameter("--output", "tables are printed: give --format json, csv or xlsx to write a file")
        render.exposure_tables(plain_console(), answer)
        return
    data = {"json": lambda a: (json_text(a) + "\n").encode(), "csv": to_csv, "xlsx": to_xlsx}[fmt](answer)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    write_whole(output, data)


def write_whole(path: Path, data: bytes) -> None:
    """`data` at `path`, complete or not at all."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as fh:
            fh.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
