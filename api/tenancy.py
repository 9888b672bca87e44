"""What an affiliate key may see: a subset of its own exposure answer and its own contracts.

`check_reachable` guards the reverse questions (who is exposed to this factory, agency or finding): an
affiliate key asking about an item gets 404, exactly as for an unknown id, unless the item is in its own
exposure answer for the same day and depth. The check reads that answer (from the exposure cache when it
is there) before anything about the item is looked up, so neither the status, the body nor the time of
the answer depends on data the key may not see.
"""

from __future__ import annotations

import gzip
import json
from datetime import date
from typing import Any

from supplygraph.api.deps import AppState
from supplygraph.api.keys import Principal, Role
from supplygraph.graph.errors import NotFound

SECTIONS = {"factory": "factories", "agency": "agencies", "finding": "findings"}


async def own_answer(app_state: AppState, caller: Principal, day: date, depth: int) -> dict[str, Any]:
    """The key's own exposure answer, as GET /v1/affiliates/{id}/exposure gives it: from the cache, or
    computed under a slot of the key (api/fairness.py) and cached."""
    from supplygraph.api.routers.affiliates import computed  # the router's cached, slot-bounded answer

    generation = await app_state.access.generation_now()
    key = (generation, caller.affiliate_id or "", day, depth, False)
    body = app_state.exposure_cache.get(key) if generation else None
    if body is None:
        body = await computed(app_state, caller, key)
    return json.loads(gzip.decompress(body))  # type: ignore[no-any-return]


def answer_ids(answer: dict[str, Any]) -> set[str]:
    """Every id an exposure answer names: its affiliate, items, the nodes on their paths, sources, gaps."""
    ids = {answer["affiliate"]["id"]}
    for section in ("factories", "agencies", "findings"):
        for item in answer[section]:
            ids.add(item["id"])
            ids.update(item["path"])
            ids.update(item["sources"])
    ids.update(gap["id"] for gap in answer["gaps"])
    return ids


async def check_reachable(
    app_state: AppState, caller: Principal, kind: str, item_id: str, day: date, depth: int
) -> None:
    """For an affiliate key: NotFound unless the item is in its own exposure answer (day, depth)."""
    if caller.role != Role.affiliate:
        return
    section = SECTIONS.get(kind)
    answer = await own_answer(app_state, caller, day, depth)
    if section is None or item_id not in {item["id"] for item in answer[section]}:
        raise NotFound(f"no {kind} with id {item_id!r}")
