"""Page cursors of exposure answers: opaque tokens that carry where the next page starts and what it pages.

A cursor names the graph generation, the day and a digest of the question (depth, filters, fields, limit),
so the pages it leads to add up to one answer: a cursor used after a reload answers 410, one used with other
parameters 422. It holds nothing a key could not see (an offset into its own answer) and needs no signature:
a forged cursor can only ask another page of the caller's own answer.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from supplygraph.graph.errors import InvalidParameter, StaleCursor


@dataclass(frozen=True)
class PageCursor:
    generation: str
    day: date
    question: str  # digest of the parameters that shape the answer and its pages
    offset: int

    def encode(self) -> str:
        raw = json.dumps([self.generation, self.day.isoformat(), self.question, self.offset], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def question_digest(**parameters: Any) -> str:
    """A short digest of the parameters that must stay the same from page to page."""
    text = json.dumps({k: None if v is None else str(v) for k, v in sorted(parameters.items())})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def decode_cursor(text: str) -> PageCursor:
    """The cursor a previous page gave; InvalidParameter for anything else."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        generation, day, question, offset = json.loads(raw)
        cursor = PageCursor(str(generation), date.fromisoformat(day), str(question), int(offset))
    except (ValueError, TypeError, UnicodeDecodeError):
        raise InvalidParameter("cursor", "not a cursor this API gave (use next_cursor of the previous page)") from None
    if cursor.offset < 0:
        raise InvalidParameter("cursor", "not a cursor this API gave (use next_cursor of the previous page)")
    return cursor


def check_cursor(cursor: PageCursor, generation: str | None, day: date, question: str) -> None:
    """StaleCursor after a reload; InvalidParameter when the question differs from the cursor's."""
    if generation is None or cursor.generation != generation:
        raise StaleCursor("the graph was reloaded since this cursor was given: ask the first page again")
    if cursor.day != day or cursor.question != question:
        raise InvalidParameter("cursor", "was given for another question: keep as_of, depth, filters, fields "
                                         "and limit as on the first page")
