"""An affiliate's exposure over time, as SVG drawn on the server (nothing loaded from outside).

Per month over the span of its contracts (the first day of each month), two stacked bar charts: the
exposed factories by tier, and the open findings by severity, from its exposure answer on that day
(queries/exposure.py, one exposure index for all the months).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from supplygraph.graph.stores.protocol import Store
from supplygraph.queries.exposure import exposure_for_affiliate
from supplygraph.queries.steps import steps_for

MAX_MONTHS = 120  # a longer span is sampled every few months
CONTRACT_SPAN = (
    "MATCH (a:Affiliate {id: $id})-[:HOLDS]->(c:Contract) "
    "RETURN min(c.start_date) AS first, max(c.end_date) AS last, count(c) AS n, count(c.end_date) AS ending"
)
TIER_COLOURS = {"1": "#1f4e79", "2": "#2e75b6", "3": "#6fa8dc", "4+": "#b4d2ee"}
SEVERITY_COLOURS = {
    "critical": "#7f0000",
    "high": "#c0392b",
    "medium": "#e67e22",
    "low": "#f1c40f",
    "unknown": "#aaaaaa",
}


@dataclass
class Month:
    day: date
    tiers: dict[str, int]
    severities: dict[str, int]


def months_between(first: date, last: date) -> list[date]:
    """First days of the months from `first`'s to `last`'s, at most MAX_MONTHS of them (evenly spaced)."""
    days = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        days.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    step = -(-len(days) // MAX_MONTHS)
    return days[::step]


def contract_span(store: Store, affiliate_id: str, today: date) -> tuple[date, date] | None:
    rows = store.run(CONTRACT_SPAN, {"id": affiliate_id})
    if not rows or not rows[0]["n"]:
        return None
    first = _as_day(rows[0]["first"]) or today
    last = _as_day(rows[0]["last"]) or today
    if rows[0]["ending"] < rows[0]["n"]:  # a contract with no end runs to today at least
        last = max(last, today)
    return min(first, last), max(first, last)


def _as_day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def timeline(store: Store, affiliate_id: str, depth: int, today: date) -> list[Month]:
    """The affiliate's counts per month (none when it holds no contract); NotFound for an unknown id."""
    steps = steps_for(store)
    exposure_for_affiliate(store, affiliate_id, today, depth, steps=steps)  # NotFound before any work
    span = contract_span(store, affiliate_id, today)
    if span is None:
        return []
    out = []
    for day in months_between(*span):
        answer = exposure_for_affiliate(store, affiliate_id, day, depth, steps=steps)
        tiers = dict.fromkeys(TIER_COLOURS, 0)
        for f in answer.factories:
            tiers[str(f["tier"]) if f["tier"] < 4 else "4+"] += 1
        severities = dict.fromkeys(SEVERITY_COLOURS, 0)
        for finding in answer.findings:
            severities[finding["severity"] if finding["severity"] in SEVERITY_COLOURS else "unknown"] += 1
        out.append(Month(day, tiers, severities))
    return out


def timeline_svg(months: list[Month], width: int = 900, chart_height: int = 140) -> str:
    """Two stacked bar charts, one bar per month, with axes, month labels and legends."""
    left, gap, top = 48, 46, 24
    height = top + 2 * chart_height + gap + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img" aria-label="exposure over time" font-family="sans-serif" font-size="11">'
    ]
    if not months:
        parts.append(f'<text x="{left}" y="{top + 20}">no contracts: nothing to draw</text></svg>')
        return "".join(parts)
    charts = (
        ("exposed factories by tier", "tiers", TIER_COLOURS, top),
        ("open findings by severity", "severities", SEVERITY_COLOURS, top + chart_height + gap),
    )
    slot = (width - left - 150) / len(months)
    for title, field, colours, y0 in charts:
        counts = [getattr(m, field) for m in months]
        peak = max([sum(c.values()) for c in counts] + [1])
        scale = (chart_height - 10) / peak
        parts.append(f'<text x="{left}" y="{y0 - 8}" font-weight="bold">{escape(title)}</text>')
        base = y0 + chart_height
        parts.append(f'<line x1="{left}" y1="{base}" x2="{left + slot * len(months):.1f}" y2="{base}" stroke="#333"/>')
        parts.append(f'<text x="{left - 6}" y="{base - peak * scale + 4:.1f}" text-anchor="end">{peak}</text>')
        parts.append(f'<text x="{left - 6}" y="{base + 4}" text-anchor="end">0</text>')
        for i, (month, count) in enumerate(zip(months, counts, strict=True)):
            x, y = left + i * slot, float(base)
            for name in reversed(list(colours)):  # the nearest tier, or the worst severity, on top
                if count[name]:
                    h = count[name] * scale
                    y -= h
                    label = f"{month.day:%Y-%m}: {count[name]} {name}"
                    parts.append(
                        f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(slot - 2, 1):.1f}" height="{h:.1f}" '
                        f'fill="{colours[name]}"><title>{escape(label)}</title></rect>'
                    )
        for n, (name, colour) in enumerate(colours.items()):
            ly = y0 + 6 + n * 16
            lx = width - 140
            label = f"tier {name}" if field == "tiers" else name
            parts.append(f'<rect x="{lx}" y="{ly}" width="10" height="10" fill="{colour}"/>')
            parts.append(f'<text x="{lx + 16}" y="{ly + 9}">{escape(label)}</text>')
    every = max(1, round(len(months) / 12))
    label_y = top + 2 * chart_height + gap + 16
    for i, month in enumerate(months):
        if i % every == 0:
            x = left + i * slot + slot / 2
            parts.append(f'<text x="{x:.1f}" y="{label_y}" text-anchor="middle">{month.day:%Y-%m}</text>')
    parts.append("</svg>")
    return "".join(parts)
