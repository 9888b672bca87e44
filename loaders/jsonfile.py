"""Reading JSON inputs as publishers write them: one document or JSON Lines (whatever the file's name), UTF-8 or,
when asked, another encoding; a file that is not UTF-8 is named as such in one line with its likely encoding.

`json_values(path, out, tick, prefixes)` yields (value, line or index, JSON pointer) for each value found at one of
`prefixes` (ijson prefixes such as "releases.item") of a JSON document, or for each line of JSON Lines; problems
go to `out` (a TableBuilder), with the file's line or JSON pointer.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol

import ijson
from supplygraph.graph.errors import BundleError, Problem

UTF8 = ("utf-8", "utf8", "utf_8", "utf-8-sig")
BOM = b"\xef\xbb\xbf"
LINE_SUFFIXES = (".jsonl", ".ndjson", ".ijson")
VALUE_STARTS = ("start_map", "start_array", "string", "number", "boolean", "null")


class Problems(Protocol):
    by_line: bool

    def problem(self, where: str, line: int | None, message: str, column: str | None = None) -> None: ...


def likely_encoding(sample: bytes) -> str:
    """The encoding charset-normalizer finds most likely for `sample` (a name Python's codecs know)."""
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    name = best.encoding if best is not None else "cp1252"
    try:  # the Western encodings first when they read the text alike (cp1250 and ISO-8859-1 agree on "Ó")
        if sample.decode(name) == sample.decode("cp1252"):
            return "windows-1252" if any(0x80 <= b <= 0x9F for b in sample) else "iso-8859-1"
    except (UnicodeDecodeError, LookupError):
        pass
    return name.replace("_", "-")


def check_encoding(path: Path, name: str, encoding: str | None) -> None:
    """Raise BundleError in one line when the file is not valid in `encoding` (default UTF-8), naming the byte,
    its line and the encoding the file most likely has, and how to read it."""
    codec = encoding or "utf-8"
    try:
        decoder = codecs.getincrementaldecoder(codec)("strict")
    except LookupError:
        raise BundleError(
            [Problem(name, None, None, f"unknown encoding {codec!r}; expected e.g. iso-8859-1")]
        ) from None
    line, offset, last_newline = 1, 0, 0
    with path.open("rb") as fh:
        head = fh.read(4)
        if codec.lower() in UTF8 and head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise BundleError(
                [Problem(name, 1, None, "this file is UTF-16, not UTF-8; read it with --encoding utf-16")]
            )
        fh.seek(0)
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                at = max(exc.start, 0)
                line += chunk.count(b"\n", 0, at)
                column = at - chunk.rfind(b"\n", 0, at) if b"\n" in chunk[:at] else offset + at + 1 - last_newline
                fh.seek(max(0, offset + at - (1 << 16)))
                guess = likely_encoding(fh.read(1 << 17))
                byte = chunk[at : at + 1].hex()
                what = "UTF-8" if codec.lower() in UTF8 else codec
                raise BundleError(
                    [
                        Problem(
                            name,
                            line,
                            None,
                            f"this file is not {what} (looks like {guess}): byte 0x{byte} at character {column} is not "
                            f"valid {what}; "
                            f"read it with --encoding {guess}",
                        )
                    ]
                ) from None
            line += chunk.count(b"\n")
            if (last := chunk.rfind(b"\n")) >= 0:
                last_newline = offset + last + 1
            offset += len(chunk)


class Recoded(io.RawIOBase):
    """A binary reader of a file in another encoding, giving its text as UTF-8 (for ijson and line reading)."""

    def __init__(self, path: Path, encoding: str) -> None:
        self.raw = path.open("rb")
        self.text = io.TextIOWrapper(self.raw, encoding=encoding, newline="")
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while len(self.pending) < len(buffer):
            more = self.text.read(1 << 16)
            if not more:
                break
            self.pending += more.encode("utf-8")
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n

    def tell(self) -> int:
        return self.raw.tell()

    def close(self) -> None:
        self.text.close()
        super().close()


def open_utf8(path: Path, encoding: str | None = None) -> IO[bytes]:
    """The file's bytes as UTF-8 (recoded from `encoding` when it is another), without a byte order mark."""
    if encoding is None or encoding.lower().replace("_", "-") in UTF8:
        fh: IO[bytes] = path.open("rb")
        if fh.read(3) != BOM:
            fh.seek(0)
        return fh
    return io.BufferedReader(Recoded(path, encoding), 1 << 16)


def is_json_lines(path: Path, encoding: str | None = None) -> bool:
    """JSON Lines: the name says so, or the first non-blank line is a whole JSON value on its own and more lines
    follow (a document on one line is read as a document, so that problems are named by JSON pointer)."""
    if path.suffix.lower() in LINE_SUFFIXES:
        return True
    with open_utf8(path, encoding) as fh:
        while raw := fh.readline(1 << 24):
            if raw.strip():
                try:
                    json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    return False
                return any(rest.strip() for rest in fh)
    return False


def json_lines(path: Path, out: Problems, tick: Any, encoding: str | None = None) -> Iterator[tuple[Any, int, str]]:
    """(value, line, "") for every non-blank line; a broken line is a problem at its line and character."""
    with open_utf8(path, encoding) as fh:
        for lineno, raw in enumerate(fh, 1):
            if lineno % 256 == 0:
                tick(fh.tell())
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                message = f"broken JSON: {getattr(exc, 'msg', exc)} at character {getattr(exc, 'colno', '?')}"
                out.problem("", lineno, message)
                continue
            yield value, lineno, ""


def pointer(prefix: str, indexes: list[int]) -> str:
    """The JSON pointer of an ijson prefix ("releases.item") given the array indexes met on the way."""
    if not prefix:
        return ""
    parts, found = [], iter(indexes)
    for part in prefix.split("."):
        parts.append(str(next(found)) if part == "item" else part)
    return "#/" + "/".join(parts)


def json_document(
    path: Path, out: Problems, tick: Any, prefixes: tuple[str, ...], encoding: str | None = None
) -> Iterator[tuple[Any, int, str]]:
    """(value, running index from 1, JSON pointer) for every object at one of `prefixes`, streamed."""
    out.by_line = False
    count = 0
    counters: dict[str, int] = {}  # array prefix -> index of its current item
    with open_utf8(path, encoding) as fh:
        try:
            events = ijson.parse(fh, use_float=True)
            for prefix, event, value in events:
                if prefix in counters and event in VALUE_STARTS:
                    counters[prefix] += 1
                if event == "start_array":
                    counters[prefix + ".item" if prefix else "item"] = -1
                if prefix not in prefixes or event != "start_map":
                    continue
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
                for prefix2, event2, value2 in events:
                    builder.event(event2, value2)
                    if prefix2 == prefix and event2 == "end_map":
                        break
                count += 1
                yield builder.value, count, pointer(prefix, _indexes(prefix, counters))
                if count % 64 == 0:
                    tick(fh.tell())
        except ijson.JSONError as exc:
            text = str(exc)
            if "trailing garbage" in text or "Additional data" in text:
                message = (
                    f"a second JSON document starts near byte {fh.tell():,}: the file holds several JSON documents one "
                    "after another; expected one JSON document, or JSON Lines (one document per line)"
                )
                out.problem("", None, message)
                return
            message = f"broken JSON near byte {fh.tell():,} (after {count} complete records): {text}"
            inside = [p for p in prefixes if p in counters and counters[p] >= 0]
            out.problem(pointer(inside[0], _indexes(inside[0], counters)) if inside else "", None, message)


def _indexes(prefix: str, counters: dict[str, int]) -> list[int]:
    parts = prefix.split(".")
    return [counters[".".join(parts[: i + 1])] for i, part in enumerate(parts) if part == "item"]
