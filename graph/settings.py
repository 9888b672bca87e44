"""One pydantic-settings object for every entry point (CLI, API, tests)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SUPPLYGRAPH_", extra="ignore")

    db: Path = Path("./supplygraph-data")
    query_timeout_s: float = 10.0
    max_rows: int = 10_000
    default_depth: int = 4
    max_depth: int = 8
    # The HTTP API (api/): key file, researcher sandbox limits, caches.
    keys: Path | None = None  # SUPPLYGRAPH_KEYS; default <db>/keys.sqlite (local even with Neo4j)
    cypher_memory_mb: int = 1024  # address space a sandboxed query may add to its worker
    cypher_buffer_pool_mb: int = 256  # LadybugDB buffer pool of a sandbox worker
    cypher_workers: int = 2  # sandboxed queries running at once; more are refused at once (503)
    cypher_max_bytes: int = 16 * 2**20  # largest JSON answer a sandboxed query may return
    exposure_cache_mb: int = 256  # encoded exposure answers kept per immutable generation
    max_upload_mb: int = 512  # largest bundle zip POST /v1/loads accepts
    max_unzipped_mb: int = 2048  # most a zipped bundle or .xlsx may unpack to (loaders/zip_limits.py)
    max_zip_ratio: float = 200.0  # most a zip member over 1 MB may be compressed (zip bombs: 400-1000:1)
    max_body_kb: int = 1024  # largest request body elsewhere (Cypher, named query parameters)
    ui_session_hours: float = 12.0  # a /ui login lasts this long (sessions end at logout and key revocation too)
    # Fairness (api/fairness.py): expensive requests (uncached exposure, reverse exposure, paths, named
    # queries, Cypher) in flight at once; beyond them the answer is at once 429 (per key) or 503 (in all).
    expensive_per_key: int = 2  # one API key's
    expensive_total: int = 0  # walk processes, and threads for the rest (Cypher: cypher_workers); 0: CPUs, > per key
    retry_after_s: int = 2  # the Retry-After of those refusals
    slot_wait_ms: int = 500  # how long a request past its key's bound waits (no thread) for a slot before its 429
    walk_buffer_pool_mb: int = 256  # LadybugDB buffer pool of an exposure walk's worker process (api/walkers.py)


class Neo4jSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEO4J_", extra="ignore")

    uri: str | None = None
    user: str = "neo4j"
    password: str = "supplygraph-test"
    database: str = "neo4j"
    # A local server's home, for the bulk path of a first load (loaders/neo4j_bulk.py): neo4j-admin and the
    # command that stops and starts the server (default <home>/bin/neo4j-admin and <home>/bin/neo4j).
    home: Path | None = None
    admin: str | None = None  # NEO4J_ADMIN, e.g. scripts/neo4j-admin
    control: str | None = None  # NEO4J_CONTROL, e.g. scripts/neo4j-server (called with stop, then start)
