"""One root exception with narrow subclasses, mapped once to HTTP statuses and CLI exit codes."""

from __future__ import annotations

from dataclasses import dataclass


class SupplygraphError(Exception):
    """Root of every error supplygraph raises on purpose."""

    http_status = 500
    exit_code = 1
    title = "Internal error"


class ConfigError(SupplygraphError):
    http_status = 500
    exit_code = 78
    title = "Configuration error"


class StoreUnavailable(SupplygraphError):
    http_status = 503
    exit_code = 69
    title = "Store unavailable"


class EmptyGraph(StoreUnavailable):
    title = "No graph loaded"


class NotFound(SupplygraphError):
    http_status = 404
    exit_code = 3
    title = "Not found"


class InvalidParameter(SupplygraphError):
    http_status = 422
    exit_code = 2
    title = "Invalid parameter"

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


class QueryRefused(SupplygraphError):
    """A researcher query that is not read-only, or uses a forbidden clause."""

    http_status = 400
    exit_code = 4
    title = "Query refused"


class QueryFailed(SupplygraphError):
    http_status = 400
    exit_code = 4
    title = "Query failed"


class QueryTimeout(SupplygraphError):
    http_status = 504
    exit_code = 5
    title = "Query timed out"


class LoadLocked(SupplygraphError):
    """Another load holds the graph, or changed it while this one read it."""

    http_status = 409
    exit_code = 75
    title = "Another load is running"


class StaleCursor(SupplygraphError):
    """A page cursor given out for a graph that has since been reloaded: its pages would not add up."""

    http_status = 410
    exit_code = 2
    title = "The graph changed since this cursor was given"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one place of an input: file, line, column and what was expected."""

    file: str
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.column:
            return f"{where}: column '{self.column}': {self.message}"
        return f"{where}: {self.message}"


class BundleError(SupplygraphError):
    """A bundle failed validation. Carries every problem found, not just the first."""

    http_status = 422
    exit_code = 65
    title = "Invalid bundle"

    def __init__(self, problems: list[Problem], *, shown: int = 50) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or "", p.message))
        lines = [str(p) for p in self.problems[:shown]]
        if len(self.problems) > shown:
            lines.append(f"... and {len(self.problems) - shown} more problems")
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} found; nothing was written"
        super().__init__(head + "\n" + "\n".join(lines))
