"""The schema as data: read once from schema.toml, validated, used by loaders, stores, exporters and the API."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyarrow as pa
from supplygraph.graph.errors import ConfigError

SCHEMA_FILE = Path(__file__).with_name("schema.toml")
TYPES = {"string", "date", "float", "int", "country", "currency", "enum", "list", "enum_list"}
LIST_TYPES = {"list", "enum_list"}
# The columns every link file may carry, and the properties every relationship has.
LINK_COLUMNS = ("valid_from", "valid_to", "source_id")
# On relationships source_ids is one string of ids joined by "|" (as in the bundle's cell): LadybugDB's
# COPY of a list column costs more than the rest of the row together (docs/benchmarks.md).
REL_BASE = {"valid_from": "date", "valid_to": "date", "source_ids": "string"}


@dataclass(frozen=True)
class Property:
    name: str
    type: str
    column: str
    required: bool = False
    values: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None

    @property
    def is_list(self) -> bool:
        return self.type in LIST_TYPES


@dataclass(frozen=True)
class NodeType:
    label: str
    file: str
    key: str
    display: str
    properties: tuple[Property, ...]
    table: str = ""  # the canonical table it is built from (defaults to the file's stem)
    derived: bool = False  # made from another file's rows (loaders/contract_items.py), not read from a file of its own

    @property
    def stem(self) -> str:
        return self.table or self.file.removesuffix(".csv")

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.key, *(p.column for p in self.properties))

    def prop(self, name: str) -> Property:
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)


@dataclass(frozen=True)
class Reference:
    """A column of an entity file naming another node; it becomes a relationship."""

    node: str
    column: str
    target: str
    rel: str
    reverse: bool = False
    dated: bool = False
    when: str | None = None


@dataclass(frozen=True)
class Endpoint:
    column: str
    node: str
    required: bool = True


@dataclass(frozen=True)
class LinkType:
    """A link file: each row is one relationship."""

    name: str
    file: str
    rel: str
    source: Endpoint
    target: Endpoint
    properties: tuple[Property, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.source.column, self.target.column, *(p.column for p in self.properties), *LINK_COLUMNS)


@dataclass(frozen=True)
class RelType:
    name: str
    pairs: tuple[tuple[str, str], ...]
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Schema:
    enums: dict[str, tuple[str, ...]]
    nodes: dict[str, NodeType]
    references: tuple[Reference, ...]
    links: dict[str, LinkType]

    def node_for_file(self, filename: str) -> NodeType | None:
        return next((n for n in self.nodes.values() if n.file == filename and not n.derived), None)

    def link_for_file(self, filename: str) -> LinkType | None:
        return next((lk for lk in self.links.values() if lk.file == filename), None)

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(n.file for n in self.nodes.values() if not n.derived) + tuple(lk.file for lk in self.links.values())

    @property
    def rel_types(self) -> dict[str, RelType]:
        """Every relationship type with its (from, to) label pairs and property types."""
        pairs: dict[str, list[tuple[str, str]]] = {}
        props: dict[str, dict[str, str]] = {}
        for ref in self.references:
            pair = (ref.target, ref.node) if ref.reverse else (ref.node, ref.target)
            pairs.setdefault(ref.rel, [])
            if pair not in pairs[ref.rel]:
                pairs[ref.rel].append(pair)
            props.setdefault(ref.rel, dict(REL_BASE))
        for link in self.links.values():
            pairs.setdefault(link.rel, []).append((link.source.node, link.target.node))
            props.setdefault(link.rel, dict(REL_BASE)).update({p.name: p.type for p in link.properties})
        return {name: RelType(name, tuple(pairs[name]), props[name]) for name in pairs}

    def label_of_subject(self, subject_type: str) -> str:
        return {"factory": "Factory", "agency": "Agency", "company": "Company"}[subject_type]


def _properties(raw: dict, enums: dict[str, tuple[str, ...]], where: str) -> tuple[Property, ...]:
    out = []
    for name, spec in raw.items():
        kind = spec.get("type")
        if kind not in TYPES:
            raise ConfigError(f"schema: {where}.{name}: unknown type {kind!r}")
        values: tuple[str, ...] = ()
        if kind in ("enum", "enum_list"):
            if spec.get("values") not in enums:
                raise ConfigError(f"schema: {where}.{name}: unknown enum {spec.get('values')!r}")
            values = enums[spec["values"]]
        out.append(
            Property(
                name=name,
                type=kind,
                column=spec.get("column", name),
                required=bool(spec.get("required", False)),
                values=values,
                min=spec.get("min"),
                max=spec.get("max"),
            )
        )
    return tuple(out)


def parse_schema(raw: dict) -> Schema:
    enums = {k: tuple(v) for k, v in raw["enums"].items()}
    nodes = {}
    for label, spec in raw["nodes"].items():
        props = _properties(spec.get("properties", {}), enums, f"nodes.{label}")
        nodes[label] = NodeType(
            label,
            spec["file"],
            spec["key"],
            spec.get("display", "id"),
            props,
            spec.get("table", ""),
            bool(spec.get("derived", False)),
        )
    refs = tuple(Reference(**r) for r in raw.get("references", []))
    for ref in refs:
        if ref.node not in nodes or ref.target not in nodes:
            raise ConfigError(f"schema: reference {ref.node}.{ref.column} -> {ref.target}: unknown label")
        if ref.column not in {p.name for p in nodes[ref.node].properties}:
            raise ConfigError(f"schema: reference {ref.node}.{ref.column}: no such property")
    links = {}
    for name, spec in raw.get("links", {}).items():
        src, dst = Endpoint(**spec["from"]), Endpoint(**spec["to"])
        for end in (src, dst):
            if end.node not in nodes:
                raise ConfigError(f"schema: links.{name}: unknown label {end.node!r}")
        props = _properties(spec.get("properties", {}), enums, f"links.{name}")
        links[name] = LinkType(name, spec["file"], spec["rel"], src, dst, props)
    return Schema(enums, nodes, refs, links)


@cache
def load_schema(path: Path = SCHEMA_FILE) -> Schema:
    with path.open("rb") as fh:
        return parse_schema(tomllib.load(fh))


SCHEMA = load_schema()


def arrow_type(prop: Property) -> pa.DataType:
    """The Arrow type of a property's column."""
    if prop.is_list:
        return pa.list_(pa.string())
    return {"date": pa.date32(), "float": pa.float64(), "int": pa.int64()}.get(prop.type, pa.string())
