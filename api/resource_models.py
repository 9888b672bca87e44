"""Response models of the entity, path, named query, Cypher and load endpoints (the exposure answers are in
api/models.py)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field
from supplygraph.api.models import ExposedAffiliate, Leverage, Model, NodeRef

# ------------------------------------------------------------------ entities and paths


class EntityRef(Model):
    type: str
    id: str
    name: str | None


class EntityList(Model):
    count: int
    limit: int
    offset: int
    items: list[EntityRef]


class Neighbour(Model):
    relationship: str
    direction: str = Field(description="'out' when the relationship starts at the entity, else 'in'")
    properties: dict[str, Any]
    node: EntityRef


class Neighbours(Model):
    count: int = Field(description="all neighbours")
    rest: int = Field(description="neighbours after this page")
    limit: int
    offset: int
    items: list[Neighbour]


class SourceOut(Model):
    id: str
    title: str | None
    url: str | None
    kind: str | None
    published_on: str | None


class Entity(Model):
    type: str
    id: str
    name: str | None
    properties: dict[str, Any]
    neighbours: Neighbours
    sources: list[SourceOut]


class PathStep(Model):
    type: str
    direction: str = Field(description="'out' when the relationship runs along the path, else 'in'")


class Path(Model):
    length: int
    nodes: list[EntityRef]
    relationships: list[PathStep]


class Paths(Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: EntityRef = Field(alias="from")
    to: EntityRef
    max_hops: int
    longer: str | None = Field(
        default=None, description="when no path is that short: how many links the shortest has, or that none has 12"
    )
    count: int
    limit: int
    items: list[Path]


# ------------------------------------------------------------------ queries, cypher, loads


class ParamOut(Model):
    name: str
    type: str
    required: bool
    description: str
    default: Any = None
    choices: list[str] | None = None


class QueryOut(Model):
    name: str
    title: str
    description: str
    kind: str
    params: list[ParamOut]


class QueryList(Model):
    count: int
    items: list[QueryOut]


class Rows(Model):
    columns: list[str]
    count: int
    rows: list[dict[str, Any]]


class ExposedAffiliatesAnswer(Model):
    kind: str
    item: NodeRef
    as_of: str
    count: int
    affiliates: list[ExposedAffiliate]
    leverage: Leverage


class CypherIn(Model):
    query: str = Field(min_length=1, max_length=20_000, description="read-only Cypher; values as $params")
    params: dict[str, Any] = Field(default_factory=dict)
    timeout_s: float | None = Field(default=None, gt=0, description="at most the server's query timeout")
    max_rows: int | None = Field(default=None, ge=1, description="at most the server's row cap")


class CypherOut(Model):
    columns: list[str]
    count: int
    truncated: bool
    rows: list[list[Any]]
    seconds: float


class LoadOut(Model):
    bundles: list[str]
    rows_read: int
    nodes: int
    relationships: int
    seconds: float
    warnings: list[str]
    written: bool
    skipped: int = 0
    rejects: list[dict[str, Any]] = Field(default_factory=list)
    generation: str | None
