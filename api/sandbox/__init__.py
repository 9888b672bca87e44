"""Researchers' Cypher, which is not trusted: checked, then run in a throw-away worker process with limits.

LadybugDB's read-only mode still lets a query read files (LOAD FROM), write files (COPY ... TO),
change its own timeout (CALL timeout=0) and install extensions; Neo4j's READ mode still allows
LOAD CSV and procedures. So a query passes four gates:

1. check_query(): a tokenised query (string literals and comments set apart) may use only allowed
   clauses and keywords; write clauses, LOAD, COPY, CALL, INSTALL, settings and the like anywhere
   outside a string refuse it, as do backticks, escapes in strings, non-ASCII outside strings
   (zero-width spaces, fullwidth letters: NFKC names what they imitate), namespaced functions and
   more than one statement. What runs is the checked text without its comments.
2. Neo4j: `EXPLAIN` of the query must report query type "r" (read only).
3. The query runs in a new worker process (api/sandbox/worker.py) that opens the store itself
   (LadybugDB: the request's generation, read-only, with a bounded buffer pool), then limits its own
   address space (RLIMIT_AS), CPU time (RLIMIT_CPU) and file writes (RLIMIT_FSIZE = 0), and runs
   Store.run_readonly with the store's own timeout and row cap.
4. The server waits for the worker's answer no longer than the timeout plus a grace period, then
   kills it (504). A worker that dies (CPU or memory limit) is an error answer, never the server's.
"""

from supplygraph.api.sandbox.check import check_params, check_query
from supplygraph.api.sandbox.pool import GRACE_S, ResultTooLarge, Sandbox, SandboxBusy
from supplygraph.api.sandbox.worker import jsonable

__all__ = ["GRACE_S", "ResultTooLarge", "Sandbox", "SandboxBusy", "check_params", "check_query", "jsonable"]
