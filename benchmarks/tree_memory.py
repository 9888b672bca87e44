"""The resident memory of a process and all its descendants, sampled every 0.25 s in a thread (Linux /proc).

    with TreeMemory(pid) as sampler: ...
    sampler.peak  # bytes: the largest sum of RSS over the process tree seen at one sample

RSS counts the pages of memory-mapped files a process touched, as `ps` and the kernel's OOM killer see them.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

PAGE = os.sysconf("SC_PAGE_SIZE")
INTERVAL = 0.25


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            out.extend(int(c) for c in task.read_text().split())
        except OSError:
            continue
    return out


def tree_rss(pid: int) -> int:
    """Bytes resident in `pid` and every process under it now (processes that end meanwhile count nothing)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
        todo.extend(_children(current))
    return total


class TreeMemory:
    """Peak RSS of the tree under `pid` (default: this process), and the peak within named marks (`mark`)."""

    def __init__(self, pid: int | None = None, interval: float = INTERVAL) -> None:
        if not Path("/proc/self/statm").exists():
            raise RuntimeError("sampling memory needs Linux /proc")
        self.pid = os.getpid() if pid is None else pid
        self.interval = interval
        self.peak = 0
        self.phase_peak: dict[str, int] = {}
        self.phase = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def mark(self, phase: str) -> None:
        self.phase = phase

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return

    def sample(self) -> int:
        now = tree_rss(self.pid)
        self.peak = max(self.peak, now)
        if self.phase:
            self.phase_peak[self.phase] = max(self.phase_peak.get(self.phase, 0), now)
        return now

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
