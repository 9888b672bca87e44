"""The Cypher the HTTP API runs beyond the named queries: entity search and detail, shortest paths.

Values are always $parameters. `{label}`, `{from_label}`, `{to_label}` and `{display}` are filled by
fill() with graph.stores.protocol.ident() of a label or property name from graph.schema.SCHEMA. Where the dialects differ a constant is a dict
{dialect: text}.
"""

from __future__ import annotations

from supplygraph.graph.schema import SCHEMA
from supplygraph.graph.stores.protocol import ident

# A node's display text, whatever its label: the display properties of every label, first non-null.
DISPLAY_ANY = "coalesce({})".format(
    ", ".join(f"{{var}}.{ident(p)}" for p in dict.fromkeys(n.display for n in SCHEMA.nodes.values()) if p != "id")
)


def display_of(var: str) -> str:
    return DISPLAY_ANY.replace("{var}", var)


def fill(template: str, **names: str) -> str:
    """The template with each {name} placeholder replaced by ident(value): labels and properties only."""
    for key, value in names.items():
        template = template.replace("{" + key + "}", ident(value))
    return template


# ---------------------------------------------------------------- search (one label at a time)

SEARCH = (
    "MATCH (n:{label}) WHERE toLower(n.id) CONTAINS $q OR toLower(n.{display}) CONTAINS $q"
    " RETURN n.id AS id, n.{display} AS name ORDER BY id SKIP $skip LIMIT $limit"
)

SEARCH_COUNT = (
    "MATCH (n:{label}) WHERE toLower(n.id) CONTAINS $q OR toLower(n.{display}) CONTAINS $q RETURN count(*) AS n"
)

# Without a search text (LadybugDB: 'abc' CONTAINS '' is false).
LIST = "MATCH (n:{label}) RETURN n.id AS id, n.{display} AS name ORDER BY id SKIP $skip LIMIT $limit"

LIST_COUNT = "MATCH (n:{label}) RETURN count(*) AS n"

# ---------------------------------------------------------------- one entity

NODE = "MATCH (n:{label} {id: $id}) RETURN n AS node"

NODE_DISPLAY = "MATCH (n:{label}) WHERE n.id IN $ids RETURN n.id AS id, n.{display} AS name"

# Neighbours of one node, both directions, minus those whose label is in $hidden; `outgoing` tells
# the direction of the relationship as seen from the node.
NEIGHBOURS = {
    "ladybug": "MATCH p = (n:{label} {id: $id})-[r]-(m) WHERE NOT label(m) IN $hidden"
    " RETURN label(r) AS type, properties(rels(p), '_src')[1] = id(n) AS outgoing, r AS rel,"
    " label(m) AS label, m.id AS id, " + display_of("m") + " AS name ORDER BY type, label, id SKIP $skip LIMIT $limit",
    "neo4j": "MATCH (n:{label} {id: $id})-[r]-(m) WHERE NOT labels(m)[0] IN $hidden"
    " RETURN type(r) AS type, startNode(r) = n AS outgoing, r AS rel, labels(m)[0] AS label, m.id AS id, "
    + display_of("m")
    + " AS name ORDER BY type, label, id SKIP $skip LIMIT $limit",
}

NEIGHBOUR_COUNT = {
    "ladybug": "MATCH (n:{label} {id: $id})-[r]-(m) WHERE NOT label(m) IN $hidden RETURN count(*) AS n",
    "neo4j": "MATCH (n:{label} {id: $id})-[r]-(m) WHERE NOT labels(m)[0] IN $hidden RETURN count(*) AS n",
}

# The source ids on every relationship of the node (not only the neighbours shown).
LINK_SOURCE_IDS = {
    "ladybug": "MATCH (n:{label} {id: $id})-[r]-(m) WHERE NOT label(m) IN $hidden AND r.source_ids IS NOT NULL"
    " RETURN DISTINCT r.source_ids AS ids",
    "neo4j": "MATCH (n:{label} {id: $id})-[r]-(m) WHERE NOT labels(m)[0] IN $hidden AND r.source_ids IS NOT NULL"
    " RETURN DISTINCT r.source_ids AS ids",
}

SOURCES_BY_ID = (
    "MATCH (s:Source) WHERE s.id IN $ids"
    " RETURN s.id AS id, s.title AS title, s.url AS url, s.kind AS kind, s.published_on AS published_on ORDER BY id"
)

# ---------------------------------------------------------------- shortest paths

MAX_PATH_HOPS = 8  # the default bound; a bound cannot be a parameter, so `hops_text` writes a checked int
LONGEST_PATH_HOPS = 12
# Paths follow the supply chain and the links around it, never a shared source (BACKED_BY) or a consortium
# membership (MEMBER_OF): two findings backed by one report are not connected by it.
PATH_TYPES = "|".join(
    ident(t) for t in ("HOLDS", "CALL_OFF_OF", "HAS_ITEM", "INCLUDES", "ASSEMBLED_AT", "SUPPLIES", "PLACES_WORKERS_AT",
                       "RECRUITS_THROUGH", "CONCERNS", "OPERATED_BY", "BRANDED_BY", "OWNED_BY", "AWARDED_TO",
                       "LISTS_SITE")
)

SHORTEST_PATHS = {
    "ladybug": "MATCH p = (a:{from_label} {id: $from})-[:" + PATH_TYPES + "* ALL SHORTEST 1..{hops}]-(b:{to_label} {id: $to})"
    " RETURN properties(nodes(p), 'id') AS ids, properties(nodes(p), '_label') AS labels,"
    " list_transform(nodes(p), x -> " + display_of("x") + ") AS names,"
    " properties(rels(p), '_label') AS types, list_transform(nodes(p), x -> id(x)) AS node_keys,"
    " list_transform(rels(p), x -> x._src) AS rel_starts LIMIT $limit",
    "neo4j": "MATCH (a:{from_label} {id: $from}), (b:{to_label} {id: $to})"
    " MATCH p = allShortestPaths((a)-[:" + PATH_TYPES + "*..{hops}]-(b))"
    " RETURN [x IN nodes(p) | x.id] AS ids, [x IN nodes(p) | labels(x)[0]] AS labels,"
    " [x IN nodes(p) | " + display_of("x") + "] AS names,"
    " [x IN relationships(p) | type(x)] AS types, [x IN nodes(p) | elementId(x)] AS node_keys,"
    " [x IN relationships(p) | elementId(startNode(x))] AS rel_starts LIMIT $limit",
}


def hops_text(template: str, hops: int) -> str:
    """The path template with its bound: an int checked here, never text from a request."""
    if not isinstance(hops, int) or not 1 <= hops <= LONGEST_PATH_HOPS:
        raise ValueError(f"hops must be an int between 1 and {LONGEST_PATH_HOPS}")
    return template.replace("{hops}", str(hops))
