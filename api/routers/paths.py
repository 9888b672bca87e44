"""GET /v1/paths?from=&to=: the shortest paths (up to `max_hops` links, any direction) between two nodes, along
the supply chain and the links around it, never through a shared source or a consortium membership.

Not for affiliate keys (403): paths run through nodes that other affiliates share.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from supplygraph.api.deps import Investigator, State
from supplygraph.api.resource_models import Paths
from supplygraph.api.routers.common import LABELS, TYPES, EntityType, problems
from supplygraph.graph.errors import InvalidParameter, NotFound
from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.stores.protocol import Store
from supplygraph.queries import entity_cypher as q
from supplygraph.queries.entity_cypher import fill

router = APIRouter(tags=["entities"])
MAX_PATHS = 100


def _node(store: Store, parameter: str, node_id: str, type_: EntityType | None) -> tuple[str, str | None]:
    """(label, display name) of the node with this id; the id must name exactly one node."""
    labels = [LABELS[type_.value]] if type_ is not None else list(SCHEMA.nodes)
    found: list[tuple[str, str | None]] = []
    for label in labels:
        rows = store.run(fill(q.NODE_DISPLAY, label=label, display=SCHEMA.nodes[label].display), {"ids": [node_id]})
        found.extend((label, None if r["name"] is None else str(r["name"])) for r in rows)
    if not found:
        raise NotFound(f"{parameter}: no node with id {node_id!r}")
    if len(found) > 1:
        kinds = ", ".join(TYPES[label] for label, _name in found)
        raise InvalidParameter(f"{parameter}_type", f"id {node_id!r} names a {kinds}: say which")
    return found[0]


@router.get(
    "/v1/paths",
    responses=problems(403, 404, 429),
    summary="Shortest paths between two nodes",
    response_model=Paths,
)
async def paths(
    caller: Investigator,
    app_state: State,
    from_: Annotated[str, Query(alias="from", min_length=1, max_length=200, description="id of the first node")],
    to: Annotated[str, Query(min_length=1, max_length=200, description="id of the other node")],
    from_type: Annotated[EntityType | None, Query(description="type of `from`, when its id is ambiguous")] = None,
    to_type: Annotated[EntityType | None, Query(description="type of `to`, when its id is ambiguous")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PATHS, description=f"paths at most (1-{MAX_PATHS})")] = 10,
    max_hops: Annotated[
        int, Query(ge=1, le=q.LONGEST_PATH_HOPS, description=f"links at most (1-{q.LONGEST_PATH_HOPS})")
    ] = q.MAX_PATH_HOPS,
) -> dict[str, Any]:
    """Every shortest path of up to `max_hops` links between `from` and `to`, links followed either way: the
    supply chain (HOLDS, CALL_OFF_OF, HAS_ITEM, INCLUDES, ASSEMBLED_AT, SUPPLIES, PLACES_WORKERS_AT,
    RECRUITS_THROUGH, CONCERNS) and the companies around it (OPERATED_BY, BRANDED_BY, OWNED_BY, AWARDED_TO,
    LISTS_SITE); never a shared source (BACKED_BY) or a consortium membership (MEMBER_OF). When there is none
    that short, `longer` says how many links the shortest has (up to 12), or that there is none."""

    def compute() -> tuple[tuple[str, str | None], tuple[str, str | None], list[dict[str, Any]], str | None]:
        with app_state.access.use() as store:
            start = _node(store, "from", from_, from_type)
            end = _node(store, "to", to, to_type)
            if (start[0], from_) == (end[0], to):
                raise InvalidParameter("to", "is the same node as 'from'")
            text = fill(q.SHORTEST_PATHS[store.dialect], from_label=start[0], to_label=end[0])
            params = {"from": from_, "to": to, "limit": limit}
            rows = store.run(q.hops_text(text, max_hops), params)
            longer = None
            if not rows:
                beyond = store.run(q.hops_text(text, q.LONGEST_PATH_HOPS), {**params, "limit": 1})
                longer = (
                    f"the shortest path has {len(beyond[0]['types'])} links, more than max_hops ({max_hops})"
                    if beyond else f"no path of at most {q.LONGEST_PATH_HOPS} links"
                )
            return start, end, rows, longer

    start, end, rows, longer = await app_state.fairness.run(caller, compute)  # expensive: api/fairness.py
    items: list[dict[str, Any]] = []
    for row in rows:
        keys, starts = row["node_keys"], row["rel_starts"]
        items.append(
            {
                "length": len(row["types"]),
                "nodes": [
                    {"type": TYPES.get(label, str(label).lower()), "id": node_id, "name": None if n is None else str(n)}
                    for label, node_id, n in zip(row["labels"], row["ids"], row["names"], strict=True)
                ],
                "relationships": [
                    {"type": t, "direction": "out" if starts[i] == keys[i] else "in"}
                    for i, t in enumerate(row["types"])
                ],
            }
        )
    items.sort(key=lambda path: [node["id"] for node in path["nodes"]])
    return {
        "from": {"type": TYPES[start[0]], "id": from_, "name": start[1]},
        "to": {"type": TYPES[end[0]], "id": to, "name": end[1]},
        "max_hops": max_hops,
        "longer": longer,
        "count": len(items),
        "limit": limit,
        "items": items,
    }
