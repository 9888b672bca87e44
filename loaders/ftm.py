"""FollowTheMoney entities (JSON Lines, or a JSON array), as OpenSanctions publishes them.

Company, Organization and LegalEntity become companies (id `ftm:<entity id>`, with `lei`, registration numbers,
aliases and the entity's `datasets`). An entity from a listing dataset (a sanctions or forced-labour list:
`target`, a listing topic, or a dataset named like one) carries `listed` ("<dataset> since <date>") and yields
a Finding on it (category `other`, monitor = the dataset, backed by a Source for the entity), so a listed company
that entity resolution matches to a brand, operator, factory or agency shows up in exposure answers.
Sanction entities give the listing date and programme; other known schemata are skipped; unknown ones refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from graph.errors import BundleError
from graph.store import Progress
from loaders.bundle import Bundle
from loaders.canonical import TableBuilder, Ticker, partitions_for

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


def _entities(path: Path, out: TableBuilder, tick: Ticker) -> Iterator[tuple[Any, int, str]]:
    if path.suffix.lower() == ".json":
        out.by_line = False
        index = 0
        with path.open("rb") as fh:
            try:
                for entity in ijson.items(fh, "item", use_float=True):
                    yield entity, index + 1, f"#/{index}"
                    index += 1
                    if index % 256 == 0:
                        tick(fh.tell())
            except ijson.JSONError as exc:
                out.problem(f"#/{index}", None, f"broken JSON near byte {fh.tell():,}: {exc}")
        return
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if lineno % 256 == 0:
                tick(fh.tell())
            if not raw.strip():
                continue
            try:
                yield json.loads(raw), lineno, ""
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                out.problem(
                    "", lineno, f"broken JSON: {getattr(exc, 'msg', exc)} at character {getattr(exc, 'colno', '?')}"
                )


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


def read_ftm(path: Path, name: str | None = None, progress: Progress | None = None) -> Bundle:
    path = Path(path)
    size = path.stat().st_size
    out = TableBuilder(path.name, "ftm", partitions=partitions_for(size))
    tick = Ticker(progress, f"reading {path.name} (bytes)", size)
    sanctions: dict[str, tuple[str | None, str | None]] = {}  # entity id -> (programme, start date)
    listed: list[tuple[str, str, list[str], str | None, int, str]] = []
    skipped: dict[str, int] = {}
    for entity, line, where in _entities(path, out, tick):
        if not isinstance(entity, dict):
            out.problem(where, line, f"expected a JSON object, found {type(entity).__name__}")
            continue
        schema, eid, props = entity.get("schema"), entity.get("id"), entity.get("properties")
        if not isinstance(schema, str) or schema not in KNOWN_SCHEMATA:
            out.problem(
                f"{where}/schema" if where else "",
                line,
                f"unknown FollowTheMoney schema {schema!r}; "
                "expected e.g. Company, Organization, LegalEntity, Person, Sanction",
            )
            continue
        if not isinstance(eid, str) or not eid:
            out.problem(f"{where}/id" if where else "", line, "entity has no id")
            continue
        if not isinstance(props, dict):
            out.problem(f"{where}/properties" if where else "", line, "expected an object of property lists")
            continue
        if schema == "Sanction":
            for target in _values(props, "entity"):
                sanctions[target] = (
                    _first(props, "program"),
                    _first(props, "startDate"),
                )
            continue
        if schema not in COMPANY_SCHEMATA:
            skipped[schema] = skipped.get(schema, 0) + 1
            continue
        names = _values(props, "name")
        if not names:
            out.problem(f"{where}/properties/name" if where else "", line, "company entity has no name")
            continue
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
    tick(size, final=True)
    if out.problems:
        raise BundleError(out.problems)
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
    if skipped:
        out.warn(
            "",
            None,
            "entities of other schemata skipped: " + ", ".join(f"{k} ({v})" for k, v in sorted(skipped.items())),
        )
    return out.build(name or path.stem)
