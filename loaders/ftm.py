"""FollowTheMoney entities (JSON Lines whatever the file is called, `.ijson`, or a JSON array) and yente delta
files, as OpenSanctions publishes them; the format is told by content (objects with `schema` and `properties`).

Company, Organization and LegalEntity become companies (id `ftm:<entity id>`, with `lei`, registration numbers,
aliases and the entity's `datasets`). An entity from a listing dataset (a sanctions or forced-labour list:
`target`, a listing topic, or a dataset named like one) carries `listed` ("<dataset> since <date>") and yields
a Finding on it (category `other`, monitor = the dataset, backed by a Source for the entity), so a listed company
that entity resolution matches to a brand, operator, factory or agency shows up in exposure answers.
Sanction entities give the listing date and programme; other known schemata are skipped; unknown ones refused.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from supplygraph.graph.errors import BundleError
from supplygraph.graph.stores.protocol import Progress
from supplygraph.loaders.bundle import Bundle
from supplygraph.loaders.canonical import TableBuilder, Ticker, partitions_for
from supplygraph.loaders.jsonfile import check_encoding, is_json_lines, json_document, json_lines

COMPANY_SCHEMATA = {"Company", "Organization", "LegalEntity", "PublicBody"}
KNOWN_SCHEMATA = COMPANY_SCHEMATA | set(
    "Thing Person Asset Address Airplane Vessel Vehicle Security Sanction Ownership Directorship Membership "
    "Employment Family Associate Representation Occupancy Position Identification Passport Payment Debt Contract "
    "ContractAward CourtCase CourtCaseParty Document Documentation Pages Page Folder Package Workbook Table "
    "PlainText HyperText Image Video Audio Email Message Event Mention Note UnknownLink Succession CryptoWallet "
    "BankAccount Project ProjectParticipant Interval Analyzable Value TaxRoll EconomicActivity Trip Call License "
    "RealEstate Interest Article Land Risk".split()
)
LISTING_TOPICS = {"sanction", "sanction.linked", "export.control", "debarment", "crime.traffick", "forced.labor"}
LISTING_DATASET = re.compile(r"sanction|uflpa|forced|labou?r|entity_list|debar|withhold", re.I)


def _entities(path: Path, out: TableBuilder, tick: Ticker, encoding: str | None) -> Iterator[tuple[Any, int, str]]:
    """Entities of JSON Lines (whatever the file is called) or of a JSON array; yente delta files (one operation
    `{"op": "ADD"|"MOD"|"DEL", "entity": ...}` per line) are applied in order and give the entities that remain."""
    if is_json_lines(path, encoding):
        values = json_lines(path, out, tick, encoding)
    else:
        values = json_document(path, out, tick, ("item", ""), encoding)  # an array of entities, or one
    first = next(values, None)
    if first is None:
        return
    if not (isinstance(first[0], dict) and "op" in first[0] and "entity" in first[0]):
        yield first
        for entity, line, where in values:
            if isinstance(entity, dict) and "op" in entity and "entity" in entity:
                out.problem(
                    where, line, "a delta operation (op, entity) in a file of entities; load deltas on their own"
                )
                continue
            yield entity, line, where
        return
    yield from _apply_delta(itertools.chain([first], values), out)


def _apply_delta(values: Iterator[tuple[Any, int, str]], out: TableBuilder) -> Iterator[tuple[Any, int, str]]:
    current: dict[str, tuple[Any, int, str]] = {}
    for op, line, where in values:
        if not isinstance(op, dict) or "op" not in op or not isinstance(op.get("entity"), dict):
            out.problem(where, line, 'expected a delta operation {"op": "ADD", "MOD" or "DEL", "entity": {...}}')
            continue
        entity, kind = op["entity"], str(op["op"]).upper()
        eid = str(entity.get("id") or "")
        if kind in ("ADD", "MOD"):
            current[eid] = (entity, line, f"{where}/entity" if where else "")
        elif kind == "DEL":
            if current.pop(eid, None) is None:
                out.warn(
                    where,
                    line,
                    f"DEL of entity {eid!r}, which this file does not add: a delta applies to the export it was made "
                    "from; load that export with its deltas in one file, or a newer full export",
                )
        else:
            out.problem(f"{where or '#'}/op", line, f"unknown delta operation {op['op']!r}; expected ADD, MOD or DEL")
    yield from current.values()


def _values(props: dict, key: str) -> list[str]:
    found = props.get(key) or []
    return [str(v) for v in found] if isinstance(found, list) else [str(found)]


def _first(props: dict[str, Any], *keys: str) -> str | None:
    """The first value of the first of `keys` that has one."""
    for key in keys:
        values = _values(props, key)
        if values:
            return values[0]
    return None


def listing_datasets(entity: dict) -> list[str]:
    datasets = [str(d) for d in entity.get("datasets") or []]
    topics = set(_values(entity.get("properties") or {}, "topics"))
    if entity.get("target") or topics & LISTING_TOPICS:
        return datasets or ["unnamed list"]
    return [d for d in datasets if LISTING_DATASET.search(d)]


Listed = list[tuple[str, str, list[str], str | None, int, str]]  # company id, name, lists, first seen, line, where


def read_ftm(
    path: Path,
    name: str | None = None,
    progress: Progress | None = None,
    skip_invalid: bool = False,
    encoding: str | None = None,
) -> Bundle:
    path = Path(path)
    check_encoding(path, path.name, encoding)
    size = path.stat().st_size
    out = TableBuilder(
        path.name, "ftm", partitions=partitions_for(size), skip_invalid=skip_invalid, path=path, encoding=encoding
    )
    tick = Ticker(progress, f"reading {path.name} (bytes)", size)
    sanctions: dict[str, tuple[str | None, str | None]] = {}  # entity id -> (programme, start date)
    listed: Listed = []
    skipped: dict[str, int] = {}
    for entity, line, where in _entities(path, out, tick, encoding):
        out.begin(line, where, entity)
        _entity(out, entity, line, where, sanctions, listed, skipped)
        out.end()
    tick(size, final=True)
    if out.problems:
        raise BundleError(out.problems)
    _listings(out, sanctions, listed)
    if skipped:
        out.warn(
            "",
            None,
            "entities of other schemata skipped: " + ", ".join(f"{k} ({v})" for k, v in sorted(skipped.items())),
        )
    return out.build(name or path.stem)


def _entity(
    out: TableBuilder,
    entity: Any,
    line: int,
    where: str,
    sanctions: dict[str, tuple[str | None, str | None]],
    listed: Listed,
    skipped: dict[str, int],
) -> None:
    if not isinstance(entity, dict):
        out.problem(where, line, f"expected a JSON object, found {type(entity).__name__}")
        return
    schema, eid, props = entity.get("schema"), entity.get("id"), entity.get("properties")
    if not isinstance(schema, str) or schema not in KNOWN_SCHEMATA:
        out.problem(
            f"{where}/schema" if where else "",
            line,
            f"unknown FollowTheMoney schema {schema!r}; "
            "expected e.g. Company, Organization, LegalEntity, Person, Sanction",
        )
        return
    if not isinstance(eid, str) or not eid:
        out.problem(f"{where}/id" if where else "", line, "entity has no id")
        return
    if not isinstance(props, dict):
        out.problem(f"{where}/properties" if where else "", line, "expected an object of property lists")
        return
    if schema == "Sanction":
        for target in _values(props, "entity"):
            sanctions[target] = (
                _first(props, "program"),
                _first(props, "startDate"),
            )
        return
    if schema not in COMPANY_SCHEMATA:
        skipped[schema] = skipped.get(schema, 0) + 1
        return
    names = _values(props, "name")
    if not names:
        out.problem(f"{where}/properties/name" if where else "", line, "company entity has no name")
        return
    cid = f"ftm:{eid}"
    lists = listing_datasets(entity)
    first_seen = str(entity.get("first_seen") or "")[:10] or None
    country = _first(props, "country", "jurisdiction")
    row: dict[str, object] = {
        "company_id": cid,
        "name": names[0],
        "country": country,
        "lei": _first(props, "leiCode"),
        "aliases": names[1:] + _values(props, "alias") + _values(props, "weakAlias"),
        "registration_numbers": _values(props, "registrationNumber")
        + _values(props, "innCode")
        + _values(props, "ogrnCode"),
        "address": _first(props, "address"),
        "ftm_id": eid,
        "ftm_schema": schema,
        "datasets": [str(d) for d in entity.get("datasets") or []],
        "referents": [str(r) for r in entity.get("referents") or []],
    }
    out.add("companies", row, line, where, order=str(entity.get("last_seen") or ""))
    if lists:
        listed.append((cid, names[0], lists, first_seen, line, where))


def _listings(out: TableBuilder, sanctions: dict[str, tuple[str | None, str | None]], listed: Listed) -> None:
    """A listed company's `listed` flags, its Source and one Finding per list."""
    for cid, company, lists, first_seen, line, where in listed:
        eid = cid.removeprefix("ftm:")
        programme, start = sanctions.get(eid, (None, None))
        day = (start or first_seen or "")[:10] or None
        flags = [f"{d} since {day}" if day else d for d in lists]
        out.add(
            "companies",
            {"company_id": cid, "listed": flags, "listed_on": day, "listing_programme": programme},
            line,
            where,
        )
        source = f"ftm-source:{eid}"
        out.add(
            "sources",
            {"source_id": source, "title": f"{', '.join(lists)}: {company}", "kind": "registry", "ftm_id": eid},
            line,
            where,
        )
        for dataset in lists:
            out.add(
                "findings",
                {
                    "finding_id": f"listing:{dataset}:{eid}",
                    "subject_type": "company",
                    "subject_id": cid,
                    "category": "other",
                    "severity": "high",
                    "status": "open",
                    "reported_on": day,
                    "monitor": dataset,
                    "summary": f"{company} is on the list {dataset}"
                    + (f" ({programme})" if programme else "")
                    + (f" since {day}" if day else ""),
                    "source_id": source,
                    "listing": "true",
                },
                line,
                where,
            )
