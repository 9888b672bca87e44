"""`supplygraph keys create|list|revoke`: API keys, shown once, stored as hashes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from supplygraph.api import render
from supplygraph.api.cli.base import (
    DbOption,
    JsonOption,
    Neo4jOption,
    app,
    err,
    open_cli_store,
    out,
    print_json,
)
from supplygraph.graph.errors import InvalidParameter
from supplygraph.graph.settings import Settings

keys_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
KeysOption = Annotated[
    Path | None,
    typer.Option(
        "--keys", help="Key file (env SUPPLYGRAPH_KEYS; default <db>/keys.sqlite, or in Neo4j with --neo4j/NEO4J_URI)"
    ),
]


def _keyring(db: Path | None, keys: Path | None, neo4j: str | None = None) -> Any:
    """--keys or SUPPLYGRAPH_KEYS: that file; else with Neo4j (and no --db) the keys in Neo4j; else <db>/keys.sqlite."""
    from supplygraph.api.keys import KeyRing, keys_path
    from supplygraph.api.shared_keys import keyring_for
    from supplygraph.graph.settings import Neo4jSettings

    settings = Settings()
    if keys is not None or settings.keys is not None or not (neo4j or (db is None and Neo4jSettings().uri)):
        return KeyRing(keys or keys_path(settings, db))
    return keyring_for(settings, open_cli_store(db, neo4j), db)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option("--role", help="affiliate, investigator, researcher or admin")],
    affiliate: Annotated[str | None, typer.Option("--affiliate", help="The affiliate id (affiliate keys)")] = None,
    name: Annotated[str, typer.Option("--name", help="A label: who or what uses the key")] = "",
    keys: KeysOption = None,
    db: DbOption = None,
    neo4j: Neo4jOption = None,
) -> None:
    """Create a key and print it once (only its hash is kept)."""
    from supplygraph.api.keys import Role
    from supplygraph.queries import cypher as named

    if role not in Role.__members__:
        raise InvalidParameter("--role", f"must be one of {', '.join(Role.__members__)}, got {role!r}")
    if affiliate is not None:
        store = open_cli_store(db, neo4j)
        try:
            if not store.run(named.AFFILIATE, {"affiliate_id": affiliate}):
                from supplygraph.graph.errors import NotFound

                raise NotFound(f"no affiliate with id {affiliate!r} in the graph")
        finally:
            store.close()
    key, info = _keyring(db, keys, neo4j).create(role, affiliate, name)
    err.print(
        f"created key {info.id} ({info.role}{' of ' + affiliate if affiliate else ''}); it is shown only this once:",
        highlight=False,
    )
    sys.stdout.write(key + "\n")


@keys_app.command("list")
def keys_list(
    keys: KeysOption = None, db: DbOption = None, neo4j: Neo4jOption = None, as_json: JsonOption = False
) -> None:
    """List keys (never the keys themselves)."""
    found = _keyring(db, keys, neo4j).list()
    rows = [[k.id, k.role, k.affiliate_id or "", k.name, k.created, k.revoked or ""] for k in found]
    if as_json:
        print_json(
            [dict(zip(["id", "role", "affiliate", "name", "created", "revoked"], r, strict=True)) for r in rows]
        )
        return
    render.rows_table(out, ["id", "role", "affiliate", "name", "created", "revoked"], rows, title="API keys")


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (k_...), from `keys list`")],
    keys: KeysOption = None,
    db: DbOption = None,
    neo4j: Neo4jOption = None,
) -> None:
    """Revoke a key: it stops working at once (on every API server sharing its keys, within a second)."""
    from supplygraph.api.ui.sessions import revoke_sessions

    ring = _keyring(db, keys, neo4j)
    info = ring.revoke(key_id)
    revoke_sessions(ring, key_id)  # its browser sessions end too
    out.print(f"revoked {info.id} ({info.role}) at {info.revoked}", highlight=False)
