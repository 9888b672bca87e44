"""Response models: what each endpoint answers, as the OpenAPI schema documents it.

Exposure has exactly the shape of `supplygraph exposure --json` (field order included; sections left out by
`fields` are absent).
Lists come in envelopes {"count": total, "limit", "offset", "items": [...]}.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(Model):
    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str


class Health(Model):
    status: str
    store: str
    generation: str | None


# ------------------------------------------------------------------ exposure

ORIGINS = (
    "where the node came from: one entry per input record, `bundle/file:line (format record, loaded YYYY-MM-DD)`"
)


class NodeRef(Model):
    id: str
    name: str | None


BASIS = (
    "on what the path rests: disclosed (every link from the data), matched (the item -> product link made by "
    "the matcher), brand_list (a brand's published supplier list)"
)


class Listed(Model):
    brand: str = Field(description="the brand company whose published list the path runs through")
    item: str = Field(description="the contract item of that brand")
    sources: list[str] = Field(description="the sources of the list's entry for the site")


class ExposedFactory(Model):
    id: str
    name: str | None
    country: str | None
    tier: int
    path: list[str]
    sources: list[str]
    basis: str = Field(default="disclosed", description=BASIS)
    listed: Listed | None = Field(default=None, description="whose published supplier list, for basis brand_list")
    origins: list[str] | None = Field(default=None, description=ORIGINS + " (only with provenance=true)")


class ExposedAgency(Model):
    id: str
    name: str | None
    country: str | None
    path: list[str]
    sources: list[str]
    basis: str = Field(default="disclosed", description=BASIS)
    listed: Listed | None = Field(default=None, description="whose published supplier list, for basis brand_list")
    origins: list[str] | None = Field(default=None, description=ORIGINS + " (only with provenance=true)")


class Subject(Model):
    type: str
    id: str


class SourceDetails(Model):
    title: str | None
    url: str | None
    published_on: str | None
    kind: str | None


class Evidence(SourceDetails):
    id: str


class ExposedFinding(Model):
    id: str
    category: str
    severity: str | None
    status: str | None
    reported_on: str | None = Field(default=None, description="the day the finding was reported")
    closed_on: str | None = Field(default=None, description="the day it was closed (after as_of, or it would not be open)")
    monitor: str | None = Field(default=None, description="who reported it")
    summary: str | None = Field(default=None, description="what was found, in the monitor's words")
    subject: Subject
    path: list[str]
    sources: list[str] = Field(description="the sources of every link on the path and of the finding")
    basis: str = Field(default="disclosed", description=BASIS)
    listed: Listed | None = Field(default=None, description="whose published supplier list, for basis brand_list")
    evidence: list[Evidence] = Field(default_factory=list, description="the finding's own sources: title, URL, date")
    origins: list[str] | None = Field(default=None, description=ORIGINS + " (only with provenance=true)")


class Gap(Model):
    id: str = Field(description="the item's product, or the item itself when it has none")
    model: str | None
    brand: str | None
    item: str | None = Field(default=None, description="the contract item bought with no product assembled")
    brand_list: str | None = Field(default=None, description="the brand whose published list gave it an exposure")


class PathNode(Model):
    id: str
    label: str = Field(description="Affiliate, Contract, Product or Company")
    origins: list[str] = Field(description=ORIGINS)


class PathLink(Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: str = Field(alias="from", description="the node the path comes from")
    to: str = Field(description="the next node on the path")
    type: str = Field(description="the relationship type (e.g. SUPPLIES runs from `to`, the supplier, to `from`)")
    origins: list[str] = Field(
        description="the input records of every relationship behind the link (parallel ones too; on dated steps "
        "those active on as_of), sorted"
    )


class PathProvenance(Model):
    nodes: list[PathNode] = Field(description="every node on the paths that is not an item, with its origins")
    links: list[PathLink] = Field(description="every link on the paths once, in path order, by from, to and type")


class ExposureSummary(Model):
    findings: int
    factories: int
    agencies: int
    gaps: int
    findings_by_severity: dict[str, int] = Field(description="most severe first; `none` for findings without one")
    findings_by_category: dict[str, int] = Field(description="most frequent first")
    factories_by_tier: dict[str, int]
    factories_by_country: dict[str, int] = Field(description="most frequent first")
    by_basis: dict[str, int] = Field(description="factories, agencies and findings per basis of their path")


class Page(Model):
    offset: int
    limit: int | None = Field(description="items per section; null: all")
    counts: dict[str, int] = Field(description="items of each section returned, all pages together")
    next_offset: int | None = Field(description="the offset of the next page; null on the last")
    next_cursor: str | None = Field(
        default=None,
        description="the next page's cursor (pass it as `cursor`; its pages add up to one answer, and after a "
        "reload it answers 410); null on the last")


class Exposure(Model):
    affiliate: NodeRef
    as_of: str
    summary: ExposureSummary = Field(description="counts over the whole answer after the filters, never only a page")
    findings: list[ExposedFinding] = Field(
        default_factory=list,
        description="open findings, most severe first, then most recently reported, then by id (X2 before X10)",
    )
    factories: list[ExposedFactory] = Field(default_factory=list, description="by tier, then id")
    agencies: list[ExposedAgency] = Field(default_factory=list)
    gaps: list[Gap] = Field(default_factory=list)
    sources: dict[str, SourceDetails] = Field(description="every source the items name (on a page: those it names)")
    provenance: PathProvenance | None = Field(default=None, description="only when asked for (provenance=true)")
    page: Page | None = Field(default=None, description="only when a page or some sections were asked for")


class ContractRef(Model):
    id: str | None
    value: float | None
    currency: str | None


class ExposedAffiliate(Model):
    id: str
    name: str | None
    path: list[str]
    tier: int | None = None
    sources: list[str]
    contract: ContractRef
    basis: str = Field(default="disclosed", description=BASIS)


class Leverage(Model):
    affiliates: int
    contract_value: dict[str, float]
    by_basis: dict[str, int] = Field(default_factory=dict, description="affiliates per basis of their path")


class ExposedAffiliates(Model):
    kind: str
    item: NodeRef
    as_of: str
    leverage: Leverage = Field(description="over every affiliate listed (all pages)")
    count: int
    limit: int
    offset: int
    items: list[ExposedAffiliate]
