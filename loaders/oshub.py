"""Open Supply Hub: the facility download CSV, the contributor upload template, and contributor lists (the
columns OS Hub's list upload requires: country, name, address; every other column optional and kept).

Each facility becomes a factory: the download's OS ID (validated: two letters, seven digits, six letters or
digits, after removing spaces and hyphens) is its id and `os_id`; a template row without one gets
`oshub:<country>:<name>`. `|`-separated cells are split and kept as lists (sector, product type, facility
type, processing type, contributor); the first parent company becomes the operator (a company), the others are
kept in `parent_companies`. Closed facilities carry `is_closed = true`. Rows of the same facility (one per
contribution) merge, the latest contribution winning field by field.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from supplygraph.graph.errors import BundleError
from supplygraph.graph.stores.protocol import Progress
from supplygraph.loaders.bundle import Bundle
from supplygraph.loaders.canonical import TableBuilder, Ticker, partitions_for
from supplygraph.loaders.csvfile import normalise_header
from supplygraph.loaders.jsonfile import check_encoding, open_utf8
from supplygraph.loaders.name_ids import name_slug, slug
from supplygraph.loaders.quarantine import reject

OS_ID = re.compile(r"^[A-Z]{2}[0-9]{7}[A-Z0-9]{6}$")
DOWNLOAD = {"os_id", "name", "address", "country_code"}
TEMPLATE = {"country", "name", "address", "sector_product_type", "facility_type_processing_type"}
CONTRIBUTOR_LIST = {"country", "name", "address"}  # what OS Hub's list upload requires
BUNDLE_KEYS = {"factory_id", "agency_id", "company_id", "affiliate_id", "contract_id", "product_id"}
LISTS = (
    "sector",
    "product_type",
    "facility_type",
    "processing_type",
    "contributor",
    "sector_product_type",
    "facility_type_processing_type",
    "processing_type_facility_type_raw",
)
RENAMED = {
    "os_id",
    "name",
    "address",
    "country_code",
    "country_name",
    "country",
    "lat",
    "lng",
    "number_of_workers",
    "parent_company",
    "is_closed",
    "contribution_date",
}
WORKERS = re.compile(r"^\s*(\d[\d,]*)\s*(?:-\s*(\d[\d,]*))?\s*$")


def looks_like_oshub(header: set[str]) -> bool:
    """An OS Hub download, upload template or contributor list (and not a bundle file, which has its id column)."""
    return DOWNLOAD <= header or TEMPLATE <= header or (CONTRIBUTOR_LIST <= header and not header & BUNDLE_KEYS)


def normalise_os_id(value: str) -> str | None:
    text = re.sub(r"[\s-]+", "", value).upper()
    return text if OS_ID.match(text) else None


def split(cell: str | None) -> list[str]:
    return [part.strip() for part in (cell or "").split("|") if part.strip()]


def workers(cell: str | None) -> str | None:
    """A count, or the lower bound of a range like '1001-5000'."""
    found = WORKERS.match(cell or "")
    return found.group(1).replace(",", "") if found else None


MAX_PROBLEMS = 20  # malformed rows reported before reading stops


def _lines(path: Path, out: TableBuilder, tick: Ticker, encoding: str | None) -> Iterator[str]:
    """The file's lines decoded one at a time (an invalid byte is reported at its line and character)."""
    with open_utf8(path, encoding) as fh:
        for lineno, raw in enumerate(fh, 1):
            if lineno % 1024 == 0:
                tick(fh.tell())
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                byte = raw[exc.start : exc.start + 1].hex()
                out.problem(
                    "",
                    lineno,
                    f"byte 0x{byte} at character {exc.start + 1} is not valid UTF-8; expected a UTF-8 encoded file",
                )
                return


def _header(reader: Any, out: TableBuilder) -> list[str] | None:
    try:
        first = next(reader, None)
    except csv.Error as exc:
        out.problem("", 1, f"malformed CSV header ({exc})")
        return None
    if first is None:
        if not out.problems:
            out.problem("", 1, "file is empty; expected a header row")
        return None
    header = [normalise_header(h) or f"column_{i + 1}" for i, h in enumerate(first)]
    for i, name in enumerate(header):
        if name in header[:i]:
            out.problem("", 1, "column appears twice in the header", column=name)
            return None
    if not looks_like_oshub(set(header)):
        out.problem(
            "",
            1,
            f"not an Open Supply Hub file; expected the columns {', '.join(sorted(DOWNLOAD))} "
            f"(download), {', '.join(sorted(TEMPLATE))} (upload template) or {', '.join(sorted(CONTRIBUTOR_LIST))} "
            "(contributor list)",
        )
        return None
    return header


def _rows(reader: Any, header: list[str], out: TableBuilder) -> Iterator[tuple[int, dict[str, str | None]]]:
    """(line the row starts on, cells trimmed, empty -> None) of each row, read as it comes."""
    start = reader.line_num + 1
    while len(out.problems) < MAX_PROBLEMS or out.skip_invalid:
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            out.problem("", start, f"malformed CSV ({exc}); is the file truncated or a quote unclosed?")
            return
        if cells is None:
            return
        line, start = start, reader.line_num + 1
        if not cells or cells == [""]:
            continue
        if len(cells) != len(header):
            problem = f"expected {len(header)} fields as in the header, found {len(cells)}"
            if out.skip_invalid:
                out.rejects.append(reject(out.place("", line, None, problem), cells))
            else:
                out.problem("", line, problem)
            continue
        yield line, {h: c.strip() or None for h, c in zip(header, cells, strict=True)}


def read_oshub(
    path: Path,
    name: str | None = None,
    progress: Progress | None = None,
    skip_invalid: bool = False,
    encoding: str | None = None,
) -> Bundle:
    """Read row by row (the file is never held whole): a large download loads in bounded memory."""
    path = Path(path)
    check_encoding(path, path.name, encoding)
    size = path.stat().st_size
    out = TableBuilder(
        path.name, "oshub", partitions=partitions_for(size), skip_invalid=skip_invalid, path=path, encoding=encoding
    )
    tick = Ticker(progress, f"reading {path.name} (bytes)", size)
    reader = csv.reader(_lines(path, out, tick, encoding), strict=True)
    header = _header(reader, out)
    if header is not None:
        for line, row in _rows(reader, header, out):
            out.begin(line, "", row)
            _facility(out, row, line, download="os_id" in header)
            out.end()
    tick(size, final=True)
    if out.problems:
        raise BundleError(out.problems)
    return out.build(name or path.stem)


def _facility(out: TableBuilder, row: dict[str, str | None], line: int, download: bool) -> None:
    factory: dict[str, object] = {}
    raw_id = row.get("os_id")
    os_id = None
    if download:
        os_id = normalise_os_id(raw_id) if raw_id else None
        if os_id is None:
            out.problem(
                "",
                line,
                f"{raw_id!r} is not an OS ID; expected two letters, 7 digits and 6 letters or "
                "digits, like CN2019303BQ3FZP",
                column="os_id",
            )
            return
    country = row.get("country_code") or row.get("country_name") or row.get("country")
    fid = os_id or f"oshub:{slug(country or '')}:{slug(row.get('name') or '')}"
    parents = split(row.get("parent_company"))
    operator = None
    if parents:
        operator = f"oshub-company:{name_slug(parents[0])}"
        out.add("companies", {"company_id": operator, "name": parents[0], "roles": "factory_operator"}, line)
    factory.update(
        factory_id=fid,
        name=row.get("name"),
        country=country,
        address=row.get("address"),
        lat=row.get("lat"),
        lng=row.get("lng"),
        os_id=os_id,
        operator_id=operator,
        workers=workers(row.get("number_of_workers")),
        number_of_workers=row.get("number_of_workers"),
        parent_companies=parents[1:],
        is_closed=_closed(row.get("is_closed")),
        contribution_date=row.get("contribution_date"),
    )
    for col in LISTS:
        if value := row.get(col):
            factory[col] = split(value)
    for col, value in row.items():
        if col not in RENAMED and col not in factory and value:
            factory[col] = value
    out.add("factories", factory, line, order=row.get("contribution_date") or "")


def _closed(cell: str | None) -> str | None:
    if cell is None:
        return None
    return "true" if cell.strip().lower() in ("true", "1", "yes", "closed") else "false"
