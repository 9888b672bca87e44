"""Per-record quarantine (`supplygraph load --skip-invalid`): invalid records are set aside, not loaded, and
reported in `rejects.jsonl` (file, line or JSON pointer, column, problem, the raw record); a record that refers
to a set-aside record is set aside too and reported as such, never silently dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.graph.errors import Problem
from supplygraph.graph.schema import SCHEMA

REJECTS = "rejects.jsonl"


def reject(problem: Problem, record: Any, **place: Any) -> dict[str, Any]:
    """One line of rejects.jsonl for `problem` of `record`."""
    file, _, pointer = problem.file.partition("#")
    out: dict[str, Any] = {"file": file}
    if problem.line is not None:
        out["line"] = problem.line
    if pointer:
        out["pointer"] = "#" + pointer
    out.update(place)
    out["column"] = problem.column
    out["problem"] = problem.message
    out["record"] = record
    return out


def skipped_records(rejects: Iterable[dict[str, Any]]) -> int:
    """How many records the rejects are about (a record with two problems counts once)."""
    return len({(r["file"], r.get("line"), r.get("pointer")) for r in rejects})


def _referring(values: pa.ChunkedArray | pa.Array, ids: set[str]) -> pa.Array:
    """Row mask: the cell (or, for a list cell, one of its items) is one of `ids`."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    wanted = pa.array(sorted(ids), pa.string())
    if pa.types.is_list(values.type):
        hits = pc.fill_null(pc.is_in(pc.list_flatten(values), value_set=wanted), False)
        parents = pc.list_parent_indices(values).to_numpy()
        mask = [False] * len(values)
        for parent, hit in zip(parents, hits.to_pylist(), strict=True):
            mask[parent] = mask[parent] or bool(hit)
        return pa.array(mask)
    return pc.fill_null(pc.is_in(values.cast(pa.string()), value_set=wanted), False)


def drop_references(
    tables: dict[str, pa.Table],
    skipped: dict[str, set[str]],
    place: Callable[[str, dict[str, Any]], dict[str, Any]],
) -> list[dict[str, Any]]:
    """Remove from `tables` (in place) every row referring to a skipped id (label -> ids), and every row referring
    to those in turn; return their rejects. `place(table, row)` says where a row came from (file, line, pointer)."""
    found: list[dict[str, Any]] = []
    while skipped:
        more: dict[str, set[str]] = {}
        # table, column, target label, the column as the file names it, the subject_type the reference needs
        checks: list[tuple[str, str, str, str, str | None]] = [
            (SCHEMA.nodes[r.node].file.removesuffix(".csv"), r.column, r.target, r.column, r.when)
            for r in SCHEMA.references
        ]
        for name, spec in SCHEMA.links.items():
            checks += [
                (name, "from_id", spec.source.node, spec.source.column, None),
                (name, "to_id", spec.target.node, spec.target.column, None),
            ]
        for table_name, column, target, shown, when in checks:
            table = tables.get(table_name)
            ids = skipped.get(target)
            if table is None or not ids or column not in table.column_names:
                continue
            mask = _referring(table.column(column), ids)
            if when is not None:
                mask = pc.and_(mask, pc.fill_null(pc.equal(table.column("subject_type"), when), False))
            if not pc.any(mask).as_py():
                continue
            for row in table.filter(mask).to_pylist():
                value = row[column]
                message = f"refers to {target.lower()} {value!r}, which was skipped as invalid"
                record = {k: v for k, v in row.items() if not k.startswith("_") and v is not None}
                where = place(table_name, row)
                found.append({**where, "canonical": table_name, "column": shown, "problem": message, "record": record})
                label = SCHEMA.node_for_file(f"{table_name}.csv")
                if label is not None and row.get("id") is not None:
                    more.setdefault(label.label, set()).add(str(row["id"]))
            tables[table_name] = table.filter(pc.invert(mask))
        skipped = more
    return found


def write_rejects(rejects: list[dict[str, Any]], inputs: list[Path]) -> list[Path]:
    """Write each input's rejects to rejects.jsonl in its folder (one file per folder); return the files written."""
    folders: dict[Path, list[dict[str, Any]]] = {}
    for row in rejects:
        source = Path(row.get("input") or inputs[0])
        folder = source if source.is_dir() else source.parent
        folders.setdefault(folder, []).append(row)
    written = []
    for folder, rows in folders.items():
        path = folder / REJECTS
        with path.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        written.append(path)
    return written


def _navigate(value: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value


def raw_records(rejects: list[dict[str, Any]], path: Path, by_line: bool, encoding: str | None = None) -> None:
    """Give rejects made from merged rows (`canonical`) the raw input instead: the line (JSON decoded, or the
    text of a CSV line), or the value at the JSON pointer of a document. One pass over the file per array read."""
    import ijson
    from supplygraph.loaders.jsonfile import open_utf8

    wanted = [r for r in rejects if "canonical" in r]
    if not wanted:
        return
    if by_line:
        lines = {r["line"] for r in wanted if r.get("line")}
        found: dict[int, Any] = {}
        with open_utf8(path, encoding) as fh:
            for number, raw in enumerate(fh, 1):
                if number in lines:
                    text = raw.decode("utf-8", "replace").rstrip("\r\n")
                    try:
                        found[number] = json.loads(text)
                    except json.JSONDecodeError:
                        found[number] = text
        for r in wanted:
            if r.get("line") in found:
                r["record"] = found[r["line"]]
        return
    by_prefix: dict[tuple[str, int], list[tuple[dict[str, Any], list[str]]]] = {}
    for r in wanted:
        parts = str(r.get("pointer") or "").removeprefix("#/").split("/")
        first = next((i for i, p in enumerate(parts) if p.isdigit()), None)
        if first is None:
            continue
        prefix = ".".join([*parts[:first], "item"])
        by_prefix.setdefault((prefix, int(parts[first])), []).append((r, parts[first + 1 :]))
    for prefix in sorted({p for p, _ in by_prefix}):
        targets = {i: rows for (p, i), rows in by_prefix.items() if p == prefix}
        with open_utf8(path, encoding) as fh:
            for index, item in enumerate(ijson.items(fh, prefix, use_float=True)):
                for r, rest in targets.get(index, []):
                    r["record"] = _navigate(item, rest)
                if index >= max(targets):
                    break
