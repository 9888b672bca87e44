"""Review pages under /ui/review: the entity review queue (pairs, and records matching several nodes, side by
side with the score and what drove it), the Item review queue of contract items and the products their
descriptions may name, accept and reject of an entry as a whole, and split and move of a merged node.

For investigator, researcher and admin keys; an affiliate key gets 404 on every page and form, exactly as for
an unknown page. Decisions go through loaders/review.py, as `supplygraph matches` does: written to the same
decision file and the graph rebuilt at once under the store's load lock, so they are kept and re-applied on
every later load. Every form is a POST that must come from a page of this site (the Origin check of
api/ui/login.py) with a live session (api/ui/sessions.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from supplygraph.api.entity_ids import id_in_path  # and the entity_id path convertor, for ids with '/'
from supplygraph.api.keys import Principal, Role
from supplygraph.graph.errors import InvalidParameter, NotFound
from supplygraph.graph.stores.protocol import Store
from supplygraph.loaders import review
from supplygraph.loaders.resolve import Decisions, matches_file
from supplygraph.loaders.resolve.nodes import node_members
from supplygraph.queries.items import item_and_product

from . import pages
from .guard import guarded
from .login import cross_site, read_form, same_site

router = APIRouter(prefix="/review", include_in_schema=False)  # under the /ui router (api/ui/routes.py)
MAX_FORM = 16 * 1024  # record ids to split out: far below this
QUEUE_PAGE = 200  # entries listed per queue page
ITEM = "Item"


def staff_only(request: Request, work: Callable[[Principal], Response]) -> Response:
    """Runs `work(caller)` for any key but an affiliate's, which is told nothing exists here (api/ui/guard.py)."""

    def checked(caller: Principal) -> Response:
        if caller.role == Role.affiliate:
            raise NotFound("no review pages")
        return work(caller)

    return guarded(request, checked)


def form_fields(form: dict[str, list[str]] | None) -> dict[str, list[str]]:
    """A review form's fields (read by api/ui/login.py's read_form); a form over MAX_FORM bytes is refused."""
    if form is None:
        raise InvalidParameter("form", f"a review form has at most {MAX_FORM:,} bytes")
    return form


@contextmanager
def writable(request: Request) -> Iterator[Store]:
    """The store a decision rebuilds with: a handle of its own, as a load's (Store.for_load)."""
    shared = pages.app_state(request).access.store
    store = shared.for_load()
    try:
        yield store
    finally:
        if store is not shared:
            store.close()


def queue_of(request: Request, items: bool) -> list[dict[str, Any]]:
    with pages.app_state(request).access.use() as store:
        queue = Decisions.load(matches_file(store)).queue
    return [m for m in queue if (m["label"] == ITEM) == items]


@router.get("")
def entity_queue(request: Request, done: str = "", page: str = "0") -> Response:
    return staff_only(request, lambda caller: listing(request, caller, False, done, page))


@router.get("/items")
def item_queue(request: Request, done: str = "", page: str = "0") -> Response:
    return staff_only(request, lambda caller: listing(request, caller, True, done, page))


def listing(request: Request, caller: Principal, items: bool, done: str, page: str) -> Response:
    entries = queue_of(request, items)
    number = int(page) if page.isdigit() and len(page) < 7 else 0  # anything else: the first page
    start = number * QUEUE_PAGE
    return pages.page(request, "review_queue.html", caller, entries=entries[start : start + QUEUE_PAGE],
                      total=len(entries), page=number, per_page=QUEUE_PAGE, items=items,
                      done=done[:300])  # fmt: skip


@router.get("/entry/{match_id:entity_id}")
def entry_page(request: Request, match_id: str) -> Response:
    def work(caller: Principal) -> Response:
        with pages.app_state(request).access.use() as store:
            found = review.entry(store, match_id)
            if found["label"] == ITEM:  # a contract item and a candidate product: both from the graph
                found = {**found, "members": [found["a"], found["b"]],
                         "records": item_and_product(store, found["a"], found["b"])}  # fmt: skip
            decision = Decisions.load(matches_file(store)).decided.get(match_id, {}).get("decision")
        members = found.get("members") or [found["a"], found["b"]]
        records = found.get("records") or {}
        fields = sorted({k for m in members for k in records.get(m, {})} - {"id"}, key=field_order)
        return pages.page(request, "review_entry.html", caller, entry=found, members=members, records=records,
                          fields=fields, decision=decision)  # fmt: skip

    return staff_only(request, work)


def field_order(field: str) -> tuple[int, str]:
    shown = review.SIDE_BY_SIDE
    return (shown.index(field) if field in shown else len(shown), field)


async def posted(request: Request, act: Callable[[dict[str, list[str]], Store], str]) -> Response:
    """A review form: refused (403) unless it comes from a page of this site; `act(fields, store)` decides on
    the writable store and says where to go next."""
    if not same_site(request):
        return cross_site(request)
    form = await read_form(request, MAX_FORM)

    def work(caller: Principal) -> Response:
        fields = form_fields(form)
        with writable(request) as store:
            return RedirectResponse(act(fields, store), status_code=303)

    return await run_in_threadpool(staff_only, request, work)


def done_at(path: str, message: str) -> str:
    return f"{path}?done={quote(message)}"


@router.post("/entry/{match_id:entity_id}/{decision}")
async def decide(request: Request, match_id: str, decision: str) -> Response:
    """Accept or reject a queued entry as a whole; the graph is rebuilt with the decision applied."""

    def act(_fields: dict[str, list[str]], store: Store) -> str:
        if decision not in ("accept", "reject"):
            raise NotFound("no such decision; accept or reject")
        taken, report = review.decide(store, match_id, decision)
        members = taken.get("members") or [taken["a"], taken["b"]]
        back = "/ui/review/items" if taken["label"] == ITEM else "/ui/review"
        return done_at(back, f"{decision}ed {' ~ '.join(members)}; graph rebuilt: {report.nodes:,} nodes")

    return await posted(request, act)


@router.get("/node/{node_id:entity_id}")
def node_page(request: Request, node_id: str, done: str = "") -> Response:
    """A node's records side by side, to split some of them out of it or move one into another node."""

    def work(caller: Principal) -> Response:
        with pages.app_state(request).access.use() as store:
            label, members = node_members(store, node_id)
            records = review.member_records(store, label, members)
        fields = sorted({k for r in records.values() for k in r}, key=field_order)
        return pages.page(request, "review_node.html", caller, node=node_id, label=label, members=members,
                          records=records, fields=fields, done=done[:300])  # fmt: skip

    return staff_only(request, work)


@router.post("/node/{node_id:entity_id}/split")
async def split(request: Request, node_id: str) -> Response:
    def act(fields: dict[str, list[str]], store: Store) -> str:
        records = fields.get("record") or []
        if not records:
            raise InvalidParameter("record", "tick the records to take out of this node")
        label, report = review.split(store, node_id, records)
        message = f"split {', '.join(records)} out of {label} {node_id}; graph rebuilt: {report.nodes:,} nodes"
        return done_at(f"/ui/review/node/{id_in_path(node_id)}", message)

    return await posted(request, act)


@router.post("/node/{node_id:entity_id}/move")
async def move(request: Request, node_id: str) -> Response:
    def act(fields: dict[str, list[str]], store: Store) -> str:
        record = (fields.get("record") or [""])[0].strip()
        to = (fields.get("to") or [""])[0].strip()
        if not record or not to:
            raise InvalidParameter("to", "name the record to move and the id of the node it belongs to")
        label, report = review.move(store, record, to)
        message = f"moved {record} to {label} {to}; graph rebuilt: {report.nodes:,} nodes"
        return done_at(f"/ui/review/node/{id_in_path(to)}", message)

    return await posted(request, act)
