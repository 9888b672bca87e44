"""The supplygraph CLI and HTTP API: thin shells over graph/ and queries/."""
