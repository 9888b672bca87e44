"""What researchers' Cypher may not read on Neo4j: the records every API server shares there (keys, UI
sessions, review decisions), which Community Edition cannot hide by user rights.

These records are nodes with no relationships under labels of their own, so a query can only reach them
through a scan of all nodes, a look-up by internal id, or a scan or seek that names their label. The
sandbox (Neo4jStore.run_readonly) asks the server for the query's plan (EXPLAIN) and refuses any plan with
one of those operators; queries that name the labels they read (`MATCH (f:Factory)`), follow
relationships, or count (`MATCH (n) RETURN count(*)`, from the counts store) run as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from supplygraph.graph.errors import QueryRefused

KEY_LABEL = "SupplygraphKey"
SESSION_LABEL = "SupplygraphSession"
DOCUMENT_LABEL = "SupplygraphDocument"
PRIVATE_LABELS = (KEY_LABEL, SESSION_LABEL, DOCUMENT_LABEL)
ANY_NODE = {"AllNodesScan", "PartitionedAllNodesScan", "NodeByIdSeek", "NodeByElementIdSeek"}


def operators(plan: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(operator name without its runtime suffix, details) of every operator of a plan, depth first."""
    name = str(plan.get("operatorType", "")).split("@", 1)[0]
    found = [(name, str(plan.get("args", {}).get("Details", "")))]
    for child in plan.get("children", []):
        found.extend(operators(child))
    return found


def check_plan(plan: Mapping[str, Any] | None) -> None:
    """QueryRefused if the plan could read the shared private records."""
    for name, details in operators(plan or {}):
        if name in ANY_NODE:
            raise QueryRefused(
                f"on Neo4j a query must name the labels of the nodes it starts from (MATCH (f:Factory) ...), "
                f"not scan all nodes or look nodes up by internal id (the plan has {name}): the servers' keys and "
                "sessions are kept in the same database"
            )
        lowered = details.lower()
        for label in PRIVATE_LABELS:
            if label.lower() in lowered:
                raise QueryRefused(
                    f"{label} nodes hold the servers' keys, sessions and decisions: they are not readable"
                )
