"""Reading one CSV file into an all-string Arrow table, with exact line numbers for errors."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from supplygraph.graph.errors import Problem

BOM = b"\xef\xbb\xbf"


@dataclass
class CsvTable:
    """The cells of one CSV file as trimmed strings (empty cell = null) and a row -> line mapping."""

    file: str
    header: list[str]
    table: pa.Table
    starts: list[int] | None  # the line each row starts on, when rows are not one line each

    def line_of(self, row: int) -> int:
        return self.starts[row] if self.starts is not None else row + 2

    def lines(self) -> pa.Array:
        if self.starts is not None:
            return pa.array(self.starts, pa.int32())
        return pa.array(np.arange(2, self.table.num_rows + 2, dtype=np.int32))


def _decode(data: bytes, file: str) -> str | Problem:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Problem(file, 1, None, "file is UTF-16 encoded; expected UTF-8 (save it as 'CSV UTF-8')")
    if data.startswith(BOM):
        data = data[len(BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start : exc.start + 1].hex()
        return Problem(
            file, line, None, f"byte 0x{byte} at character {column} is not valid UTF-8; expected a UTF-8 encoded file"
        )


def _locate_parse_problems(text: str, file: str, width: int, limit: int = 20) -> list[Problem]:
    """Walk the file with the csv module to find where it is malformed (pyarrow only says that it is)."""
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    try:
        for row in reader:
            if row and len(row) != width and not (len(row) == 1 and row[0] == ""):
                problems.append(
                    Problem(file, start, None, f"expected {width} fields as in the header, found {len(row)}")
                )
                if len(problems) >= limit:
                    break
            start = reader.line_num + 1
    except csv.Error as exc:
        problems.append(
            Problem(file, start, None, f"malformed CSV ({exc}); is the file truncated or a quote unclosed?")
        )
    return problems


def _row_starts(text: str, nrows: int) -> list[int] | None:
    """The 1-based line each data row starts on; None when that is simply row + 2."""
    newlines = text.count("\n")
    trailing = text.endswith("\n")
    if nrows == newlines - (1 if trailing else 0) and "\n\n" not in text and "\r\n\r\n" not in text:
        return None
    starts: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader, None)
    line = reader.line_num + 1
    for row in reader:
        if row:
            starts.append(line)
        line = reader.line_num + 1
    return starts


def normalise_header(name: str) -> str:
    return name.strip().lstrip("\ufeff").lower()


def read_csv(data: bytes, file: str) -> CsvTable | list[Problem]:
    text = _decode(data, file)
    if isinstance(text, Problem):
        return [text]
    if not text.strip():
        return [Problem(file, 1, None, "file is empty; expected a header row")]
    if not text.endswith(("\n", "\r")):
        text += "\n"  # a last row, or a file that is only its header, saved without a final line break
    try:  # the first record, whatever ends its lines (LF, CRLF, or a lone CR as Excel for Mac writes)
        first = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error as exc:
        return [Problem(file, 1, None, f"malformed header row ({exc}); expected column names separated by commas")]
    header = [normalise_header(h) for h in first]
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            return [Problem(file, 1, name, "column appears twice in the header")]
        seen.add(name)
    names = [h or f"column_{i + 1}" for i, h in enumerate(header)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        found = _locate_parse_problems(text, file, len(names))
        return found or [Problem(file, None, None, f"cannot parse CSV: {exc}")]
    if text.count('"') % 2:  # pyarrow takes a quote left open to the end of the file as one last, long cell
        unclosed = [p for p in _locate_parse_problems(text, file, len(names)) if "malformed" in p.message]
        if unclosed:
            return unclosed
    table = pa.table({n: _clean(table.column(n)) for n in names})
    starts = _row_starts(text, table.num_rows)
    empty = np.logical_and.reduce([np.asarray(c.is_null()) for c in table.columns]) if table.num_rows else None
    if empty is not None and empty.any():  # `,,,,` (Excel's formatted empty rows): no record, as a blank line is none
        lines = starts if starts is not None else range(2, table.num_rows + 2)
        starts = [line for line, blank in zip(lines, empty, strict=True) if not blank]
        table = table.filter(pa.array(~empty))
    return CsvTable(file, names, table, starts)


def _clean(column: pa.ChunkedArray) -> pa.ChunkedArray:
    trimmed = pc.utf8_trim_whitespace(column)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


SAFE_NAME = re.compile(r"[^a-z0-9_]+")


def property_name(column: str) -> str:
    """An extra column's header as a safe property name: lower case letters, digits and underscores."""
    name = SAFE_NAME.sub("_", column.lower()).strip("_") or "column"
    return f"x_{name}" if name[0].isdigit() else name
