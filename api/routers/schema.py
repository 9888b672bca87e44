"""GET /v1/schema: labels, properties and relationship types, for writing Cypher (api/schema_description.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from supplygraph.api.deps import Caller
from supplygraph.api.routers.common import problems
from supplygraph.api.schema_description import describe_schema

router = APIRouter(tags=["researchers"])


@router.get("/v1/schema", responses=problems(), summary="The graph's labels, properties and relationship types")
def schema(caller: Caller) -> dict[str, Any]:
    """Every node label with its properties (name, type, required, allowed values) and display property, and
    every relationship type with the labels it runs from and to and its properties. The same for every key:
    it describes the graph, not its data."""
    return describe_schema()
