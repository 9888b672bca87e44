"""Researchers' Cypher, which is not trusted: checked, then run in a throw-away worker process with limits.

LadybugDB's read-only mode still lets a query read files (LOAD FROM), write files (COPY ... TO),
change its own timeout (CALL timeout=0) and install extensions; Neo4j's READ mode still allows
LOAD CSV and procedures. So a query passes four gates:

1. check_query(): a tokenised query (string literals and comments set apart) may use only allowed
   clauses and keywords; write clauses, LOAD, COPY, CALL, INSTALL, settings and the like anywhere
   outside a string refuse it, as do backticks, escapes in strings, non-ASCII outside strings
   (zero-width spaces, fullwidth letters: NFKC names what they imitate), namespaced functions and
   more than one statement. What runs is the checked text without its comments.
2. Neo4j: `EXPLAIN` of the query must report query type "r" (read only).
3. The query runs in a new worker process (`python -m api.sandbox`) that opens the store itself
   (LadybugDB: the request's generation, read-only, with a bounded buffer pool), then limits its own
   address space (RLIMIT_AS), CPU time (RLIMIT_CPU) and file writes (RLIMIT_FSIZE = 0), and runs
   Store.run_readonly with the store's own timeout and row cap.
4. The server waits for the worker's answer no longer than the timeout plus a grace period, then
   kills it (504). A worker that dies (CPU or memory limit) is an error answer, never the server's.
"""

from __future__ import annotations

import json
import math
import os
import re
import resource
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any

import ladybug

from graph.errors import EmptyGraph, QueryFailed, QueryRefused, QueryTimeout, StoreUnavailable
from graph.ladybug_store import LadybugStore
from graph.settings import Neo4jSettings
from graph.store import IDENT

ROOT = Path(__file__).resolve().parent.parent
MAX_QUERY_CHARS = 20_000
STARTUP_TIMEOUT_S = 60.0  # a worker importing its libraries on a busy machine
GRACE_S = 2.0  # opening the store, on top of the query's own timeout
WORKER_NICENESS = 10  # a worker runs at a lower CPU priority than the server, from its first import on
LAUNCH_WORKER = f"import os, runpy; os.nice({WORKER_NICENESS}); runpy.run_module('api.sandbox', run_name='__main__')"

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


# ------------------------------------------------------------------------------------ stores


class PinnedLadybugStore(LadybugStore):
    """A LadybugStore that reads one generation, whatever CURRENT says later, optionally with DB limits.

    The API shares one per generation between requests (api/deps.py); a sandbox worker opens one
    with a bounded buffer pool.
    """

    def __init__(self, root: Path, generation: str, **database_options: Any) -> None:
        super().__init__(root)
        self.pinned = generation
        self.database_options = database_options

    def _current_name(self) -> str | None:
        return self.pinned

    def _connection(self) -> ladybug.Connection:
        if self._conn is None:
            path = self.root / "generations" / self.pinned / "graph.lbug"
            if not path.exists():
                raise EmptyGraph(f"generation {self.pinned} of {self.root} is gone; load a bundle again")
            self._db = ladybug.Database(str(path), read_only=True, **self.database_options)
            self._conn = ladybug.Connection(self._db)
            self._open_name = self.pinned
        return self._conn


# ------------------------------------------------------------------------------------ the server side


def sandbox_config(store: Any) -> dict[str, Any]:
    """How a worker process opens the same graph as `store` (the embedded folder, or the Neo4j server)."""
    if isinstance(store, LadybugStore):
        return {"dialect": "ladybug", "root": str(Path(store.root).resolve())}
    neo = Neo4jSettings()
    return {
        "dialect": "neo4j",
        "uri": getattr(store, "uri", neo.uri),
        "database": getattr(store, "database", neo.database),
        "user": neo.user,
        "password": neo.password,
    }


class SandboxBusy(StoreUnavailable):
    title = "Too many queries running"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": "5"}


class ResultTooLarge(QueryFailed):
    http_status = 413
    title = "Result too large"


ERRORS: dict[str, type[Exception]] = {
    "refused": QueryRefused,
    "failed": QueryFailed,
    "timeout": QueryTimeout,
    "too_large": ResultTooLarge,
    "unavailable": StoreUnavailable,
    "empty": EmptyGraph,
}


class Sandbox:
    """Runs checked queries in worker processes, at most `workers` at once, keeping one spare started."""

    def __init__(
        self,
        store_config: Mapping[str, Any],
        *,
        workers: int = 2,
        memory_bytes: int = 2**30,
        buffer_pool_bytes: int = 256 * 2**20,
        max_bytes: int = 16 * 2**20,
        spare: bool = True,
    ) -> None:
        self.store_config = dict(store_config)
        if "root" in self.store_config:
            self.store_config["root"] = str(Path(self.store_config["root"]).resolve())
        self.memory_bytes = memory_bytes
        self.buffer_pool_bytes = buffer_pool_bytes
        self.max_bytes = max_bytes
        self._slots = threading.BoundedSemaphore(workers)
        self._spare: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._closed = not spare  # no spare worker is started once closed (or for a one-off query)

    def _spawn(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        return subprocess.Popen(
            [sys.executable, "-c", LAUNCH_WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=tempfile.gettempdir(),
            env=env,
            start_new_session=True,
        )

    def _take(self) -> subprocess.Popen[bytes]:
        with self._lock:
            proc, self._spare = self._spare, None
            if proc is None or proc.poll() is not None:
                proc = self._spawn()
            if not self._closed:
                self._spare = self._spawn()
        return proc

    def close(self) -> None:
        with self._lock:
            self._closed = True
            spare, self._spare = self._spare, None
        if spare is not None:
            _stop(spare)

    def run(
        self, query: str, params: Mapping[str, Any] | None, *, timeout_s: float, max_rows: int, generation: str | None
    ) -> dict[str, Any]:
        """The answer; SandboxBusy (503) at once when every worker is busy: no thread waits for one."""
        canonical = check_query(query)
        checked = check_params(params)
        if not self._slots.acquire(blocking=False):
            raise SandboxBusy("every sandbox worker is busy; try again in a few seconds")
        try:
            job = {
                "query": canonical,
                "params": checked,
                "timeout_s": timeout_s,
                "max_rows": max_rows,
                "memory_bytes": self.memory_bytes,
                "cpu_s": math.ceil(timeout_s) + 1,
                "max_bytes": self.max_bytes,
                "store": {**self.store_config, "generation": generation, "buffer_pool_bytes": self.buffer_pool_bytes},
            }
            started = time.monotonic()
            answer = self._run_job(job, timeout_s)
            answer["seconds"] = round(time.monotonic() - started, 3)
            return answer
        finally:
            self._slots.release()

    def _run_job(self, job: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        proc = self._take()
        try:
            assert proc.stdout is not None and proc.stdin is not None
            fd = proc.stdout.fileno()
            if _read_until(fd, time.monotonic() + STARTUP_TIMEOUT_S, 64, line=True) != b"ready\n":
                raise QueryFailed("the query worker did not start")
            try:
                proc.stdin.write(json.dumps(job).encode())
                proc.stdin.close()
            except BrokenPipeError:
                raise QueryFailed("the query worker stopped before it got the query") from None
            deadline = time.monotonic() + timeout_s + GRACE_S
            try:
                raw = _read_until(fd, deadline, self.max_bytes + 4096)
            except TimeoutError:
                _stop(proc)
                raise QueryTimeout(f"query stopped after {timeout_s:g} s (worker killed)") from None
            except OverflowError:
                _stop(proc)
                raise ResultTooLarge(f"the answer is larger than {self.max_bytes:,} bytes; return fewer rows") from None
            proc.wait(timeout=10)
            if not raw:
                raise _death(proc.returncode, timeout_s)
            try:
                answer = json.loads(raw)
            except ValueError:
                raise _death(proc.returncode, timeout_s) from None  # it died while writing
            if not answer.get("ok"):
                raise ERRORS.get(answer.get("error"), QueryFailed)(answer.get("detail", "the query failed"))
            return {k: answer[k] for k in ("columns", "count", "truncated", "rows")}
        finally:
            _stop(proc)


def _death(returncode: int | None, timeout_s: float) -> Exception:
    if returncode == -signal.SIGXCPU:
        return QueryTimeout(f"query stopped: it used more than {math.ceil(timeout_s) + 1} s of CPU")
    if returncode == -signal.SIGXFSZ:
        return QueryRefused("the query tried to write a file")
    if returncode in (-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGKILL, -signal.SIGBUS):
        return QueryFailed("the query worker died (memory limit reached?); ask for less")
    return QueryFailed(f"the query worker ended without an answer (exit status {returncode})")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass


def _read_until(fd: int, deadline: float, limit: int, *, line: bool = False) -> bytes:
    """Bytes from fd until EOF (or a newline), by `deadline` (TimeoutError), at most `limit` (OverflowError)."""
    data = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 1 if line else 65536)
        if not chunk:
            return bytes(data)
        data += chunk
        if len(data) > limit:
            raise OverflowError
        if line and chunk == b"\n":
            return bytes(data)


# ------------------------------------------------------------------------------------ the worker side


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date | dtime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    iso = getattr(value, "iso_format", None)  # neo4j temporal types
    return iso() if callable(iso) else str(value)


def _open_store(config: Mapping[str, Any]) -> Any:
    if config["dialect"] == "ladybug":
        if not config.get("generation"):
            raise EmptyGraph("no graph loaded")
        pool = int(config["buffer_pool_bytes"])
        return PinnedLadybugStore(
            Path(config["root"]), config["generation"], buffer_pool_size=pool, max_db_size=1 << 36, max_num_threads=2
        )
    from graph.neo4j_store import Neo4jStore

    return Neo4jStore(config["uri"], config["user"], config["password"], config["database"])


def _explain_read_only(store: Any, query: str, params: Mapping[str, Any]) -> None:
    import neo4j
    from neo4j.exceptions import Neo4jError

    try:
        with store.driver.session(database=store.database, default_access_mode=neo4j.READ_ACCESS) as session:
            summary = session.run(neo4j.Query("EXPLAIN " + query), dict(params)).consume()
    except Neo4jError as exc:
        raise QueryFailed(exc.message or str(exc)) from exc
    if summary.query_type != "r":
        raise QueryRefused(f"Neo4j plans this query as {summary.query_type!r}, not read-only ('r')")


def _address_space() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _limit_self(memory_bytes: int, cpu_s: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(used.ru_utime + used.ru_stime) + cpu_s
    resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 2))
    limit = _address_space() + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _work(job: Mapping[str, Any]) -> dict[str, Any]:
    store = _open_store(job["store"])
    try:
        if store.dialect == "neo4j":
            _explain_read_only(store, job["query"], job["params"])
        else:
            store.run("RETURN 1")  # opens the generation before the limits apply
        _limit_self(int(job["memory_bytes"]), int(job["cpu_s"]))
        columns, rows, truncated = store.run_readonly(
            job["query"], job["params"], timeout_s=float(job["timeout_s"]), max_rows=int(job["max_rows"])
        )
        return {"ok": True, "columns": columns, "count": len(rows), "truncated": truncated, "rows": jsonable(rows)}
    finally:
        store.close()


def worker_main() -> None:
    answer_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing a library prints can mix with the answer
    import graph.neo4j_store  # noqa: F401  (imported before the job arrives: a spare starts warm)

    os.write(answer_fd, b"ready\n")
    raw = sys.stdin.buffer.read()
    if not raw:
        os._exit(0)  # a spare that was never used
    job = json.loads(raw)
    kinds = {QueryRefused: "refused", QueryTimeout: "timeout", EmptyGraph: "empty", StoreUnavailable: "unavailable"}
    try:
        answer = _work(job)
    except MemoryError:
        answer = {"ok": False, "error": "failed", "detail": "the query reached its memory limit"}
    except Exception as exc:
        kind = next((v for k, v in kinds.items() if isinstance(exc, k)), "failed")
        detail = str(exc) or type(exc).__name__
        if "bad_alloc" in detail or "Unable to allocate memory" in detail:
            detail = "the query reached its memory limit: " + detail
        answer = {"ok": False, "error": kind, "detail": detail[:2000]}
    encoded = json.dumps(answer, allow_nan=False).encode()
    if len(encoded) > int(job.get("max_bytes", 16 * 2**20)):
        encoded = json.dumps({"ok": False, "error": "too_large", "detail": "the answer is too large"}).encode()
    view = memoryview(encoded)
    while view:
        view = view[os.write(answer_fd, view) :]
    os._exit(0)


if __name__ == "__main__":
    worker_main()
