"""Open Supply Hub: the facility download CSV and the contributor upload template.

Each facility becomes a factory: the download's OS ID (validated: two letters, seven digits, six letters or
digits, after removing spaces and hyphens) is its id and `os_id`; a template row without one gets
`oshub:<country>:<name>`. `|`-separated cells are split and kept as lists (sector, product type, facility
type, processing type, contributor); the first parent company becomes the operator (a company), the others are
kept in `parent_companies`. Closed facilities carry `is_closed = true`. Rows of the same facility (one per
contribution) merge, the latest contribution winning field by field.
"""

from __future__ import annotations

import re
from pathlib import Path

from graph.errors import BundleError
from graph.store import Progress
from loaders.bundle import Bundle
from loaders.canonical import TableBuilder, Ticker
from loaders.csvfile import read_csv
from loaders.ocds import name_slug, slug

OS_ID = re.compile(r"^[A-Z]{2}[0-9]{7}[A-Z0-9]{6}$")
DOWNLOAD = {"os_id", "name", "address", "country_code"}
TEMPLATE = {"country", "name", "address", "sector_product_type", "facility_type_processing_type"}
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
    return DOWNLOAD <= header or TEMPLATE <= header


def normalise_os_id(value: str) -> str | None:
    text = re.sub(r"[\s-]+", "", value).upper()
    return text if OS_ID.match(text) else None


def split(cell: str | None) -> list[str]:
    return [part.strip() for part in (cell or "").split("|") if part.strip()]


def workers(cell: str | None) -> str | None:
    """A count, or the lower bound of a range like '1001-5000'."""
    found = WORKERS.match(cell or "")
    return found.group(1).replace(",", "") if found else None


def read_oshub(path: Path, name: str | None = None, progress: Progress | None = None) -> Bundle:
    path = Path(path)
    out = TableBuilder(path.name, "oshub")
    parsed = read_csv(path.read_bytes(), path.name)
    if isinstance(parsed, list):
        raise BundleError(parsed)
    header = set(parsed.header)
    if not looks_like_oshub(header):
        out.problem(
            "",
            1,
            f"not an Open Supply Hub file; expected the columns {', '.join(sorted(DOWNLOAD))} "
            f"(download) or {', '.join(sorted(TEMPLATE))} (upload template)",
        )
        raise BundleError(out.problems)
    download = "os_id" in header
    tick = Ticker(progress, f"reading {path.name}", parsed.table.num_rows)
    for row_no, row in enumerate(parsed.table.to_pylist()):
        tick(row_no)
        line = parsed.line_of(row_no)
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
                continue
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
            if row.get(col):
                factory[col] = split(row[col])
        for col, value in row.items():
            if col not in RENAMED and col not in factory and value:
                factory[col] = value
        out.add("factories", factory, line, order=row.get("contribution_date") or "")
    tick(parsed.table.num_rows, final=True)
    return out.build(name or path.stem)


def _closed(cell: str | None) -> str | None:
    if cell is None:
        return None
    return "true" if cell.strip().lower() in ("true", "1", "yes", "closed") else "false"
