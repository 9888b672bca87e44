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


class Neo4jSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEO4J_", extra="ignore")

    uri: str | None = None
    user: str = "neo4j"
    password: str = "supplygraph-test"
    database: str = "neo4j"
