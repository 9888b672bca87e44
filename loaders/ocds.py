"""Open Contracting Data Standard 1.0 and 1.1: release packages, record packages (with or without
`compiledRelease`), JSON Lines of releases or packages, a JSON array of releases or packages.

Mapping: the buyer (a party, or OCDS 1.0's inline `buyer`) -> an affiliate (a procuring entity only where no
buyer is named; otherwise it is kept on the contracts as `procuring_entity` and `procuring_entity_id`); suppliers (parties, or 1.0's inline
`awards/suppliers`) -> companies (identifier scheme and id kept; the id is `<scheme>-<id>` as in org-id.guide,
else `<ocid>/<party id>`). Every OCDS contract -> one contract `<ocid>/<contracts/id>`, awarded to every supplier
of its award (consortia keep all members); an award no contract refers to -> a contract `<ocid>/award:<id>`,
unless it is unsuccessful or cancelled (a contract of such an award keeps `award_status`). Values are never
borrowed: a contract without a value has none. Every item -> a contract item of bundle version 1.1 with its
description, CPV codes, quantity, unit, value and brand (which items a contract has, and how: loaders.ocds_items);
an item with a named model (`model`/`brand` fields or item `attributes` of those names) also -> a product of that
brand; items give the contract its CPV code and `item_categories`; `relatedProcesses` with relationship
`framework` -> the call-off's framework_id.

Releases of one ocid are merged as OCDS merges them: in date order, field by field, later wins, arrays of
contracts and awards by id; a contract-only release takes its buyer and supplier from earlier releases of the same
ocid (loaders.ocds_process). Large inputs are streamed and hash-partitioned by ocid (loaders.canonical): memory
holds one partition, not the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from supplygraph.graph.errors import BundleError
from supplygraph.graph.stores.protocol import Progress
from supplygraph.loaders.bundle import Bundle
from supplygraph.loaders.canonical import TableBuilder, Ticker, partitions_for
from supplygraph.loaders.jsonfile import check_encoding
from supplygraph.loaders.name_ids import name_slug
from supplygraph.loaders.ocds_fields import Fields
from supplygraph.loaders.ocds_items import assign_items, item_rows
from supplygraph.loaders.ocds_process import WITHDRAWN, join_processes, link_frameworks
from supplygraph.loaders.ocds_read import releases


def _withdrawn(inner: dict, key: str) -> str | None:
    """WITHDRAWN when a release sets the field to null: OCDS merging (ocdsmerge) then removes the earlier value
    (loaders.ocds_process turns the mark back into nothing once releases are merged). A null object (`"value":
    null`) removes nothing in ocdsmerge, and neither here."""
    return WITHDRAWN if key in inner and inner[key] is None else None


class _Release:
    """Turns one release into canonical rows (and the award and process rows loaders.ocds_process joins)."""

    def __init__(self, out: TableBuilder, release: dict, line: int, pointer: str) -> None:
        self.out, self.r, self.line, self.p = out, release, line, pointer or "#"
        self.f = Fields(out, line)
        self.ocid = self.f.text(release, "ocid", self.p)
        self.order = self.f.text(release, "date", self.p) or ""
        self.parties: dict[str, str] = {}  # party id -> node id
        self.buyers: list[str] = []  # affiliates among the parties, in order
        self.procuring: list[tuple[dict, str]] = []  # procuring entities that are not the buyer: (row, where)

    def add(self, table: str, row: dict, where: str) -> None:
        self.out.add(table, row, self.line, where, self.order)

    def run(self) -> None:
        if not self.ocid:
            self.f.problem(self.p, "release has no ocid")
            return
        f, p = self.f, self.p
        for i, party in enumerate(f.array(self.r, "parties", p)):
            self.party(party, f"{p}/parties/{i}")
        buyer = None
        if "buyer" in self.r:
            buyer = self.organisation(f.object(self.r, "buyer", p), f"{p}/buyer", "affiliates")
        if buyer is None and self.buyers:
            buyer = self.buyers[0]
        if buyer is None and self.procuring:  # no buyer named: the procuring entity buys
            row, where = self.procuring.pop(0)
            self.add("affiliates", row, where)
            buyer = row["affiliate_id"]
        tender = f.object(self.r, "tender", p)
        title = f.text(tender, "title", f"{p}/tender")
        for i, item in enumerate(f.array(tender, "items", f"{p}/tender")):
            self.item(f"{self.ocid}#tender", "tender", item, f"{p}/tender/items/{i}", i + 1)
        framework = None
        for i, rel in enumerate(f.array(self.r, "relatedProcesses", p)):
            if isinstance(rel, dict) and "framework" in (rel.get("relationship") or []):
                framework = f.text(rel, "identifier", f"{p}/relatedProcesses/{i}")
        common = {
            "affiliate_id": buyer,
            "ocid": self.ocid,
            "framework_ocid": framework,
            "procuring_entity": "|".join(row["name"] for row, _ in self.procuring if row.get("name")) or None,
            "procuring_entity_id": "|".join(row["affiliate_id"] for row, _ in self.procuring) or None,
        }
        awards: dict[str, tuple[dict, str, list[str]]] = {}
        award_codes: dict[str, tuple[list[str], list[str]]] = {}  # award id -> its items' CPV codes and categories
        for i, award in enumerate(f.array(self.r, "awards", p)):
            where = f"{p}/awards/{i}"
            if not isinstance(award, dict):
                f.problem(where, "expected an object")
                continue
            aid = f.text(award, "id", where) or str(i)
            suppliers = []
            for j, ref in enumerate(f.array(award, "suppliers", where)):
                node = self.organisation(ref, f"{where}/suppliers/{j}", "companies")
                if node is not None and node not in suppliers:
                    suppliers.append(node)
            awards[aid] = (award, where, suppliers)
            codes: tuple[list[str], list[str]] = ([], [])
            for j, item in enumerate(f.array(award, "items", where)):
                self.item(f"{self.ocid}/award:{aid}", "award", item, f"{where}/items/{j}", j + 1, *codes)
            award_codes[aid] = codes
        referred: set[str | None] = set()
        for i, contract in enumerate(f.array(self.r, "contracts", p)):
            where = f"{p}/contracts/{i}"
            if not isinstance(contract, dict):
                f.problem(where, "expected an object")
                continue
            cid = f.text(contract, "id", where) or f.text(contract, "awardID", where) or str(i)
            award_ref = f.text(contract, "awardID", where)
            award, _, suppliers = awards.get(award_ref or "", ({}, "", []))
            referred.add(award_ref)
            row = {
                **common,
                "ocds_kind": "contract",
                "award_id": award_ref,
                "award_lots": self.lots(award, where) if award else None,
                "award_in_release": "true" if award else None,
                "award_status": f.text(award, "status", where) if award else None,
                "supplier_id": suppliers or None,
            }
            self.contract(f"{self.ocid}/{cid}", contract, where, title, row)
        for aid, (award, where, suppliers) in awards.items():
            if aid in referred:
                continue
            row = {**common, "ocds_kind": "award", "award_id": aid, "supplier_id": suppliers or None}
            row["award_lots"] = self.lots(award, where)
            row["award_status"] = f.text(award, "status", where)
            self.contract(f"{self.ocid}/award:{aid}", award, where, title, row, award_codes[aid])
        if not awards and "contracts" not in self.r and buyer is not None:
            self.add("contracts", {**common, "contract_id": f"{self.ocid}#process", "ocds_kind": "process"}, p)

    def lots(self, award: dict, where: str) -> list[str] | None:
        """The lots an award is for (`relatedLots`, OCDS 1.1 lots extension): which tender items it covers."""
        found = [str(lot) for lot in self.f.array(award, "relatedLots", where) if isinstance(lot, (str, int))]
        return found or None

    def organisation(self, ref: Any, where: str, table: str) -> str | None:
        """The node of an organisation reference: its party, else (OCDS 1.0, or a reference without a party) the
        organisation described inline; None (with a warning) when it names nothing."""
        if not isinstance(ref, dict):
            self.f.problem(where, "expected an object")
            return None
        pid = self.f.text(ref, "id", where)
        if pid is not None and pid in self.parties:
            return self.parties[pid]
        if not (ref.get("name") or ref.get("identifier")):
            if pid is not None:
                self.out.warn(where, self.line, f"organisation {pid!r} is not among this release's parties")
            return None
        role = "buyer" if table == "affiliates" else "supplier"
        return self.party({**ref, "roles": [role]}, where, inline=True)

    def party(self, party: Any, where: str, inline: bool = False) -> str | None:
        if not isinstance(party, dict):
            self.f.problem(where, "expected an object")
            return None
        f = self.f
        ident = f.object(party, "identifier", where)
        scheme = f.text(ident, "scheme", f"{where}/identifier")
        number = f.text(ident, "id", f"{where}/identifier")  # integer identifiers are read as text
        pid = f.text(party, "id", where)
        name = f.text(party, "name", where) or f.text(ident, "legalName", f"{where}/identifier")
        if scheme and number:
            node = f"{scheme}-{number}"
        elif pid:
            node = f"{self.ocid}/{pid}"
        else:
            node = f"{self.ocid}/{name_slug(name or '')}"
        roles = party.get("roles") or []
        if not isinstance(roles, list):
            f.problem(f"{where}/roles", f"expected an array, found {type(roles).__name__}")
            roles = []
        address = f.object(party, "address", where)
        common = {
            "name": name,
            "country": f.text(address, "countryName", f"{where}/address"),
            "identifier_scheme": scheme,
            "identifier_id": number,
            "ocds_party_id": pid,
            "street_address": f.text(address, "streetAddress", f"{where}/address"),
        }
        if "buyer" in roles:
            self.add("affiliates", {"affiliate_id": node, **common}, where)
            self.buyers.append(node)
        elif "procuringEntity" in roles:  # kept on the buyer's contracts, not an affiliate without contracts
            self.procuring.append(({"affiliate_id": node, **common}, where))
        if "supplier" in roles:
            lei = number if scheme == "XI-LEI" else None
            self.add("companies", {"company_id": node, **common, "lei": lei, "roles": "reseller"}, where)
        if pid is not None and not inline:
            self.parties.setdefault(pid, node)
        return node

    def contract(
        self,
        cid: str,
        obj: dict,
        where: str,
        title: str | None,
        row: dict,
        codes: tuple[list[str], list[str]] | None = None,
    ) -> None:
        """A contract row; `codes` (CPV codes, categories) of an award-contract come from its award's items, which
        the award itself gave as item rows."""
        f = self.f
        period = f.object(obj, "period" if "period" in obj else "contractPeriod", where)
        value = f.object(obj, "value", where)
        cpvs, categories = codes if codes is not None else ([], [])
        if codes is None:
            for i, item in enumerate(f.array(obj, "items", where)):
                self.item(cid, "contract", item, f"{where}/items/{i}", i + 1, cpvs, categories)
        row.update(
            contract_id=cid,
            title=f.text(obj, "title", where) or title,
            start_date=_withdrawn(period, "startDate") or f.day(period, "startDate", f"{where}/period"),
            end_date=_withdrawn(period, "endDate") or f.day(period, "endDate", f"{where}/period"),
            value=_withdrawn(value, "amount") or f.number(value, "amount", f"{where}/value"),
            currency=_withdrawn(value, "currency") or f.text(value, "currency", f"{where}/value"),
            cpv=cpvs[0] if cpvs else None,
            item_categories=sorted(set(categories)),
            status=f.text(obj, "status", where),
        )
        self.add("contracts", row, where)

    def item(
        self,
        owner: str,
        level: str,
        item: Any,
        where: str,
        position: int,
        cpvs: list[str] | None = None,
        categories: list[str] | None = None,
    ) -> None:
        """One OCDS item's rows (loaders.ocds_items); its CPV code and category noted for its contract."""
        if not isinstance(item, dict):
            self.f.problem(where, "expected an object")
            return
        rows, first, category = item_rows(self.f, self.ocid, owner, level, item, where, position)
        for table, row in rows:
            self.add(table, row, where)
        if cpvs is not None and first:
            cpvs.append(first)
        if categories is not None and category:
            categories.append(category)


def read_ocds(
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
        path.name, "ocds", partitions=partitions_for(size), skip_invalid=skip_invalid, path=path, encoding=encoding
    )
    out.partition_by["contracts"] = "ocid"  # a process's contracts, awards and buyer are joined in one partition
    out.unions["contracts"] = ("supplier_id",)  # OCDS merges an award's suppliers by id: later releases add
    out.keys["contract_items"] = ("contract_id", "item_id")  # items merge by id, as OCDS merges them
    out.partition_by["contract_items"] = "ocid"  # a process's tender, award and contract items in one partition
    tick = Ticker(progress, f"reading {path.name} (bytes)", size)
    for release, line, pointer in releases(path, out, tick, encoding):
        out.begin(line, pointer, release)
        if isinstance(release, dict):
            _Release(out, release, line, pointer).run()
        else:
            out.problem(pointer, line, f"expected a JSON object (a release), found {type(release).__name__}")
        out.end()
    tick(size, final=True)
    if out.problems:
        raise BundleError(out.problems)
    assign_items(out)
    join_processes(out)
    link_frameworks(out)
    return out.build(name or path.stem)


def looks_like_ocds(first: dict) -> bool:
    return isinstance(first, dict) and any(k in first for k in ("ocid", "releases", "records"))


__all__ = ["looks_like_ocds", "read_ocds"]
