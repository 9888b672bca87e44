"""`supplygraph watch add|list|remove|evaluate|deliver|hosts` and `supplygraph changes WATCH --since CURSOR`.

Watches live in `watches.sqlite` beside the key file (docs/watches.md). Made here without --key, a
watch belongs to the local operator (`local`); with --key it belongs to that key's tenant, with that
key's rules (an affiliate key watches only its own affiliate), and the key sees it over HTTP.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from supplygraph.api import render
from supplygraph.api.cli.base import (
    AsOfOption,
    DbOption,
    JsonOption,
    Neo4jOption,
    err,
    named_as_options,
    out,
    parse_as_of,
)
from supplygraph.api.keys import KeyRing, keys_path
from supplygraph.api.terminal import json_text
from supplygraph.api.watches.access import check_question, live_tenants, tenant_of, visible_watch
from supplygraph.api.watches.runner import evaluate_watches
from supplygraph.api.watches.service import WatchSettings
from supplygraph.api.watches.store import WatchStore, watches_path
from supplygraph.api.watches.webhooks import Backoff, Deliverer, allow_host, allowed_hosts, check_webhook, remove_host
from supplygraph.graph.errors import InvalidParameter, NotFound
from supplygraph.graph.settings import Settings
from supplygraph.graph.stores import open_store
from supplygraph.queries.changes import encoded, watch_answer

watch_app = typer.Typer(
    help="Watches: stored exposure questions answered again after every load and every day; "
    "their changes go to `supplygraph changes`, webhooks and an Atom feed (docs/watches.md).",
    no_args_is_help=True,
)
hosts_app = typer.Typer(help="Hosts webhooks may be sent to (nothing goes anywhere else).", no_args_is_help=True)
watch_app.add_typer(hosts_app, name="hosts")
Keys = Annotated[
    Path | None, typer.Option("--keys", help="Key file; watches.sqlite is beside it [env SUPPLYGRAPH_KEYS]")
]


def open_watches(db: Path | None, keys: Path | None) -> WatchStore:
    return WatchStore(watches_path(keys or keys_path(Settings(), db)))


@watch_app.command("add")
def add(
    kind: Annotated[str, typer.Argument(help="affiliate (its exposure), or factory, agency, finding (who is exposed)")],
    target: Annotated[str, typer.Argument(metavar="ID", help="The affiliate, factory, agency or finding id")],
    depth: Annotated[int, typer.Option("--depth", help="Supplier tiers to follow (1-8)")] = 4,
    min_basis: Annotated[str | None, typer.Option("--min-basis", help="disclosed, matched or brand_list")] = None,
    min_severity: Annotated[str | None, typer.Option("--min-severity", help="low, medium, high or critical")] = None,
    webhook: Annotated[
        str | None, typer.Option("--webhook", help="POST each change to this URL (an allowed host)")
    ] = None,
    key: Annotated[
        str | None, typer.Option("--key", help="Make it for this key's tenant (k_...), with its rules")
    ] = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    neo4j: Neo4jOption = None,
    keys: Keys = None,
) -> None:
    """Watch a question. It is answered now (the baseline); later answers are compared with the last one.
    Prints the watch id, the webhook secret and the feed path: the secrets are shown only this once."""
    caller = None
    if key is not None:
        caller = KeyRing(keys or keys_path(Settings(), db)).by_id(key)
        if caller is None:
            raise NotFound(f"no unrevoked key with id {key!r}; `supplygraph keys list` shows them")
    with named_as_options():
        question = check_question(caller, kind, target, depth, min_basis, min_severity, Settings().max_depth)
    watches = open_watches(db, keys)
    if webhook is not None:
        check_webhook(watches, webhook)
    day = parse_as_of(as_of)
    store = open_store(db, neo4j)
    try:
        snapshot, generation = watch_answer(store, question, day), store.generation
    finally:
        store.close()
    watch, secret, token = watches.create(tenant_of(caller), key, question, webhook)
    watches.record(watch.id, encoded(snapshot), generation, day.isoformat(), [])
    err.print(
        f"watching {kind} {target} as {watch.id}; secret and feed path are shown only this once:", highlight=False
    )
    sys.stdout.write(json_text({**watch.as_json(), "secret": secret, "feed_url": f"/v1/feeds/{token}"}) + "\n")


@watch_app.command("list")
def list_watches(db: DbOption = None, keys: Keys = None, as_json: JsonOption = False) -> None:
    """Every watch (the local operator sees all of them)."""
    found = open_watches(db, keys).watches()
    if as_json:
        sys.stdout.write(json_text([w.as_json() | {"tenant": w.tenant} for w in found]) + "\n")
        return
    columns = ["id", "tenant", "kind", "target", "depth", "min_basis", "min_severity", "webhook", "created"]
    rows = [[str(getattr(w, c) or "") for c in columns] for w in found]
    render.rows_table(out, columns, rows, title="watches")


@watch_app.command("remove")
def remove(
    watch: Annotated[str, typer.Argument(help="The watch id (w_...)")], db: DbOption = None, keys: Keys = None
) -> None:
    """Delete a watch: no more answers, events or webhooks (deliveries still waiting are dropped)."""
    watches = open_watches(db, keys)
    visible_watch(watches, None, watch)
    watches.delete(watch)
    out.print(f"removed {watch}", highlight=False)


@watch_app.command("evaluate")
def evaluate(as_of: AsOfOption = None, db: DbOption = None, neo4j: Neo4jOption = None, keys: Keys = None, as_json: JsonOption = False) -> None:
    """Answer every watch now and record what changed (what the server does after each load and each day).
    Watches whose keys were all revoked are left out."""
    store = open_store(db, neo4j)
    try:
        live = live_tenants(KeyRing(keys or keys_path(Settings(), db)))  # watches of revoked keys pause
        done = evaluate_watches(store, open_watches(db, keys), parse_as_of(as_of), tenants=live)
    finally:
        store.close()
    if as_json:
        sys.stdout.write(json_text(done.as_json()) + "\n")
        return
    out.print(
        f"{done.answered} watches answered, {done.skipped} already answered, {len(done.failed)} failed; "
        f"{done.events} new events in {done.seconds:.1f} s",
        highlight=False,
    )
    for watch_id, problem in done.failed.items():
        err.print(f"{watch_id}: {problem}", highlight=False)


@watch_app.command("deliver")
def deliver(
    once: Annotated[bool, typer.Option("--once", help="One pass over what is due, then stop")] = False,
    db: DbOption = None,
    keys: Keys = None,
) -> None:
    """Send the webhooks due (the server does this itself; this is for setups without one)."""
    settings = WatchSettings()
    backoff = Backoff(settings.retry_first_s, settings.retry_max_s, settings.give_up_h * 3600)
    deliverer = Deliverer(open_watches(db, keys), backoff, settings.webhook_timeout_s)
    if once:
        out.print(f"{deliverer.deliver_due()} delivered", highlight=False)
        return
    deliverer.run(threading.Event(), settings.deliver_every_s)


@hosts_app.command("allow")
def hosts_allow(
    host: Annotated[str, typer.Argument(help="A host name or address")], db: DbOption = None, keys: Keys = None
) -> None:
    """Allow webhooks to HOST (any port, http or https)."""
    out.print(f"allowed {allow_host(open_watches(db, keys), host, 'local')}", highlight=False)


@hosts_app.command("remove")
def hosts_remove(
    host: Annotated[str, typer.Argument(help="A host on the list")], db: DbOption = None, keys: Keys = None
) -> None:
    """Stop webhooks to HOST (deliveries waiting for it fail until it is allowed again or they give up)."""
    remove_host(open_watches(db, keys), host)
    out.print(f"removed {host}", highlight=False)


@hosts_app.command("list")
def hosts_list(db: DbOption = None, keys: Keys = None, as_json: JsonOption = False) -> None:
    """The hosts webhooks may go to."""
    found = allowed_hosts(open_watches(db, keys))
    if as_json:
        sys.stdout.write(json_text(found) + "\n")
        return
    render.rows_table(out, ["host", "added", "added_by"], [[h["host"], h["added"], h["added_by"]] for h in found])


def changes(
    watch: Annotated[str, typer.Argument(help="The watch id (w_...)")],
    since: Annotated[str, typer.Option("--since", help="Cursor: the `next` printed before; 0 from the start")] = "0",
    limit: Annotated[int, typer.Option("--limit", help="Events to print at most")] = 100,
    db: DbOption = None,
    keys: Keys = None,
    as_json: JsonOption = False,
) -> None:
    """A watch's change events after the cursor, oldest first, and the next cursor."""
    if not since.isdigit() or not since.isascii():
        raise InvalidParameter("--since", f"{since!r} is not a cursor; use the `next` printed before, or 0")
    if not 1 <= limit <= 100_000:
        raise InvalidParameter("--limit", f"must be between 1 and 100000, got {limit}")
    watches = open_watches(db, keys)
    visible_watch(watches, None, watch)
    found = watches.events(watch, int(since), limit)
    following = str(found[-1][0]) if found else since
    if as_json:
        items = [{**event, "cursor": str(seq)} for seq, event in found]
        sys.stdout.write(json_text({"watch": watch, "items": items, "next": following}) + "\n")
        return
    rows: list[list[Any]] = []
    for seq, event in found:
        before, after = event.get("before") or {}, event.get("after") or {}
        change = ", ".join(f"{k} {before.get(k)} -> {after.get(k)}" for k in sorted(set(before) | set(after)))
        rows.append([str(seq), event["as_of"], event["type"], event["item"]["id"], change, " > ".join(event["path"])])
    render.rows_table(
        out, ["cursor", "as of", "change", "item", "before -> after", "path"], rows, title=f"changes of {watch}"
    )
    err.print(f"next: --since {following}", highlight=False)
