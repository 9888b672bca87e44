"""The Neo4j store's load lock (graph/stores/load_lock.py): a write lock on one (:SupplygraphLoadLock) node.

It is taken by a transaction that stays open while the load runs, so the server gives it back when the
transaction ends, or when the connection of a killed load closes: no lock outlives its load. A first
transaction with a short timeout only probes it, so that a second load fails at once with LoadLocked
instead of waiting for the first to end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable

import neo4j
from neo4j.exceptions import Neo4jError, ServiceUnavailable
from supplygraph.graph.errors import LoadLocked, StoreUnavailable

LOCK_LABEL = "SupplygraphLoadLock"
LOCK_WAIT_S = 1.0  # how long a load waits for another load's lock before it fails with LoadLocked
TAKE = f"MERGE (l:{LOCK_LABEL} {{id: 'load'}}) SET l.taken = $owner"


def take_neo4j_load_lock(
    driver: neo4j.Driver, database: str, uri: str, ensure_constraints: Callable[[], None]
) -> Callable[[], None]:
    """Take the lock or raise LoadLocked; returns the function that gives it back."""
    ensure_constraints()  # the lock node is unique, so two first loads cannot each MERGE one
    owner = {"owner": f"{os.getpid()}-{uuid.uuid4().hex[:8]}"}
    try:
        with driver.session(database=database) as session:
            with session.begin_transaction(timeout=LOCK_WAIT_S) as probe:
                probe.run(TAKE, owner).consume()
                probe.commit()
    except ServiceUnavailable as exc:
        raise StoreUnavailable(f"Neo4j at {uri} does not answer: {exc}") from exc
    except Neo4jError as exc:
        raise LoadLocked(f"another load is writing to Neo4j at {uri}; try again when it ends") from exc
    session = driver.session(database=database)
    holder = session.begin_transaction()
    holder.run(TAKE, owner).consume()

    def release() -> None:
        try:
            holder.rollback()
        finally:
            session.close()

    return release
