"""GET /v1/entities (search by name or id) and GET /v1/entities/{type}/{id} (properties, neighbours, sources).

Affiliate keys open what their own exposure answer names, and nothing else (api/visible.py): nodes on
their paths are shared with other affiliates, so what such a page shows (properties, neighbours, sources)
is cut to the same set, and their own affiliate node loses its parent_id. Every other entity answers 404
to them, as an unknown id does.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from supplygraph.api.deps import Caller, State
from supplygraph.api.keys import Principal, Role
from supplygraph.api.resource_models import Entity, EntityList
from supplygraph.api.routers.common import LABELS, TYPES, EntityType, Limit, Offset, problems
from supplygraph.api.sandbox import jsonable
from supplygraph.api.tenancy import own_answer
from supplygraph.api.visible import Visible, visible_entities
from supplygraph.graph.errors import NotFound
from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.stores.readable import relationship_out
from supplygraph.queries import cypher
from supplygraph.queries import entity_cypher as q
from supplygraph.queries.entities import entity_node, for_dialect, linked_source_ids
from supplygraph.queries.entity_cypher import fill
from supplygraph.queries.exposure import check_depth
from supplygraph.queries.routes import source_list
from supplygraph.queries.search import IN_STORE, ORDER, flat
from supplygraph.queries.search import search as search_nodes

router = APIRouter(tags=["entities"])
MAX_SOURCES = 200
REDACTED_FOR_AFFILIATES = {"parent_id"}


@router.get("/v1/entities", response_model=EntityList, responses=problems(), summary="Search entities by name or id")
async def search(
    caller: Caller,
    app_state: State,
    q_: Annotated[
        str,
        Query(alias="q", max_length=200, description="words to find, in any order, accents and case ignored, at the "
              "start of words of the id, name, address, OS ID, aliases, LEI or licence number"),
    ] = "",
    type_: Annotated[EntityType | None, Query(alias="type", description="only this entity type")] = None,
    country: Annotated[
        str | None, Query(min_length=2, max_length=2, description="only entities in this country (ISO code, e.g. CN)")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Factories first, then agencies, companies, affiliates, findings, products, sources, contracts and contract
    items; within a type the id itself first, then ids and names starting with `q`, then by id (X2 before X10).
    Contracts and contract items are matched by id and title or description (case ignored, accents not). An
    affiliate key finds what its own exposure answer today names (api/visible.py), nothing else."""
    labels = [LABELS[type_.value]] if type_ is not None else None
    visible = await _visible(app_state, caller, None, 4) if caller.role == Role.affiliate else None
    return await run_in_threadpool(_search, app_state, q_, labels, country, visible, limit, offset)


async def _visible(app_state: Any, caller: Principal, as_of: date | None, depth: int) -> Visible:
    """What an affiliate key may open: the entities its own exposure answer (as_of, depth) names."""
    check_depth(depth, app_state.settings.max_depth)
    answer = await own_answer(app_state, caller, as_of or date.today(), depth)
    contracts = await run_in_threadpool(_own_contracts, app_state, caller)
    return visible_entities(answer, contracts)


def _search(
    app_state: Any, text: str, labels: list[str] | None, country: str | None, visible: Visible | None,
    limit: int, offset: int,
) -> dict[str, Any]:
    with app_state.access.use() as store:
        folded = [label for label in (labels or ORDER) if label not in IN_STORE or visible is not None]
        among = None if visible is None else visible.by_label  # an affiliate key: only what its answer names is read
        found = flat(search_nodes(store, text, folded, country, among))
        items = [{"type": TYPES[label], "id": i, "name": name} for label, i, name, _c in found]
        count = len(items)
        items = items[offset : offset + limit]
        if visible is None and country is None:  # contracts and items: counted and paged by the store
            needle = text.strip().lower()
            count_text, page_text = (q.SEARCH_COUNT, q.SEARCH) if needle else (q.LIST_COUNT, q.LIST)
            skip = max(0, offset - count)
            for label in (lb for lb in IN_STORE if labels is None or lb in labels):
                display = SCHEMA.nodes[label].display
                n = store.run(fill(count_text, label=label, display=display), {"q": needle} if needle else {})[0]["n"]
                if skip < n and len(items) < limit:
                    params = {"skip": skip, "limit": limit - len(items), **({"q": needle} if needle else {})}
                    rows = store.run(fill(page_text, label=label, display=display), params)
                    items.extend({"type": TYPES[label], "id": r["id"], "name": _str(r["name"])} for r in rows)
                skip = max(0, skip - n)
                count += n
    return {"count": count, "limit": limit, "offset": offset, "items": items}


def _link_properties(rel: dict[str, Any]) -> dict[str, Any]:
    """A relationship's properties with a value, `source_ids` a list (graph/stores/readable.py)."""
    return {k: v for k, v in relationship_out(None, rel).items() if k != "type"}


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


@router.get(
    "/v1/entities/{type}/{id:entity_id}",
    response_model=Entity,
    responses=problems(404),
    summary="One entity: properties, neighbours (a page of them, with the count of the rest) and sources",
)
async def entity(
    type_: Annotated[EntityType, Path(alias="type")],
    id_: Annotated[str, Path(alias="id", min_length=1, max_length=200)],
    caller: Caller,
    app_state: State,
    limit: Limit = 50,
    offset: Offset = 0,
    as_of: Annotated[
        date | None, Query(description="for an affiliate key: the day of its exposure answer whose ids it may open")
    ] = None,
    depth: Annotated[
        int, Query(ge=1, le=8, description="for an affiliate key: the depth of that answer (1-8)")
    ] = 4,
) -> dict[str, Any]:
    """An affiliate key may open every entity its own exposure answer (`as_of`, default today; `depth`,
    default 4) names: its items, the sources behind them and the nodes on their paths, and its own
    contracts; it sees their properties, neighbours and sources only as far as they stay among those
    (api/visible.py). Anything else answers 404, as an unknown id does."""
    label = LABELS[type_.value]
    visible = None
    if caller.role == Role.affiliate:
        visible = await _visible(app_state, caller, as_of, depth)
        if not visible.has(label, id_):
            raise NotFound(f"no {type_.value} with id {id_!r}")
    return await run_in_threadpool(_entity, app_state, label, type_.value, id_, visible, limit, offset)


def _own_contracts(app_state: Any, caller: Principal) -> list[str]:
    with app_state.access.use() as store:
        return [r["contract"] for r in store.run(cypher.CONTRACTS_OF_AFFILIATE, {"affiliate_id": caller.affiliate_id})]


def _entity(
    app_state: Any, label: str, type_name: str, id_: str, visible: Visible | None, limit: int, offset: int
) -> dict[str, Any]:
    """The entity's page; with `visible` (an affiliate key) only what stays among the entities it may open."""
    hidden: list[str] = []
    with app_state.access.use() as store:
        node = entity_node(store, label, id_, type_name)
        params = {"id": id_, "hidden": hidden}
        total = store.run(fill(for_dialect(q.NEIGHBOUR_COUNT, store), label=label), params)[0]["n"]
        if visible is None:
            page = store.run(fill(for_dialect(q.NEIGHBOURS, store), label=label), {**params, "skip": offset, "limit": limit})
            source_ids = linked_source_ids(store, label, id_, node, hidden)
        else:
            node = {k: v for k, v in visible.properties(label, node).items() if k not in REDACTED_FOR_AFFILIATES}
            every = store.run(fill(for_dialect(q.NEIGHBOURS, store), label=label), {**params, "skip": 0, "limit": total})
            shown = [
                {**r, "rel": visible.properties(None, r["rel"] or {})}
                for r in every
                if visible.has(str(r["label"]), r["id"])
            ]
            total, page = len(shown), shown[offset : offset + limit]
            source_ids = list(source_list(node.get("source_ids")))
            for r in shown:
                source_ids.extend(s for s in source_list(r["rel"].get("source_ids")) if s not in source_ids)
        sources = store.run(q.SOURCES_BY_ID, {"ids": sorted(set(source_ids))[:MAX_SOURCES]}) if source_ids else []
    display = SCHEMA.nodes[label].display
    items = [
        {
            "relationship": r["type"],
            "direction": "out" if r["outgoing"] else "in",
            "properties": _link_properties(r["rel"] or {}),
            "node": {"type": TYPES.get(r["label"], str(r["label"]).lower()), "id": r["id"], "name": _str(r["name"])},
        }
        for r in page
    ]
    return jsonable(
        {
            "type": type_name,
            "id": id_,
            "name": _str(node.get(display)) if display != "id" else id_,
            "properties": node,
            "neighbours": {
                "count": total,
                "rest": max(0, total - offset - len(items)),
                "limit": limit,
                "offset": offset,
                "items": items,
            },
            "sources": sources,
        }
    )
