"""Human-readable output for the CLI: tables and short explanations."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from supplygraph.api.terminal import data, visible
from supplygraph.graph.errors import Problem


def plural(n: int, noun: str) -> str:
    """'1 affiliate', '2 affiliates' (nouns of this program take an s)."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def number_text(value: Any) -> Any:
    """Numbers in tables: thousands separated, a whole float without its '.0' (48,000,000); the rest as is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    return format(value, ",")


def cell_text(value: Any) -> Any:
    """A value in a table of rows: numbers as number_text, nodes, lists and maps as compact JSON."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return number_text(value)


def path_text(path: list[str]) -> Text:
    return data(" → ".join(visible(p) for p in path))


def joined(values: list[Any], sep: str = ", ") -> Text:
    return data(sep.join(visible(v) for v in values))


def data_table(*columns: str, title: str | None = None) -> Table:
    """A table whose headers and title are shown as they are (a Cypher column name is data too)."""
    made = Table(title=data(title) if title else None, title_justify="left")
    for column in columns:
        made.add_column(data(column), overflow="fold")  # wrapped in the cell, never cut off with an ellipsis
    return made


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
    console.print(
        Text.assemble(
            data(aff["name"] or aff["id"], "bold"), " (", data(aff["id"]), f") — exposure as of {answer['as_of']}"
        )
    )
    if not any(answer[k] for k in ("factories", "agencies", "findings", "gaps")):
        console.print("  Nothing: this affiliate buys no product under a contract active on that day.")
        return
    origins = ["origins"] if "provenance" in answer else []  # a column only in answers that have them
    if answer.get("summary"):
        for line in summary_lines(answer["summary"]):
            console.print(data(line), soft_wrap=True)
    if answer["findings"]:
        table = data_table(
            "finding",
            "severity",
            "category",
            "status",
            "reported",
            "monitor",
            "summary",
            "subject",
            "basis",
            "path",
            "sources",
            *origins,
            title="Open findings (most severe, then most recent, first)",
        )
        for f in answer["findings"]:
            table.add_row(
                data(f["id"]),
                data(f["severity"]),
                data(f["category"]),
                data(f["status"]),
                data(f.get("reported_on")),
                data(f.get("monitor")),
                data(f.get("summary")),
                data(f"{f['subject']['type']} {f['subject']['id']}"),
                data(basis_text(f)),
                path_text(f["path"]),
                joined(f["sources"]),
                *(origins_text(f) for _ in origins),
            )
        console.print(table)
        for line in evidence_lines(answer["findings"]):
            console.print(data(line), soft_wrap=True)
    if answer["factories"]:
        table = data_table(
            "tier", "basis", "factory", "name", "country", "path", "sources", *origins, title="Factories"
        )
        for f in answer["factories"]:
            table.add_row(
                str(f["tier"]),
                data(basis_text(f)),
                data(f["id"]),
                data(f["name"]),
                data(f["country"]),
                path_text(f["path"]),
                joined(f["sources"]),
                *(origins_text(f) for _ in origins),
            )
        console.print(table)
        for line in listed_lines(answer["factories"]):
            console.print(data(line), soft_wrap=True)
    if answer["agencies"]:
        table = data_table(
            "agency", "basis", "name", "country", "path", "sources", *origins, title="Recruitment agencies"
        )
        for a in answer["agencies"]:
            row = [data(a["id"]), data(basis_text(a)), data(a["name"]), data(a["country"]), path_text(a["path"])]
            row.append(joined(a["sources"]))
            table.add_row(*row, *(origins_text(a) for _ in origins))
        console.print(table)
    if answer["gaps"]:
        table = data_table(
            "product or item",
            "item",
            "model",
            "brand",
            "brand list used",
            title="Disclosure gaps (no assembly factory disclosed)",
        )
        for g in answer["gaps"]:
            table.add_row(
                data(g["id"]), data(g.get("item")), data(g["model"]), data(g["brand"]), data(g.get("brand_list"))
            )
        console.print(table)
    if answer.get("provenance"):
        provenance_tables(console, answer["provenance"])


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The counts of an answer in three lines: sections, findings by severity and category, factories by tier."""

    def counted(counts: dict[str, int], prefix: str = "") -> str:
        return ", ".join(f"{n:,} {prefix}{name}" for name, n in counts.items()) or "none"

    return [
        f"  {summary['findings']:,} open findings, {summary['factories']:,} factories, "
        f"{summary['agencies']:,} agencies, {summary['gaps']:,} disclosure gaps",
        f"  findings by severity: {counted(summary['findings_by_severity'])}; "
        f"by category: {counted(summary['findings_by_category'])}",
        f"  factories by tier: {counted(summary['factories_by_tier'], 'tier ')}; "
        f"by country: {counted(summary['factories_by_country'])}",
    ]


def evidence_lines(findings: list[dict[str, Any]]) -> list[str]:
    """Each source the findings cite, once: id, title, date and URL."""
    seen: dict[str, dict[str, Any]] = {}
    for f in findings:
        for e in f.get("evidence", ()):
            seen.setdefault(e["id"], e)
    return [
        f"  {sid}: {e.get('title') or 'no title'} ({e.get('published_on') or 'no date'}) {e.get('url') or ''}".rstrip()
        for sid, e in seen.items()
    ]


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


def origins_text(item: dict[str, Any]) -> Text:
    """An item's or a link's origins, one per line."""
    return joined(list(item.get("origins", ())), "\n")


def provenance_tables(console: Console, provenance: dict[str, Any]) -> None:
    table = data_table("label", "id", "origins", title="Other nodes on the paths")
    for node in provenance["nodes"]:
        table.add_row(data(node["label"]), data(node["id"]), origins_text(node))
    console.print(table)
    table = data_table("from", "link", "to", "origins", title="Links on the paths")
    for link in provenance["links"]:
        table.add_row(data(link["from"]), data(link["type"]), data(link["to"]), origins_text(link))
    console.print(table)


def exposed_affiliates_table(console: Console, answer: dict[str, Any]) -> None:
    item = answer["item"]
    console.print(
        Text.assemble(
            f"Affiliates exposed to {answer['kind']} ",
            data(item["id"], "bold"),
            " (",
            data(item["name"]),
            f") as of {answer['as_of']}",
        )
    )
    if not answer["affiliates"]:
        console.print("  None.")
        return
    table = data_table("affiliate", "name", "basis", "path", "contract", "sources")
    for a in answer["affiliates"]:
        c = a["contract"]
        value = f"{c['id']} ({number_text(c['value'])} {c['currency']})" if c.get("value") is not None else (c["id"] or "")
        table.add_row(
            data(a["id"]),
            data(a["name"]),
            data(a.get("basis")),
            path_text(a["path"]),
            data(value),
            joined(a["sources"]),
        )
    console.print(table)
    money = ", ".join(f"{number_text(v)} {cur}" for cur, v in answer["leverage"]["contract_value"].items()) or "no values"
    bases = ", ".join(f"{n} {b}" for b, n in answer["leverage"].get("by_basis", {}).items() if n)
    console.print(
        data(f"Leverage: {plural(answer['leverage']['affiliates'], 'affiliate')} ({bases or 'none'}); contract value {money}")
    )


def rows_table(console: Console, columns: list[str], rows: list[list[Any]], title: str | None = None) -> None:
    if not rows:  # a table with no rows would print as a blank line
        console.print(data(f"{title}: no rows" if title else "no rows"))
        return
    table = data_table(*columns, title=title)
    for row in rows:
        table.add_row(*(data(cell_text(v)) for v in row))
    console.print(table)


def problems_text(problems: list[Problem]) -> str:
    return "\n".join(f"  {p}" for p in problems)
