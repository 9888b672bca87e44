"""/v1/watches: stored questions whose answers the server re-asks after each load and each day.

A watch belongs to its tenant: an affiliate key's affiliate (an affiliate key may watch only its own
exposure), or the key that made it. Another tenant's watch answers 404, exactly as an unknown id;
admin keys see every watch. Creating a watch answers it at once (that answer is the baseline of its
first changes), and returns the webhook secret and the feed URL once. Changes are paged by cursor:
`next` of one page is `since` of the next, and a page with no items keeps the cursor where it was.
The Atom feed (`/v1/feeds/{token}`) needs no key: its URL is the secret, and can be replaced or revoked.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from supplygraph.api.deps import Admin, Caller, State
from supplygraph.api.routers.affiliates import Basis
from supplygraph.api.routers.common import PathId, Severity, problems
from supplygraph.api.watches.access import check_question, live_tenants, sees_all, tenant_of, visible_watch
from supplygraph.api.watches.atom import feed_xml
from supplygraph.api.watches.runner import evaluate_watches
from supplygraph.api.watches.service import WatchService
from supplygraph.api.watches.webhooks import allow_host, allowed_hosts, check_webhook, deliveries, remove_host
from supplygraph.graph.errors import NotFound
from supplygraph.queries.changes import encoded, watch_answer

router = APIRouter(tags=["watches"])
PAGE = 100


PORT = r"(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?"
WEBHOOK = r"^https?://[A-Za-z0-9.-]+" + PORT + r"([/?][^\s]*)?$"
HOST = r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$"  # a name or an IPv4 address
Host = Annotated[str, PathParam(pattern=HOST, description="a host name or address")]


class WatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["affiliate", "factory", "agency", "finding"] = Field(
        description="affiliate: its exposure; factory, agency, finding: who is exposed to it (investigators, admins)"
    )
    target: str = Field(min_length=1, max_length=200, description="the affiliate, factory, agency or finding id")
    depth: int = Field(4, ge=1, le=8, description="supplier tiers to follow (1-8)")
    min_basis: Basis | None = Field(None, description="only what rests on this basis or a stronger one")  # type: ignore[valid-type]
    min_severity: Severity | None = Field(None, description="only findings at least this severe")  # type: ignore[valid-type]
    webhook: str | None = Field(
        None, max_length=2000, pattern=WEBHOOK, description="POST each change here: an http(s) URL on an allowed host"
    )


def service(request: Request) -> WatchService:
    return request.app.state.watches  # type: ignore[no-any-return]


Service = Annotated[WatchService, Depends(service)]


@router.post("/v1/watches", status_code=201, responses=problems(403, 404, 429), summary="Watch a question")
async def create_watch(body: WatchIn, caller: Caller, app_state: State, watching: Service) -> dict[str, Any]:
    """Stores the question and answers it now (the baseline of its first changes). The answer's `secret`
    signs its webhooks and `feed_url` is its Atom feed: both are shown only here."""
    question = check_question(
        caller,
        body.kind,
        body.target,
        body.depth,
        None if body.min_basis is None else body.min_basis.value,
        None if body.min_severity is None else body.min_severity.value,
        app_state.settings.max_depth,
    )
    watches = watching.watches
    if body.webhook is not None:
        check_webhook(watches, body.webhook)
    day = watching.today()

    def baseline() -> tuple[Any, str | None]:
        with app_state.access.use() as store:
            return watch_answer(store, question, day), store.generation

    snapshot, generation = await app_state.fairness.run(caller, baseline)  # 404 for an unknown target
    watch, secret, token = watches.create(tenant_of(caller), caller.key_id, question, body.webhook)
    watches.record(watch.id, encoded(snapshot), generation, day.isoformat(), [])
    return {**watch.as_json(), "secret": secret, "feed_url": f"/v1/feeds/{token}"}


@router.get("/v1/watches", responses=problems(), summary="The caller's watches")
async def list_watches(caller: Caller, watching: Service) -> dict[str, Any]:
    tenant = None if sees_all(caller) else tenant_of(caller)
    found = await run_in_threadpool(watching.watches.watches, tenant)
    return {"items": [w.as_json() for w in found]}


@router.get("/v1/watches/{watch_id}", responses=problems(404), summary="One watch")
async def get_watch(watch_id: PathId, caller: Caller, watching: Service) -> dict[str, Any]:
    return visible_watch(watching.watches, caller, watch_id).as_json()


@router.delete("/v1/watches/{watch_id}", status_code=204, responses=problems(404), summary="Delete a watch")
async def delete_watch(watch_id: PathId, caller: Caller, watching: Service) -> Response:
    """No more answers, events or webhook deliveries (those still waiting are dropped)."""
    visible_watch(watching.watches, caller, watch_id)
    watching.watches.delete(watch_id)
    return Response(status_code=204)


@router.get("/v1/watches/{watch_id}/changes", responses=problems(404), summary="A watch's change events")
async def watch_changes(
    watch_id: PathId,
    caller: Caller,
    watching: Service,
    since: Annotated[
        str, Query(pattern=r"^[0-9]{1,18}$", description="the `next` of the page before; 0: from the start")
    ] = "0",
    limit: Annotated[int, Query(ge=1, le=500, description="events per page (1-500)")] = PAGE,
) -> dict[str, Any]:
    """Events recorded after cursor `since`, oldest first; `next` is the cursor for the following page."""
    visible_watch(watching.watches, caller, watch_id)
    cursor = int(since)
    found = await run_in_threadpool(watching.watches.events, watch_id, cursor, limit)
    return {
        "watch": watch_id,
        "items": [{**event, "cursor": str(seq)} for seq, event in found],
        "next": str(found[-1][0]) if found else str(cursor),
        "more": len(found) == limit,
    }


@router.post("/v1/watches/{watch_id}/feed", responses=problems(404), summary="A new secret feed URL")
async def new_feed(watch_id: PathId, caller: Caller, watching: Service) -> dict[str, Any]:
    """The watch's Atom feed gets a new secret URL; the one before stops working."""
    visible_watch(watching.watches, caller, watch_id)
    return {"feed_url": f"/v1/feeds/{watching.watches.new_feed(watch_id)}"}


@router.delete("/v1/watches/{watch_id}/feed", status_code=204, responses=problems(404), summary="Revoke the feed")
async def revoke_feed(watch_id: PathId, caller: Caller, watching: Service) -> Response:
    visible_watch(watching.watches, caller, watch_id)
    watching.watches.revoke_feed(watch_id)
    return Response(status_code=204)


@router.get("/v1/watches/{watch_id}/deliveries", responses=problems(404), summary="A watch's webhook deliveries")
async def watch_deliveries(watch_id: PathId, caller: Caller, watching: Service) -> dict[str, Any]:
    visible_watch(watching.watches, caller, watch_id)
    return {"items": deliveries(watching.watches, watch_id)}


@router.get(
    "/v1/feeds/{token}",
    responses={200: {"content": {"application/atom+xml": {}}}, 404: {"description": "Unknown or revoked feed"}},
    summary="A watch's Atom feed (the URL is the secret; no key)",
)
async def feed(token: PathId, request: Request, app_state: State, watching: Service) -> Response:
    watch = watching.watches.by_feed(token)
    if watch.tenant not in live_tenants(app_state.keyring):  # every key of its tenant revoked: gone
        raise NotFound("no such feed")
    events = await run_in_threadpool(watching.watches.latest_events, watch.id, PAGE)
    body = feed_xml(watch, events, str(request.url))
    return Response(body, media_type="application/atom+xml")


@router.post("/v1/watches/evaluate", responses=problems(403), summary="Answer every watch now (admins)")
async def evaluate_now(caller: Admin, app_state: State, watching: Service) -> dict[str, Any]:
    """What the server does after each load and each day, at once: answers for today, records changes."""

    def run() -> dict[str, Any]:
        with app_state.access.use() as store:
            live = live_tenants(app_state.keyring)
            return evaluate_watches(store, watching.watches, watching.today(), tenants=live).as_json()

    return await app_state.fairness.run(caller, run)  # type: ignore[no-any-return]


@router.get("/v1/webhook-hosts", responses=problems(403), summary="Hosts webhooks may go to (admins)")
async def list_hosts(caller: Admin, watching: Service) -> dict[str, Any]:
    return {"items": allowed_hosts(watching.watches)}


@router.put("/v1/webhook-hosts/{host}", responses=problems(403), summary="Allow webhooks to a host (admins)")
async def put_host(host: Host, caller: Admin, watching: Service) -> dict[str, Any]:
    return {"host": allow_host(watching.watches, host, caller.key_id)}


@router.delete("/v1/webhook-hosts/{host}", status_code=204, responses=problems(403, 404), summary="Disallow a host")
async def delete_host(host: Host, caller: Admin, watching: Service) -> Response:
    remove_host(watching.watches, host)
    return Response(status_code=204)
