"""The edges of supplygraph: the HTTP API (routers), the CLI, the Cypher sandbox and the browser views."""
