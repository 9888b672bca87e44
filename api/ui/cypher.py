"""The Cypher the browser views run beyond the API's. Values are always $parameters; labels and property
names come from graph.schema.SCHEMA through queries.entity_cypher.fill (graph.stores.protocol.ident)."""

from __future__ import annotations

# Search with the country where the label has one (fill: label, display).
SEARCH_WITH_COUNTRY = (
    "MATCH (n:{label}) WHERE toLower(n.id) CONTAINS $q OR toLower(n.{display}) CONTAINS $q"
    " RETURN n.id AS id, n.{display} AS name, n.country AS country ORDER BY id LIMIT $limit"
)
SEARCH_NO_COUNTRY = (
    "MATCH (n:{label}) WHERE toLower(n.id) CONTAINS $q OR toLower(n.{display}) CONTAINS $q"
    " RETURN n.id AS id, n.{display} AS name ORDER BY id LIMIT $limit"
)

# The display name of nodes of one label by id (fill: label, display). UNWIND then a match on the key
# uses the primary key index on both stores, where `n.id IN $ids` scans the whole label.
NODE_DISPLAY_BY_IDS = "UNWIND $ids AS wanted MATCH (n:{label} {id: wanted}) RETURN n.id AS id, n.{display} AS name"

# Findings about a set of subjects, whatever their status (the view mutes those not open on the day).
FINDINGS_ON = (
    "MATCH (fi:Finding) WHERE fi.subject_id IN $ids AND (fi.reported_on IS NULL OR fi.reported_on <= $as_of)"
    " RETURN fi.id AS id, fi.category AS category, fi.severity AS severity, fi.status AS status,"
    " fi.subject_type AS subject_type, fi.subject_id AS subject_id, fi.closed_on AS closed_on,"
    " fi.summary AS summary, fi.source_ids AS sources ORDER BY id"
)

FINDINGS_BY_ID = (
    "UNWIND $ids AS wanted MATCH (fi:Finding {id: wanted}) RETURN fi.id AS id, fi.category AS category,"
    " fi.severity AS severity, fi.status AS status, fi.reported_on AS reported_on, fi.closed_on AS closed_on"
)

# Every finding about one subject (the entity page lists the open ones, and the others muted).
FINDINGS_OF = (
    "MATCH (fi:Finding) WHERE fi.subject_id = $id AND fi.subject_type = $subject_type"
    " RETURN fi.id AS id, fi.category AS category, fi.severity AS severity, fi.status AS status,"
    " fi.reported_on AS reported_on, fi.closed_on AS closed_on, fi.summary AS summary ORDER BY id"
)
