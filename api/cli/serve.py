"""`supplygraph serve`: the HTTP API and the browser UI with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
from supplygraph.api.cli.base import (
    DbOption,
    Neo4jOption,
    app,
    err,
    open_cli_store,
)
from supplygraph.graph.settings import Settings


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Server processes (each holds its own caches)")] = 1,
    db: DbOption = None,
    neo4j: Neo4jOption = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs). Keys: `supplygraph keys create`."""
    import os

    import uvicorn
    from supplygraph.api.app import create_app

    settings = Settings(db=db) if db is not None else Settings()
    err.print(f"supplygraph API on http://{host}:{port} (docs at /docs)", highlight=False)
    if workers <= 1:
        store = open_cli_store(db, neo4j)
        try:
            uvicorn.run(create_app(settings, store), host=host, port=port, log_level="warning")
        finally:
            store.close()
        return
    # Each worker process builds its own app from the environment (see create_app in api/app.py).
    if neo4j:
        os.environ["NEO4J_URI"] = neo4j
    elif db is not None:
        os.environ.pop("NEO4J_URI", None)
        os.environ["SUPPLYGRAPH_DB"] = str(db)
    uvicorn.run("supplygraph.api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="warning")
