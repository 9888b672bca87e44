"""The server side of the sandbox: worker processes started, fed one checked query each, watched and killed."""

from __future__ import annotations

import json
import math
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from supplygraph.api.sandbox.check import check_params, check_query
from supplygraph.graph.errors import EmptyGraph, QueryFailed, QueryRefused, QueryTimeout, StoreUnavailable

STARTUP_TIMEOUT_S = 60.0  # a worker importing its libraries on a busy machine
GRACE_S = 2.0  # opening the store, on top of the query's own timeout
WORKER_NICENESS = 10  # a worker runs at a lower CPU priority than the server, from its first import on
LAUNCH_WORKER = f"import os, runpy; os.nice({WORKER_NICENESS}); runpy.run_module('supplygraph.api.sandbox.worker', run_name='__main__')"


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
        return QueryTimeout(
            f"query stopped after its timeout of {timeout_s:g} s (it reached its CPU limit, {math.ceil(timeout_s) + 1} s)"
        )
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
