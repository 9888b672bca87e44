"""supplygraph's core: the schema, the stores and the analytics over them."""
