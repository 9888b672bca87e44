"""Named, parameterised Cypher and the answers built from it (exposure, exposed affiliates)."""
