"""Human-readable output for the CLI: tables and short explanations."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from graph.errors import Problem


def path_text(path: list[str]) -> str:
    return " → ".join(path)


def basis_text(item: dict[str, Any]) -> str:
    """disclosed, matched, or brand_list with whose published list it was inferred from."""
    basis = item.get("basis", "disclosed")
    listed = item.get("listed") or {}
    if basis != "brand_list" or not listed:
        return str(basis)
    sources = ", ".join(listed.get("sources") or ()) or "no source given"
    return f"brand_list: inferred from {listed['brand']}'s published supplier list (source {sources})"


def exposure_tables(console: Console, answer: dict[str, Any]) -> None:
    aff = answer["affiliate"]
    console.print(f"[bold]{aff['name'] or aff['id']}[/bold] ({aff['id']}) — exposure as of {answer['as_of']}")
    if not any(answer[k] for k in ("factories", "agencies", "findings", "gaps")):
        console.print("  Nothing: this affiliate buys no product under a contract active on that day.")
        return
    origins = ["origins"] if "provenance" in answer else []  # a column only in answers that have them
    if answer["factories"]:
        table = Table(
            "tier", "basis", "factory", "name", "country", "path", "sources", *origins, title="Factories", title_justify="left"
        )
        for f in answer["factories"]:
            table.add_row(
                str(f["tier"]),
                basis_text(f),
                f["id"],
                f["name"] or "",
                f["country"] or "",
                path_text(f["path"]),
                ", ".join(f["sources"]),
                *(origins_text(f) for _ in origins),
            )
        console.print(table)
        for line in listed_lines(answer["factories"]):
            console.print(line, highlight=False, soft_wrap=True)
    if answer["agencies"]:
        table = Table(
            "agency", "basis", "name", "country", "path", "sources", *origins, title="Recruitment agencies",
            title_justify="left",
        )
        for a in answer["agencies"]:
            row = [a["id"], basis_text(a), a["name"] or "", a["country"] or "", path_text(a["path"])]
            row.append(", ".join(a["sources"]))
            table.add_row(*row, *(origins_text(a) for _ in origins))
        console.print(table)
    if answer["findings"]:
        table = Table(
            "finding",
            "basis",
            "category",
            "severity",
            "status",
            "subject",
            "path",
            "sources",
            *origins,
            title="Open findings",
            title_justify="left",
        )
        for f in answer["findings"]:
            table.add_row(
                f["id"],
                basis_text(f),
                f["category"],
                f["severity"] or "",
                f["status"] or "",
                f"{f['subject']['type']} {f['subject']['id']}",
                path_text(f["path"]),
                ", ".join(f["sources"]),
                *(origins_text(f) for _ in origins),
            )
        console.print(table)
    if answer["gaps"]:
        table = Table(
            "product or item", "item", "model", "brand", "brand list used",
            title="Disclosure gaps (no assembly factory disclosed)", title_justify="left",
        )
        for g in answer["gaps"]:
            table.add_row(g["id"], g.get("item") or "", g["model"] or "", g["brand"] or "", g.get("brand_list") or "")
        console.print(table)
    if answer.get("provenance"):
        provenance_tables(console, answer["provenance"])


def listed_lines(items: list[dict[str, Any]]) -> list[str]:
    """One sentence per brand list the answer's brand_list items were inferred from."""
    by_list: dict[tuple[str, str], list[str]] = {}
    for item in items:
        listed = item.get("listed") or {}
        if item.get("basis") == "brand_list" and listed:
            sources = ", ".join(listed.get("sources") or ()) or "no source given"
            by_list.setdefault((listed["brand"], sources), []).append(item["id"])
    return [
        f"  {', '.join(ids)}: inferred from {brand}'s published supplier list (source {sources})"
        for (brand, sources), ids in sorted(by_list.items())
    ]


def origins_text(item: dict[str, Any]) -> str:
    """An item's or a link's origins, one per line."""
    return "\n".join(item.get("origins", ()))


def provenance_tables(console: Console, provenance: dict[str, Any]) -> None:
    table = Table("label", "id", "origins", title="Other nodes on the paths", title_justify="left")
    for node in provenance["nodes"]:
        table.add_row(node["label"], node["id"], origins_text(node))
    console.print(table)
    table = Table("from", "link", "to", "origins", title="Links on the paths", title_justify="left")
    for link in provenance["links"]:
        table.add_row(link["from"], link["type"], link["to"], origins_text(link))
    console.print(table)


def exposed_affiliates_table(console: Console, answer: dict[str, Any]) -> None:
    item = answer["item"]
    console.print(
        f"Affiliates exposed to {answer['kind']} [bold]{item['id']}[/bold] ({item['name'] or ''}) as of {answer['as_of']}"
    )
    if not answer["affiliates"]:
        console.print("  None.")
        return
    table = Table("affiliate", "name", "basis", "path", "contract", "sources")
    for a in answer["affiliates"]:
        c = a["contract"]
        value = f"{c['id']} ({c['value']:,.0f} {c['currency']})" if c.get("value") is not None else (c["id"] or "")
        table.add_row(a["id"], a["name"] or "", a.get("basis", ""), path_text(a["path"]), value, ", ".join(a["sources"]))
    console.print(table)
    money = ", ".join(f"{v:,.0f} {cur}" for cur, v in answer["leverage"]["contract_value"].items()) or "no values"
    bases = ", ".join(f"{n} {b}" for b, n in answer["leverage"].get("by_basis", {}).items() if n)
    console.print(f"Leverage: {answer['leverage']['affiliates']} affiliates ({bases or 'none'}); contract value {money}")


def rows_table(console: Console, columns: list[str], rows: list[list[Any]], title: str | None = None) -> None:
    table = Table(*columns, title=title, title_justify="left")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


def problems_text(problems: list[Problem]) -> str:
    return "\n".join(f"  {p}" for p in problems)
