"""Data shown in a terminal exactly as it is: never read as markup (`[bold]`) or emoji codes (`:cn:`), and with
control and invisible formatting characters shown as escapes (`\\x1b[2J` prints as those six characters, not
as a cleared screen; a zero-width space as `\\u200b`)."""

from __future__ import annotations

import json
import os
import re
import sys
import unicodedata
from typing import Any

from rich.console import Console
from rich.text import Text

HIDDEN = ("Cc", "Cf")  # control characters (C0, DEL, C1) and format characters (bidi overrides, zero-width)


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(value: object) -> str:
    """`value` as text with every control or invisible formatting character written as an escape."""
    text = "" if value is None else str(value)
    if text.isprintable():
        return text
    return "".join(_escape(c) if unicodedata.category(c) in HIDDEN else c for c in text)


def data(value: object, style: str = "") -> Text:
    """A table cell or a piece of a line holding data: a Text, which rich prints as it is."""
    return Text(visible(value), style=style)


def plain_console(stderr: bool = False) -> Console:
    """A console that prints strings verbatim: no markup, no emoji codes, no highlighting."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stderr or stream.isatty() or "COLUMNS" in os.environ else 160  # rich reads COLUMNS
    return Console(
        stderr=stderr, soft_wrap=stderr, width=width, markup=False, emoji=False, highlight=False
    )


UNSAFE_IN_JSON = re.compile(r"[\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f\u202a-\u202e"
                            r"\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]")


def json_text(value: Any) -> str:
    """JSON for a terminal or a pipe: json.dumps escapes C0 controls; DEL, C1 controls and the common invisible
    format characters are written as \\u escapes too (the same JSON value, nothing for a terminal to act on)."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def visible_lines(text: str) -> str:
    """A message of several lines, each line's hidden characters escaped (the line breaks are the message's own)."""
    return "\n".join(visible(line) for line in text.split("\n"))
