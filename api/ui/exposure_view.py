"""The network of an exposure answer (an affiliate's, or who is exposed to a factory or agency), drawn
from the answer itself: paths from the affiliate, tiers as levels, findings styled by severity and state."""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Any

from supplygraph.api.render import summary_lines
from supplygraph.api.ui.labels import labels_of, name_hints, short, source_rows
from supplygraph.api.ui.network import (
    BASIS_EDGES,
    EXPOSURE_KINDS,
    FOLLOWS,
    MAX_EXPOSURE_NODES,
    TYPE_NAMES,
    Drawing,
    NetworkBuilder,
    finding_style,
    tier_layout,
    tier_options,
)
from supplygraph.graph.errors import InvalidParameter
from supplygraph.graph.stores.protocol import Store
from supplygraph.queries import cypher
from supplygraph.queries.exposure import exposure_for_affiliate
from supplygraph.queries.link_index import finding_open
from supplygraph.queries.reverse import exposed_affiliates

from . import cypher as ui_cypher


def exposure_drawing(
    store: Store,
    kind: str,
    item_id: str,
    as_of: date,
    depth: int = 4,
    *,
    only: str | None = None,
    findings_allowed: set[str] | None = None,
) -> Drawing:
    """The exposure answers of an affiliate, or of every affiliate exposed to a factory or agency, as a network.

    For an affiliate's key: `only` is that affiliate (a factory or agency view walks no other), and
    `findings_allowed` the findings of its own answer: no other finding is drawn, not even muted.
    """
    if kind not in EXPOSURE_KINDS:
        raise InvalidParameter("kind", f"must be one of {', '.join(EXPOSURE_KINDS)}, got {kind!r}")
    answers: list[dict[str, Any]] = []
    open_findings: dict[str, dict[str, Any]] = {}
    hints: dict[str, dict[str, str | None]] = {}
    if kind == "affiliate":
        exposure = exposure_for_affiliate(store, item_id, as_of, depth).as_json()
        hints = name_hints(exposure)
        title = f"Exposure of {exposure['affiliate']['name']} ({item_id})"
        answers, open_findings = affiliate_answers(store, exposure)
    else:
        reverse = exposed_affiliates(store, kind, item_id, as_of, depth, only=only).as_json()
        title = f"Affiliates exposed to {kind} {reverse['item']['name']} ({item_id})"
        for a in reverse["affiliates"]:
            tier = f" at tier {a['tier']}" if "tier" in a else ""
            answers.append({"kind": "affiliate", "id": a["id"], "path": a["path"], "sources": a["sources"],
                            "text": f"{a['name']} ({a['id']}) is exposed{tier} through contract "
                                    f"{a['contract']['id']}"})
    with_paths = [a for a in answers if a["path"]]
    drawing, keys = draw_paths(store, [a["path"] for a in with_paths], as_of, open_findings, hints,
                                findings_allowed, [a.get("basis", "disclosed") for a in with_paths])
    for answer, path_keys in zip(with_paths, keys, strict=True):
        answer["keys"] = path_keys
    drawing.title = title
    drawing.as_of = as_of.isoformat()
    if kind == "affiliate":
        drawing.summary = summary_lines(exposure["summary"])
    sources = source_rows(store, (s for a in answers for s in a["sources"]))
    names = {n["id"]: n["label"] for n in drawing.nodes}
    for a in answers:
        a["sources"] = [sources.get(s, {"id": s}) for s in a["sources"]]
        a["path_text"] = " → ".join(names.get(k, k) for k in a.get("keys", []))
    drawing.answers = answers
    return drawing


def affiliate_answers(
    store: Store, exposure: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The items of an affiliate's exposure answer (as JSON) in words, and its open findings by id."""
    answers: list[dict[str, Any]] = []
    open_findings: dict[str, dict[str, Any]] = {}
    brands = _company_names(store, exposure)
    for fi in exposure["findings"]:
        open_findings[fi["id"]] = fi
        answers.append({"kind": "finding", "id": fi["id"], "path": fi["path"], "sources": fi["sources"],
                        "severity": fi["severity"], "basis": fi["basis"], "listed": fi.get("listed"),
                        "text": f"Open finding {fi['id']}: {fi['category'].replace('_', ' ')}"
                                f" ({fi['severity'] or 'no severity'}) at {fi['subject']['type']} "
                                f"{fi['subject']['id']}" + basis_words(fi, brands),
                        "told": finding_told(fi)})
    for f in exposure["factories"]:
        answers.append({"kind": "factory", "id": f["id"], "path": f["path"], "sources": f["sources"],
                        "basis": f["basis"], "listed": f.get("listed"),
                        "text": f"Tier {f['tier']} factory {f['name']} ({f['country']})" + basis_words(f, brands)})
    for a in exposure["agencies"]:
        answers.append({"kind": "agency", "id": a["id"], "path": a["path"], "sources": a["sources"],
                        "basis": a["basis"], "listed": a.get("listed"),
                        "text": f"Recruitment agency {a['name']} ({a['country']})" + basis_words(a, brands)})
    for gap in exposure["gaps"]:
        what = f"product {gap['model']} ({gap['id']})" if gap.get("model") else f"contract item {gap['item']}"
        listed = f"; covered by {gap['brand_list']}'s published supplier list" if gap.get("brand_list") else ""
        answers.append({"kind": "gap", "id": gap["id"], "item": gap.get("item"), "path": [], "sources": [],
                        "text": f"Disclosure gap: {what} assembled nowhere known{listed}"})
    return answers, open_findings


def finding_told(finding: dict[str, Any]) -> str | None:
    """Who reported a finding, when, and what they found, in one line."""
    said = [finding.get("monitor"), finding.get("reported_on") and f"reported {finding['reported_on']}"]
    head = ", ".join(str(p) for p in said if p)
    text = f"{head}: {finding['summary']}" if head and finding.get("summary") else head or finding.get("summary")
    return text or None


def basis_words(item: dict[str, Any], brands: dict[str, str]) -> str:
    """What an answer of a weaker basis rests on, in words."""
    listed = item.get("listed") or {}
    if item.get("basis") == "matched":
        return " (matched: the contract item's description names the product)"
    if item.get("basis") == "brand_list" and listed:
        sources = ", ".join(listed.get("sources") or ()) or "no source given"
        brand = brands.get(listed["brand"], listed["brand"])
        return f" — inferred from {brand}'s published supplier list (source {sources})"
    return ""


def _company_names(store: Store, exposure: dict[str, Any]) -> dict[str, str]:
    brands = {(i.get("listed") or {}).get("brand") for k in ("factories", "agencies", "findings") for i in exposure[k]}
    ids = sorted(b for b in brands if b is not None)
    return {r["id"]: r["name"] for r in store.run(cypher.COMPANY_NAMES, {"ids": ids})} if ids else {}


def _weak_links(path_keys: list[list[str]], bases: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """The links a matched or brand-list path rests on (item -> product, item -> brand -> site), each drawn
    in its weakest path's style unless a stronger path runs through it too."""
    strongest: dict[tuple[str, str], int] = {}
    order = ("disclosed", "matched", "brand_list")
    for keys, basis in zip(path_keys, bases, strict=True):
        for a, b in pairwise(keys):
            weak = basis if (
                (basis == "matched" and a.startswith("Contract:") and b.startswith("Product:"))
                or (basis == "brand_list" and (a.startswith("Item:") or (a.startswith("Company:") and b.startswith("Factory:"))))
            ) else "disclosed"
            rank = order.index(weak)
            strongest[(a, b)] = min(strongest.get((a, b), rank), rank)
    return {pair: BASIS_EDGES[order[r]] for pair, r in strongest.items() if r}


def draw_paths(
    store: Store, paths: list[list[str]], as_of: date, open_findings: dict[str, dict[str, Any]],
    hints: dict[str, dict[str, str | None]], findings_allowed: set[str] | None = None,
    bases: list[str] | None = None, label_width: int = 28,
) -> tuple[Drawing, list[list[str]]]:
    ids = {i for path in paths for i in path}
    known = labels_of(store, ids, ["Affiliate", "Contract", "Product", "Item", "Factory", "Agency", "Company",
                                    "Finding"], hints)
    # Each node: (label, kind, rank within kind) from its position on the paths; the smallest rank wins.
    placed: dict[str, tuple[str, str, int]] = {}
    path_keys: list[list[str]] = []
    label_after: dict[tuple[str | None, str], str] = {}  # (label before, id) -> label: paths share prefixes
    for path in paths:
        previous: str | None = None
        counts: dict[str, int] = {}
        keys = []
        for node_id in path:
            label = label_after.get((previous, node_id))
            if label is None:
                candidates = known.get(node_id, {})
                allowed = ("Affiliate",) if previous is None else FOLLOWS.get(previous, ())
                label = next((lb for lb in allowed if lb in candidates), None) or next(iter(candidates), "Company")
                label_after[(previous, node_id)] = label
            rank = counts[label] = counts.get(label, 0) + 1
            key = label + ":" + node_id
            old = placed.get(key)
            if old is None or rank < old[2]:
                placed[key] = (label, "subagent" if label == "Agency" and rank > 1 else label.lower(), rank)
            keys.append(key)
            previous = label
        path_keys.append(keys)
    max_tier = max((r for lb, _k, r in placed.values() if lb == "Factory"), default=0)
    max_hop = max((r for lb, _k, r in placed.values() if lb == "Agency"), default=0)
    # Levels: affiliate 0, contracts 1-2 (framework, call-off), products 3, factories 3 + tier, agencies
    # after the deepest tier (sub-agents one further a hop), then companies, then findings.
    base = {"Affiliate": 0, "Contract": 0, "Product": 2, "Item": 2, "Factory": 3, "Agency": 3 + max_tier,
            "Company": 4 + max_tier + max_hop, "Finding": 5 + max_tier + max_hop}
    # Findings on drawn subjects: the open ones are on the paths; the others are drawn muted.
    subjects = [k.split(":", 1)[1] for k, v in placed.items() if v[0] in ("Factory", "Agency", "Company")]
    findings = {r["id"]: r for r in store.run(ui_cypher.FINDINGS_ON, {"ids": sorted(subjects), "as_of": as_of})
                if findings_allowed is None or r["id"] in findings_allowed}
    path_findings = [k.split(":", 1)[1] for k, v in placed.items() if v[0] == "Finding"]
    for row in store.run(ui_cypher.FINDINGS_BY_ID, {"ids": sorted(set(path_findings) - set(findings))}):
        findings[row["id"]] = row
    builder = NetworkBuilder()
    for key, (label, kind, rank) in placed.items():
        node_id = key.split(":", 1)[1]
        name = known.get(node_id, {}).get(label) or node_id
        level = 0 if label == "Affiliate" else base[label] + rank
        extra: dict[str, Any] = {"level": level, "sg_type": kind}
        text = f"{TYPE_NAMES[kind]} {node_id}: {name}"
        if label == "Factory":
            extra["sg_tier"] = rank
            text += f" (tier {rank})"
        if label == "Finding":
            row = findings.get(node_id, {})
            open_ = node_id in open_findings or not open_findings
            extra.update(finding_style(row.get("severity"), open_))
            extra["sg_severity"] = row.get("severity")
            extra["sg_muted"] = not open_
            name = f"{node_id} {str(row.get('category') or name).replace('_', ' ')}"
            text = f"finding {name}, severity {row.get('severity')}, {row.get('status')}"
        builder.node(key, kind, short(name, label_width), text, **extra)
    weak = _weak_links(path_keys, bases) if bases else {}
    for a, b in dict.fromkeys(pair for keys in path_keys for pair in pairwise(keys)):  # each link once
        builder.edge(a, b, **weak.get((a, b), {}))
    finding_level = base["Finding"] + 1
    for fid, row in sorted(findings.items()):
        key = f"Finding:{fid}"
        subject = f"{str(row.get('subject_type') or '').capitalize()}:{row.get('subject_id')}"
        if builder.has(key) or not builder.has(subject):
            continue
        open_ = finding_open(row, as_of)
        name = f"{fid} {str(row['category']).replace('_', ' ')}"
        state = "open" if open_ else f"not open on {as_of.isoformat()}"
        builder.node(key, "finding", name, f"finding {name}, severity {row['severity']}, {row['status']} ({state})",
                     level=finding_level, sg_type="finding", sg_muted=not open_,
                     sg_severity=row["severity"], **finding_style(row["severity"], open_))
        builder.edge(subject, key, dashes=True)
    if len(builder.nodes) > MAX_EXPOSURE_NODES:
        raise InvalidParameter("depth", f"the drawing would have {len(builder.nodes)} nodes: choose a smaller depth")
    nodes, edges = builder.nodes, builder.edges
    tier_layout(nodes, edges)
    return Drawing(title="", kind="exposure", nodes=nodes, edges=edges, options=tier_options()), path_keys
