"""Parameters and helpers the routers share: dates, depth, pagination, documented problems, entity types."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Path, Query
from supplygraph.api import entity_ids  # noqa: F401 - registers {id:entity_id} for the routes
from supplygraph.api.models import Problem
from supplygraph.graph.schema import SCHEMA

MAX_LIMIT = 500

AsOf = Annotated[date | None, Query(description="the day the answer is true on (YYYY-MM-DD); default today")]
Depth = Annotated[int, Query(ge=1, le=8, description="supplier tiers to follow (1-8)")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"items per page (1-{MAX_LIMIT})")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="items to skip")]
PathId = Annotated[
    str, Path(min_length=1, max_length=200, description="an id as in the bundle (`/` in it may be sent as %2F)")
]

# Entity types in URLs are the schema's labels in lower case: factory, agency, affiliate, ...
EntityType = StrEnum("EntityType", {label.lower(): label.lower() for label in SCHEMA.nodes})  # type: ignore[misc]
LABELS: dict[str, str] = {label.lower(): label for label in SCHEMA.nodes}
TYPES: dict[str, str] = {label: label.lower() for label in SCHEMA.nodes}
FindingCategory = StrEnum("FindingCategory", {v: v for v in SCHEMA.enums["finding_category"]})  # type: ignore[misc]
Severity = StrEnum("Severity", {v: v for v in SCHEMA.enums["severity"]})  # type: ignore[misc]
SEVERITY_RANK = {v: i for i, v in enumerate(SCHEMA.enums["severity"])}

DESCRIPTIONS = {
    400: "Query refused or failed",
    401: "Missing, unknown or revoked API key",
    403: "The key's role does not allow this",
    404: "Unknown id, or not visible to this key",
    409: "Another load is running",
    410: "The graph was reloaded since this page cursor was given: start again without it",
    413: "Too large",
    422: "Invalid parameter (the problem names it)",
    429: "This key has as many expensive requests running as it may; see Retry-After",
    503: "No graph loaded, store unavailable, or the server or sandbox busy (see Retry-After)",
    504: "Query timed out",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for these problem statuses (always with 401, 422 and 503)."""
    wanted = sorted({401, 422, 503, *codes})
    return {code: {"model": Problem, "description": DESCRIPTIONS[code]} for code in wanted}
