"""Caps on what a .zip (a bundle or an .xlsx workbook) may unpack to, checked before and while it is read.

A zip says in its directory how large each member is once unpacked; Python's zipfile never returns more
than that, so the declared sizes are checked first, and members are then read in pieces with the running
total checked again, so that a zip bomb is refused before its memory is spent. Two caps (graph/settings.py):

- the total unpacked size of the members read (SUPPLYGRAPH_MAX_UNZIPPED_MB, default 2048): a bundle is
  held in memory while it is checked, so this also bounds a load's memory;
- the compression ratio of each member larger than RATIO_FLOOR (SUPPLYGRAPH_MAX_ZIP_RATIO, default 200):
  CSV text deflates 3-20:1, very repetitive CSV (the same few values in every row) up to ~100:1; a
  member of zeros or of one row repeated deflates 400-1000:1.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass

from supplygraph.graph.errors import BundleError, Problem
from supplygraph.graph.settings import Settings

MB = 2**20
RATIO_FLOOR = 1 * MB  # members unpacking to less than this are not held to the ratio (tiny files, no risk)
PIECE = 1 * MB


@dataclass(frozen=True)
class ZipLimits:
    max_unzipped_bytes: int = 2048 * MB
    max_ratio: float = 200.0

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> ZipLimits:
        settings = settings or Settings()
        return cls(max_unzipped_bytes=settings.max_unzipped_mb * MB, max_ratio=settings.max_zip_ratio)


def _ratio_problem(archive_name: str, member: str, unpacked: int, packed: int, limits: ZipLimits) -> Problem:
    return Problem(
        archive_name,
        None,
        None,
        f"member {member!r} unpacks to {unpacked:,} bytes from {packed:,} ({unpacked / max(packed, 1):,.0f}:1), "
        f"above the cap of {limits.max_ratio:g}:1 (a zip bomb?); CSV text deflates 3-20:1. If the file is "
        "genuine, raise SUPPLYGRAPH_MAX_ZIP_RATIO (max_zip_ratio)",
    )


def _total_problem(archive_name: str, member: str, total: int, limits: ZipLimits) -> Problem:
    return Problem(
        archive_name,
        None,
        None,
        f"unpacking member {member!r} brings the zip's contents to {total:,} bytes, above the cap of "
        f"{limits.max_unzipped_bytes:,} bytes ({limits.max_unzipped_bytes / MB:,.0f} MB); if the data is genuine, raise SUPPLYGRAPH_MAX_UNZIPPED_MB "
        "(max_unzipped_mb), or load it as a folder",
    )


def check_declared(archive: zipfile.ZipFile, archive_name: str, members: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    """Refuse the zip from its directory alone if the members to be read are too large or too compressed."""
    problems: list[Problem] = []
    total = 0
    for info in members:
        if info.file_size > RATIO_FLOOR and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            problems.append(_ratio_problem(archive_name, info.filename, info.file_size, info.compress_size, limits))
        total += info.file_size
        if total > limits.max_unzipped_bytes and not problems:
            problems.append(_total_problem(archive_name, info.filename, total, limits))
    if problems:
        raise BundleError(problems)


class MemberReader:
    """Reads members of one zip in pieces, counting against the caps as the bytes come."""

    def __init__(self, archive: zipfile.ZipFile, archive_name: str, limits: ZipLimits) -> None:
        self.archive = archive
        self.archive_name = archive_name
        self.limits = limits
        self.total = 0

    def read(self, info: zipfile.ZipInfo) -> bytes:
        out = bytearray()
        with self.archive.open(info) as member:
            while piece := member.read(PIECE):
                out += piece
                self.total += len(piece)
                if self.total > self.limits.max_unzipped_bytes:
                    raise BundleError([_total_problem(self.archive_name, info.filename, self.total, self.limits)])
                if len(out) > RATIO_FLOOR and len(out) > self.limits.max_ratio * max(info.compress_size, 1):
                    problem = _ratio_problem(self.archive_name, info.filename, len(out), info.compress_size, self.limits)
                    raise BundleError([problem])
        return bytes(out)
