"""The registry of named queries: title, description, typed parameters, and what runs.

A query is either Cypher (one text, or one per dialect) whose rows are returned as they are,
or an answer built by the exposure engine from several Cypher steps. The CLI and the API list
and run these; none has an endpoint or command of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from supplygraph.graph.errors import InvalidParameter, NotFound
from supplygraph.graph.stores.protocol import Store
from supplygraph.queries import cypher
from supplygraph.queries.basis import BASES
from supplygraph.queries.exposure import exposure_for_affiliate
from supplygraph.queries.reverse import exposed_affiliates

PARAM_TYPES = ("string", "date", "int", "bool")
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")


def check_named_ids(store: Store, params: Mapping[str, Any]) -> None:
    """NotFound for an affiliate or factory id that names no node: an unknown id is not an empty answer."""
    if params.get("affiliate_id") is not None:
        if not store.run(cypher.AFFILIATE, {"affiliate_id": params["affiliate_id"]}):
            raise NotFound(f"no affiliate with id {params['affiliate_id']!r}")
    if params.get("factory_id") is not None:
        if not store.run(cypher.NODE_EXISTS["Factory"], {"id": params["factory_id"]}):
            raise NotFound(f"no factory with id {params['factory_id']!r}")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    description: str
    required: bool = True
    default: Any = None
    choices: tuple[str, ...] = ()

    def parse(self, raw: Any) -> Any:
        if raw is None or raw == "":
            if self.required:
                raise InvalidParameter(self.name, "is required")
            return self.default() if callable(self.default) else self.default
        try:
            if self.type == "date":
                value: Any = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
            elif self.type == "int":
                value = int(raw)
            elif self.type == "bool":
                value = _bool(raw)
            else:
                value = str(raw)
        except ValueError as exc:
            expected = {"date": "a date YYYY-MM-DD", "int": "a whole number", "bool": "true or false"}.get(self.type, "text")
            raise InvalidParameter(self.name, f"{raw!r} is not {expected}") from exc
        if self.choices and value not in self.choices:
            raise InvalidParameter(self.name, f"must be one of {', '.join(self.choices)}, got {value!r}")
        return value

    def describe(self) -> dict[str, Any]:
        default = self.default() if callable(self.default) else self.default
        out: dict[str, Any] = {"name": self.name, "type": self.type, "required": self.required}
        out["description"] = self.description
        if default is not None:
            out["default"] = default.isoformat() if isinstance(default, date) else default
        if self.choices:
            out["choices"] = list(self.choices)
        return out


@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    description: str
    params: tuple[Param, ...] = ()
    cypher: str | Mapping[str, str] | None = None
    answer: Callable[..., Any] | None = None
    tags: tuple[str, ...] = field(default=())

    def text_for(self, dialect: str) -> str:
        if isinstance(self.cypher, str):
            return self.cypher
        assert self.cypher is not None
        return self.cypher[dialect]

    def parse(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(raw) - {p.name for p in self.params}
        if unknown:
            raise InvalidParameter(sorted(unknown)[0], f"is not a parameter of {self.name}")
        return {p.name: p.parse(raw.get(p.name)) for p in self.params}

    def run(self, store: Store, raw: Mapping[str, Any]) -> dict[str, Any]:
        params = self.parse(raw)
        check_named_ids(store, params)
        if self.answer is not None:
            return self.answer(store, **params).as_json()  # type: ignore[no-any-return]
        rows = store.run(self.text_for(store.dialect), params)
        columns = list(rows[0]) if rows else []
        return {"columns": columns, "count": len(rows), "rows": [_jsonable(r) for r in rows]}

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "kind": "answer" if self.answer is not None else "cypher",
            "params": [p.describe() for p in self.params],
        }


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in TRUE or text in FALSE:
        return text in TRUE
    raise ValueError(raw)


def _jsonable(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()}


AS_OF = Param("as_of", "date", "the day the answer is true on (YYYY-MM-DD)", required=False, default=date.today)
DEPTH = Param("depth", "int", "how many supplier tiers to follow (1-8)", required=False, default=4)
PROVENANCE = Param(
    "provenance",
    "bool",
    "true: every item, and every other node and link on the paths, with the input records it came from",
    required=False,
    default=False,
)

MIN_BASIS = Param(
    "min_basis",
    "string",
    "the weakest basis to list: disclosed (only what the data discloses), matched (also items the matcher linked "
    "to a product) or brand_list (also brands' published supplier lists; the default)",
    required=False,
    default=None,
    choices=BASES,
)

QUERIES: dict[str, NamedQuery] = {
    q.name: q
    for q in (
        NamedQuery(
            "exposure",
            "Exposure of an affiliate",
            "Factories by tier, agencies and sub-agents, open findings and disclosure gaps an affiliate is "
            "exposed to on a day, each with its path from the affiliate and the sources behind it.",
            (Param("affiliate_id", "string", "the affiliate's id"), AS_OF, DEPTH, PROVENANCE, MIN_BASIS),
            answer=exposure_for_affiliate,
        ),
        NamedQuery(
            "exposed_affiliates",
            "Affiliates exposed to a factory, agency or finding",
            "The reverse question, with each affiliate's path and the leverage: how many affiliates and their "
            "combined contract value per currency (the first contract on each path).",
            (
                Param("kind", "string", "factory, agency or finding", choices=("factory", "agency", "finding")),
                Param("item_id", "string", "the factory's, agency's or finding's id"),
                AS_OF,
                DEPTH,
                MIN_BASIS,
            ),
            answer=exposed_affiliates,
        ),
        NamedQuery(
            "node_counts",
            "Nodes per label",
            "How many nodes of each label the graph holds.",
            (),
            cypher.COUNTS_BY_LABEL,
        ),
        NamedQuery(
            "factories_by_country",
            "Factories per country",
            "How many factories each country has; give country to count one.",
            (Param("country", "string", "ISO alpha-2 code; empty for all", required=False, default=""),),
            cypher.FACTORIES_BY_COUNTRY,
        ),
        NamedQuery(
            "open_findings_by_category",
            "Open findings by category and severity",
            "Findings open on a day, counted by category and severity.",
            (AS_OF,),
            cypher.OPEN_FINDINGS_BY_CATEGORY,
        ),
        NamedQuery(
            "agency_chains",
            "Agencies placing workers at a factory",
            "Agencies with a placement active on a day at a factory, and every sub-agent up to 3 recruiting links "
            "away (as exposure follows them), with the number of links (hops).",
            (Param("factory_id", "string", "the factory's id"), AS_OF),
            cypher.AGENCY_CHAINS,
        ),
        NamedQuery(
            "direct_suppliers",
            "Direct suppliers of a factory",
            "Factories with a supply link active on a day to a factory, with the component and sources.",
            (Param("factory_id", "string", "the buying factory's id"), AS_OF),
            cypher.DIRECT_SUPPLIERS,
        ),
        NamedQuery(
            "contracts_of_affiliate",
            "Contracts of an affiliate",
            "Every contract an affiliate holds, with dates, value and framework.",
            (Param("affiliate_id", "string", "the affiliate's id"),),
            cypher.CONTRACTS_OF_AFFILIATE,
        ),
    )
}


def get_query(name: str) -> NamedQuery:
    try:
        return QUERIES[name]
    except KeyError:
        raise NotFound(f"no named query {name!r}; `supplygraph queries` lists them") from None
