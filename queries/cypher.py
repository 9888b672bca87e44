"""Every Cypher text supplygraph runs, in one place. Values are always $parameters.

The texts are written in the common subset of LadybugDB's and Neo4j's Cypher; where the two
dialects differ a query is a dict {dialect: text} (see docs/cypher-dialects.md).
"""

from __future__ import annotations

# Reusable predicates (text only; the date is always the $as_of parameter).
CONTRACT_ACTIVE = (
    "({c}.start_date IS NULL OR {c}.start_date <= $as_of) AND ({c}.end_date IS NULL OR {c}.end_date >= $as_of)"
)
LINK_ACTIVE = (
    "({r}.valid_from IS NULL OR {r}.valid_from <= $as_of) AND ({r}.valid_to IS NULL OR {r}.valid_to >= $as_of)"
)
FINDING_OPEN = (
    "({f}.reported_on IS NULL OR {f}.reported_on <= $as_of)"
    " AND ({f}.closed_on IS NULL OR {f}.closed_on > $as_of)"
    " AND ({f}.closed_on IS NOT NULL OR {f}.status IS NULL OR {f}.status <> 'remediated')"
)


def _active(template: str, var: str) -> str:
    return template.replace("{c}", var).replace("{r}", var).replace("{f}", var)


AFFILIATE = "MATCH (a:Affiliate {id: $affiliate_id}) RETURN a.id AS id, a.name AS name, a.country AS country"

# What an affiliate buys: every contract item (version 1.1: with or without a product), its basis (how it
# came to its product), brand and category (loaders/contract_items.py).
_ITEM = (
    " i.id AS item, i.product_id AS product, i.basis AS basis, i.brand_id AS brand, i.brand_from AS brand_from,"
    " i.category AS category, i.source_ids AS sources"
)

PURCHASES_DIRECT = (
    "MATCH (a:Affiliate {id: $affiliate_id})-[:HOLDS]->(c:Contract)-[:HAS_ITEM]->(i:Item) WHERE "
    + _active(CONTRACT_ACTIVE, "c")
    + " RETURN c.id AS contract, c.value AS value, c.currency AS currency,"
    + _ITEM
)

PURCHASES_FRAMEWORK = (
    "MATCH (a:Affiliate {id: $affiliate_id})-[:HOLDS]->(fw:Contract)<-[:CALL_OFF_OF]-(c:Contract)"
    "-[:HAS_ITEM]->(i:Item) WHERE "
    + _active(CONTRACT_ACTIVE, "fw")
    + " AND "
    + _active(CONTRACT_ACTIVE, "c")
    + " RETURN fw.id AS framework, fw.value AS value, fw.currency AS currency, c.id AS contract,"
    + _ITEM
)

PRODUCTS_BY_ID = "MATCH (p:Product) WHERE p.id IN $ids RETURN p.id AS id, p.model AS model, p.brand_id AS brand"

ITEM_BY_ID = (
    "MATCH (i:Item {id: $id}) RETURN i.id AS id, i.contract_id AS contract_id, i.description AS description,"
    " i.brand_name AS brand_name, i.cpv AS cpv, i.category AS category, i.brand_id AS brand_id,"
    " i.match_status AS match_status, i.candidates AS candidates"
)

PRODUCT_BY_ID = "MATCH (p:Product {id: $id}) RETURN p.id AS id, p.brand_id AS brand_id, p.model AS model, p.category AS category"

ALL_PRODUCTS = "MATCH (p:Product) RETURN p.id AS id, p.model AS model, p.brand_id AS brand"

BRAND_SITES_OF = (
    "MATCH (b:Company)-[r:LISTS_SITE]->(f:Factory) WHERE b.id IN $brand_ids AND "
    + _active(LINK_ACTIVE, "r")
    + " RETURN b.id AS brand, f.id AS factory, r.category AS category, r.role AS role, r.source_ids AS sources"
)

ALL_BRAND_SITES = (
    "MATCH (b:Company)-[r:LISTS_SITE]->(f:Factory)"
    " RETURN b.id AS brand, f.id AS factory, r.category AS category, r.role AS role,"
    " r.valid_from AS valid_from, r.valid_to AS valid_to, r.source_ids AS sources"
)

ASSEMBLY_OF_PRODUCTS = (
    "MATCH (p:Product)-[r:ASSEMBLED_AT]->(f:Factory) WHERE p.id IN $product_ids AND "
    + _active(LINK_ACTIVE, "r")
    + " RETURN p.id AS product, f.id AS factory, r.source_ids AS sources"
)

SUPPLIERS_OF_FACTORIES = (
    "MATCH (s:Factory)-[r:SUPPLIES]->(b:Factory) WHERE b.id IN $factory_ids AND "
    + _active(LINK_ACTIVE, "r")
    + " RETURN b.id AS buyer, s.id AS supplier, r.source_ids AS sources"
)

ALL_SUPPLY_LINKS = (
    "MATCH (s:Factory)-[r:SUPPLIES]->(b:Factory)"
    " RETURN b.id AS buyer, s.id AS supplier, r.valid_from AS valid_from, r.valid_to AS valid_to,"
    " r.source_ids AS sources"
)

FACTORIES_BY_ID = (
    "MATCH (f:Factory) WHERE f.id IN $ids"
    " RETURN f.id AS id, f.name AS name, f.country AS country, f.operator_id AS operator"
)

PLACEMENTS_AT_FACTORIES = (
    "MATCH (g:Agency)-[r:PLACES_WORKERS_AT]->(f:Factory) WHERE f.id IN $factory_ids AND "
    + _active(LINK_ACTIVE, "r")
    + " RETURN f.id AS factory, g.id AS agency, r.source_ids AS sources"
)

SUBAGENTS_OF_AGENCIES = (
    "MATCH (g:Agency)-[r:RECRUITS_THROUGH]->(s:Agency) WHERE g.id IN $agency_ids AND "
    + _active(LINK_ACTIVE, "r")
    + " RETURN g.id AS agency, s.id AS subagent, r.source_ids AS sources"
)

AGENCIES_BY_ID = "MATCH (g:Agency) WHERE g.id IN $ids RETURN g.id AS id, g.name AS name, g.country AS country"

OPEN_FINDINGS_ON = (
    "MATCH (fi:Finding) WHERE fi.subject_type = $subject_type AND fi.subject_id IN $ids AND "
    + _active(FINDING_OPEN, "fi")
    + " RETURN fi.id AS id, fi.category AS category, fi.severity AS severity, fi.status AS status,"
    " fi.subject_type AS subject_type, fi.subject_id AS subject_id, fi.source_ids AS sources"
)

AFFILIATES_WITH_CONTRACTS = "MATCH (a:Affiliate)-[:HOLDS]->(:Contract) RETURN DISTINCT a.id AS id ORDER BY id"

FINDING_BY_ID = (
    "MATCH (fi:Finding {id: $id}) RETURN fi.id AS id, fi.subject_type AS subject_type, fi.subject_id AS subject_id"
)

NODE_EXISTS = {
    "Factory": "MATCH (n:Factory {id: $id}) RETURN n.id AS id, n.name AS name",
    "Agency": "MATCH (n:Agency {id: $id}) RETURN n.id AS id, n.name AS name",
    "Finding": "MATCH (n:Finding {id: $id}) RETURN n.id AS id, n.category AS name",
}

AFFILIATE_NAMES = "MATCH (a:Affiliate) WHERE a.id IN $ids RETURN a.id AS id, a.name AS name"

COMPANY_NAMES = "MATCH (c:Company) WHERE c.id IN $ids RETURN c.id AS id, c.name AS name"

# ---------------------------------------------------------------- researchers' named queries

COUNTS_BY_LABEL = {
    "ladybug": "MATCH (n) RETURN label(n) AS label, count(*) AS nodes ORDER BY label",
    # the Neo4j store keeps its own records (loads, bundles, keys, snapshots...) under Supplygraph* labels
    "neo4j": "MATCH (n) WHERE NOT labels(n)[0] STARTS WITH 'Supplygraph'"
    " RETURN labels(n)[0] AS label, count(*) AS nodes ORDER BY label",
}

FACTORIES_BY_COUNTRY = (
    "MATCH (f:Factory) WHERE $country = '' OR f.country = $country"
    " RETURN f.country AS country, count(*) AS factories ORDER BY factories DESC, country"
)

OPEN_FINDINGS_BY_CATEGORY = (
    "MATCH (fi:Finding) WHERE "
    + _active(FINDING_OPEN, "fi")
    + " RETURN fi.category AS category, fi.severity AS severity, count(*) AS findings"
    " ORDER BY findings DESC, category, severity"
)

# Agencies placing workers at a factory and every sub-agent up to MAX_AGENCY_HOPS (3) recruiting links away
# (as the exposure walk follows them), each at its fewest links; every link active on $as_of.
_CHAIN_RETURN = (
    " WITH g, s, min(length(p)) AS hops"
    " RETURN g.id AS agency, g.name AS agency_name, g.country AS agency_country,"
    " s.id AS subagent, s.name AS subagent_name, s.country AS subagent_country, hops ORDER BY agency, hops, subagent"
)
AGENCY_CHAINS = {
    "ladybug": "MATCH (g:Agency)-[r:PLACES_WORKERS_AT]->(f:Factory {id: $factory_id}) WHERE "
    + _active(LINK_ACTIVE, "r")
    + " OPTIONAL MATCH p = (g)-[:RECRUITS_THROUGH* 1..3 (l, n | WHERE "
    + _active(LINK_ACTIVE, "l")
    + ")]->(s:Agency)"
    + _CHAIN_RETURN,
    "neo4j": "MATCH (g:Agency)-[r:PLACES_WORKERS_AT]->(f:Factory {id: $factory_id}) WHERE "
    + _active(LINK_ACTIVE, "r")
    + " OPTIONAL MATCH p = (g)-[ls:RECRUITS_THROUGH*1..3]->(s:Agency) WHERE all(l IN ls WHERE "
    + _active(LINK_ACTIVE, "l")
    + ")"
    + _CHAIN_RETURN,
}

DIRECT_SUPPLIERS = (
    "MATCH (s:Factory)-[r:SUPPLIES]->(b:Factory {id: $factory_id}) WHERE "
    + _active(LINK_ACTIVE, "r")
    + " RETURN s.id AS supplier, s.name AS name, s.country AS country, r.component AS component,"
    " r.source_ids AS sources ORDER BY supplier"
)

CONTRACTS_OF_AFFILIATE = (
    "MATCH (a:Affiliate {id: $affiliate_id})-[:HOLDS]->(c:Contract)"
    " RETURN c.id AS contract, c.title AS title, c.start_date AS start_date, c.end_date AS end_date,"
    " c.value AS value, c.currency AS currency, c.framework_id AS framework ORDER BY contract"
)

# ---------------------------------------------------------------- bulk reads for queries/link_index.py

ALL_PLACEMENTS = (
    "MATCH (g:Agency)-[r:PLACES_WORKERS_AT]->(f:Factory)"
    " RETURN f.id AS factory, g.id AS agency, r.valid_from AS valid_from, r.valid_to AS valid_to,"
    " r.source_ids AS sources"
)

ALL_AGENCY_LINKS = (
    "MATCH (g:Agency)-[r:RECRUITS_THROUGH]->(s:Agency)"
    " RETURN g.id AS agency, s.id AS subagent, r.valid_from AS valid_from, r.valid_to AS valid_to,"
    " r.source_ids AS sources"
)

ALL_AGENCIES = "MATCH (g:Agency) RETURN g.id AS id, g.name AS name, g.country AS country"

ALL_FACTORIES = "MATCH (f:Factory) RETURN f.id AS id, f.name AS name, f.country AS country, f.operator_id AS operator"

ALL_FINDINGS = (
    "MATCH (fi:Finding) RETURN fi.id AS id, fi.category AS category, fi.severity AS severity, fi.status AS status,"
    " fi.subject_type AS subject_type, fi.subject_id AS subject_id, fi.reported_on AS reported_on,"
    " fi.closed_on AS closed_on, fi.source_ids AS sources"
)

# The reverse questions' candidates: who buys, on $as_of, products assembled at a factory or of a brand.
AFFILIATES_BUYING_AT_FACTORIES = (  # direct, then through a framework
    (
        "MATCH (a:Affiliate)-[:HOLDS]->(c:Contract)-[:INCLUDES]->(:Product)-[r:ASSEMBLED_AT]->(f:Factory) WHERE "
        + _active(CONTRACT_ACTIVE, "c")
        + " AND "
        + _active(LINK_ACTIVE, "r")
        + " RETURN DISTINCT a.id AS affiliate, f.id AS factory"
    ),
    (
        "MATCH (a:Affiliate)-[:HOLDS]->(fw:Contract)<-[:CALL_OFF_OF]-(c:Contract)-[:INCLUDES]->(:Product)"
        "-[r:ASSEMBLED_AT]->(f:Factory) WHERE "
        + _active(CONTRACT_ACTIVE, "fw")
        + " AND "
        + _active(CONTRACT_ACTIVE, "c")
        + " AND "
        + _active(LINK_ACTIVE, "r")
        + " RETURN DISTINCT a.id AS affiliate, f.id AS factory"
    ),
)
AFFILIATES_BUYING_BRAND = (  # direct, then through a framework
    (
        "MATCH (a:Affiliate)-[:HOLDS]->(c:Contract)-[:INCLUDES]->(p:Product) WHERE p.brand_id = $company AND "
        + _active(CONTRACT_ACTIVE, "c")
        + " RETURN DISTINCT a.id AS affiliate"
    ),
    (
        "MATCH (a:Affiliate)-[:HOLDS]->(fw:Contract)<-[:CALL_OFF_OF]-(c:Contract)-[:INCLUDES]->(p:Product)"
        " WHERE p.brand_id = $company AND "
        + _active(CONTRACT_ACTIVE, "fw")
        + " AND "
        + _active(CONTRACT_ACTIVE, "c")
        + " RETURN DISTINCT a.id AS affiliate"
    ),
)

# The rest of what the exposure walk reads, in bulk for the link index (queries/link_index.py):
# with these, an indexed exposure answer reads nothing from the database, so it is computed from
# one generation even while a load writes the next one.
ALL_AFFILIATES = "MATCH (a:Affiliate) RETURN a.id AS id, a.name AS name, a.country AS country"

ALL_PURCHASES_DIRECT = (
    "MATCH (a:Affiliate)-[:HOLDS]->(c:Contract)-[:HAS_ITEM]->(i:Item)"
    " RETURN a.id AS affiliate, c.id AS contract, c.start_date AS start_date, c.end_date AS end_date,"
    " c.value AS value, c.currency AS currency," + _ITEM
)

ALL_PURCHASES_FRAMEWORK = (
    "MATCH (a:Affiliate)-[:HOLDS]->(fw:Contract)<-[:CALL_OFF_OF]-(c:Contract)-[:HAS_ITEM]->(i:Item)"
    " RETURN a.id AS affiliate, fw.id AS framework, fw.start_date AS framework_start, fw.end_date AS framework_end,"
    " fw.value AS value, fw.currency AS currency, c.id AS contract, c.start_date AS start_date,"
    " c.end_date AS end_date," + _ITEM
)

ALL_ASSEMBLY = (
    "MATCH (p:Product)-[r:ASSEMBLED_AT]->(f:Factory)"
    " RETURN p.id AS product, f.id AS factory, r.valid_from AS valid_from, r.valid_to AS valid_to,"
    " r.source_ids AS sources"
)

# ---------------------------------------------------------------- provenance (queries/provenance.py)
# Where the nodes and links of exposure answers came from: every node's origins, by label, and every
# relationship's origin, by (type, label it starts at, label it ends at), read in bulk once per
# exposure index. Only the labels and types exposure paths run through.

NODE_ORIGINS = {
    "Affiliate": "MATCH (n:Affiliate) RETURN n.id AS id, n.origins AS origins",
    "Contract": "MATCH (n:Contract) RETURN n.id AS id, n.origins AS origins",
    "Product": "MATCH (n:Product) RETURN n.id AS id, n.origins AS origins",
    "Item": "MATCH (n:Item) RETURN n.id AS id, n.origins AS origins",
    "Factory": "MATCH (n:Factory) RETURN n.id AS id, n.origins AS origins",
    "Agency": "MATCH (n:Agency) RETURN n.id AS id, n.origins AS origins",
    "Company": "MATCH (n:Company) RETURN n.id AS id, n.origins AS origins",
    "Finding": "MATCH (n:Finding) RETURN n.id AS id, n.origins AS origins",
}

_LINK_ORIGIN = (
    " RETURN a.id AS from_id, b.id AS to_id, r.valid_from AS valid_from, r.valid_to AS valid_to, r.origin AS origin,"
    " r.origin_line AS origin_line"
)
LINK_ORIGINS = {
    ("HOLDS", "Affiliate", "Contract"): "MATCH (a:Affiliate)-[r:HOLDS]->(b:Contract)" + _LINK_ORIGIN,
    ("CALL_OFF_OF", "Contract", "Contract"): "MATCH (a:Contract)-[r:CALL_OFF_OF]->(b:Contract)" + _LINK_ORIGIN,
    ("INCLUDES", "Contract", "Product"): "MATCH (a:Contract)-[r:INCLUDES]->(b:Product)" + _LINK_ORIGIN,
    ("ASSEMBLED_AT", "Product", "Factory"): "MATCH (a:Product)-[r:ASSEMBLED_AT]->(b:Factory)" + _LINK_ORIGIN,
    ("SUPPLIES", "Factory", "Factory"): "MATCH (a:Factory)-[r:SUPPLIES]->(b:Factory)" + _LINK_ORIGIN,
    ("PLACES_WORKERS_AT", "Agency", "Factory"): "MATCH (a:Agency)-[r:PLACES_WORKERS_AT]->(b:Factory)" + _LINK_ORIGIN,
    ("RECRUITS_THROUGH", "Agency", "Agency"): "MATCH (a:Agency)-[r:RECRUITS_THROUGH]->(b:Agency)" + _LINK_ORIGIN,
    ("OPERATED_BY", "Factory", "Company"): "MATCH (a:Factory)-[r:OPERATED_BY]->(b:Company)" + _LINK_ORIGIN,
    ("HAS_ITEM", "Contract", "Item"): "MATCH (a:Contract)-[r:HAS_ITEM]->(b:Item)" + _LINK_ORIGIN,
    ("LISTS_SITE", "Company", "Factory"): "MATCH (a:Company)-[r:LISTS_SITE]->(b:Factory)" + _LINK_ORIGIN,
    ("BRANDED_BY", "Product", "Company"): "MATCH (a:Product)-[r:BRANDED_BY]->(b:Company)" + _LINK_ORIGIN,
    ("CONCERNS", "Finding", "Factory"): "MATCH (a:Finding)-[r:CONCERNS]->(b:Factory)" + _LINK_ORIGIN,
    ("CONCERNS", "Finding", "Agency"): "MATCH (a:Finding)-[r:CONCERNS]->(b:Agency)" + _LINK_ORIGIN,
    ("CONCERNS", "Finding", "Company"): "MATCH (a:Finding)-[r:CONCERNS]->(b:Company)" + _LINK_ORIGIN,
}

# What an exposure answer tells about each of its findings besides what the walk needs (queries/exposure_summary.py).
# The same details of every source and finding, read in bulk once per Neo4j load into its kept reads, so that
# an exposure answer on Neo4j reads them from a complete load too (graph/stores/neo4j_snapshots.py).
ALL_SOURCE_DETAILS = (
    "MATCH (s:Source) RETURN s.id AS id, s.title AS title, s.url AS url, s.kind AS kind, s.published_on AS published_on"
)
ALL_FINDING_DETAILS = (
    "MATCH (fi:Finding) RETURN fi.id AS id, fi.reported_on AS reported_on, fi.closed_on AS closed_on,"
    " fi.monitor AS monitor, fi.summary AS summary, fi.source_ids AS sources"
)

FINDING_DETAILS = (
    "MATCH (fi:Finding) WHERE fi.id IN $ids RETURN fi.id AS id, fi.reported_on AS reported_on,"
    " fi.closed_on AS closed_on, fi.monitor AS monitor, fi.summary AS summary, fi.source_ids AS sources"
)
