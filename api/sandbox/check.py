"""The allowlist researchers' Cypher must pass before it runs (gate 1 of api/sandbox/)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from supplygraph.graph.errors import QueryRefused
from supplygraph.graph.stores.protocol import IDENT

MAX_QUERY_CHARS = 20_000

# Clauses and keywords a read query may use. Words that are not keywords are names (variables,
# labels, properties, map keys, functions) and are judged by position, see _check_words.
ALLOWED = frozenset(
    """MATCH OPTIONAL WHERE WITH RETURN ORDER BY ASC ASCENDING DESC DESCENDING SKIP OFFSET LIMIT UNWIND
    UNION ALL DISTINCT AS AND OR NOT XOR IS NULL IN CASE WHEN THEN ELSE END TRUE FALSE STARTS ENDS
    CONTAINS EXISTS COUNT COLLECT SHORTEST ANY NONE SINGLE TRAIL ACYCLIC WALK""".split()
)
STARTS = frozenset({"MATCH", "OPTIONAL", "WITH", "UNWIND", "RETURN"})
# Refused anywhere outside a string, in any role (even as a property name): writes, files, procedures,
# settings, extensions, transactions, administration, and the prefixes that change how a query runs.
FORBIDDEN = frozenset(
    """CREATE MERGE SET DELETE REMOVE DETACH DROP ALTER RENAME LOAD COPY CALL YIELD INSTALL UNINSTALL
    ATTACH USE EXPORT IMPORT FOREACH PROFILE EXPLAIN CYPHER TIMEOUT CHECKPOINT BEGIN COMMIT ROLLBACK
    TRANSACTION TRANSACTIONS PERIODIC CSV HEADERS FIELDTERMINATOR FROM GRANT DENY REVOKE SHOW START
    STOP TERMINATE ENABLE DISABLE MACRO SEQUENCE INSERT UPDATE UPSERT FINISH DBMS DATABASE PROJECT
    EXTENSION PRAGMA NODETACH DRYRUN DEALLOCATE REALLOCATE""".split()
)
# After one of these a name cannot follow in valid Cypher, so a word there must be an allowed keyword.
ENDS_EXPRESSION = frozenset({"DESC", "DESCENDING", "ASC", "ASCENDING", "NULL", "TRUE", "FALSE", "END"})
PUNCTUATION = set("()[]{},.:|+-*/%^=<>!&~")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+(?![.]))?(?:[eE][+-]?[0-9]+)?")


def _refuse(message: str) -> QueryRefused:
    return QueryRefused(message)


def _imitates(fragment: str) -> str:
    normal = unicodedata.normalize("NFKC", fragment)
    visible = "".join(c for c in normal if unicodedata.category(c) not in ("Cf", "Cc", "Zs"))
    return f" (NFKC reads it as {visible!r})" if visible != fragment and visible.isascii() else ""


def _lex(text: str) -> tuple[list[tuple[str, str]], str]:
    """Tokens [(kind, text)] of a query and its canonical text (comments replaced by a space)."""
    tokens: list[tuple[str, str]] = []
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            out.append(c)
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            out.append(" ")
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise _refuse("unterminated /* comment")
            i = end + 2
            out.append(" ")
        elif c in "'\"":
            end = text.find(c, i + 1)
            if end < 0:
                raise _refuse(f"unterminated string starting at character {i + 1}")
            literal = text[i : end + 1]
            if "\\" in literal:
                raise _refuse("escape sequences in string literals are not accepted: pass such values as $params")
            tokens.append(("string", literal))
            out.append(literal)
            i = end + 1
        elif c == "`":
            raise _refuse("backtick-quoted names are not accepted; use plain names")
        elif c == "$":
            m = WORD.match(text, i + 1) or re.compile(r"[0-9]+").match(text, i + 1)
            if m is None:
                raise _refuse(f"'$' must start a parameter name (character {i + 1})")
            tokens.append(("param", m.group()))
            out.append(text[i : m.end()])
            i = m.end()
        elif m := WORD.match(text, i):
            tokens.append(("word", m.group()))
            out.append(m.group())
            i = m.end()
        elif m := NUMBER.match(text, i):
            tokens.append(("number", m.group()))
            out.append(m.group())
            i = m.end()
        elif c == ";":
            if text[i + 1 :].strip():
                raise _refuse("one statement at a time: ';' may only end the query")
            i = n
        elif c in PUNCTUATION:
            tokens.append(("punct", c))
            out.append(c)
            i += 1
        elif not c.isascii():
            j = i
            while j < n and not text[j].isascii():
                j += 1
            k = j
            while k < n and (text[k].isalnum() and text[k].isascii()):
                k += 1
            start = i
            while start > 0 and text[start - 1].isascii() and text[start - 1].isalnum():
                start -= 1
            raise _refuse(
                f"non-ASCII character U+{ord(c):04X} outside a string at character {i + 1}"
                f"{_imitates(text[start:k])}: names and keywords must be plain ASCII"
            )
        else:
            raise _refuse(f"character {c!r} is not accepted outside a string (character {i + 1})")
    return tokens, "".join(out).strip()


def _check_words(tokens: list[tuple[str, str]]) -> None:
    if not tokens:
        raise _refuse("the query is empty")
    kind, first = tokens[0]
    if kind == "word" and first.upper() in FORBIDDEN:
        raise _refuse(f"{first.upper()} is not allowed: researcher queries are read-only and may not call procedures")
    if kind != "word" or first.upper() not in STARTS:
        raise _refuse(f"a query must start with {', '.join(sorted(STARTS))}, not {first!r}")
    for i, (kind, text) in enumerate(tokens):
        if kind != "word":
            continue
        upper = text.upper()
        if upper in FORBIDDEN:
            raise _refuse(f"{upper} is not allowed: researcher queries are read-only and may not call procedures")
        prev = tokens[i - 1] if i else ("punct", "")
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ("punct", "")
        if nxt == ("punct", "(") and prev == ("punct", "."):
            raise _refuse(f"namespaced function {text}() is not allowed; only built-in functions are")
        if upper in ALLOWED or prev == ("punct", ".") or prev == ("punct", ":"):
            continue
        # A name or function right after the end of an expression would be a clause: only allowed ones pass.
        ends = prev[0] in ("word", "number", "string", "param") or prev in (("punct", ")"), ("punct", "]"))
        ends = ends or prev == ("punct", "}")
        if prev[0] == "word" and prev[1].upper() in ALLOWED and prev[1].upper() not in ENDS_EXPRESSION:
            ends = False
        if (
            i >= 2
            and prev == ("punct", "*")
            and tokens[i - 2][0] == "word"
            and tokens[i - 2][1].upper() in ("WITH", "RETURN")
        ):
            ends = True  # WITH * / RETURN * end their projection
        if ends:
            raise _refuse(f"{text!r} is not an allowed clause or keyword here")


def check_query(text: str) -> str:
    """The query to run (comments removed) if it passes the allowlist; QueryRefused otherwise."""
    if len(text) > MAX_QUERY_CHARS:
        raise _refuse(f"the query is longer than {MAX_QUERY_CHARS} characters")
    tokens, canonical = _lex(text)
    _check_words(tokens)
    return canonical


def check_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (params or {}).items():
        if not isinstance(key, str) or not (IDENT.match(key) or key.isdigit()):
            raise QueryRefused(f"parameter name {key!r} is not a plain name")
        out[key] = value
    return out
