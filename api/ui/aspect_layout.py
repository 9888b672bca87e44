"""A layered layout whose shape is the screen's: levels left to right, and a level with more nodes than
fit one column wraps into several, so a drawing of thousands of nodes is about as high as wide (a
tidy tree, one row a leaf, drew the 10k graph's A0 2,280 units wide and 131,410 high).

Within a level, nodes are ordered by the place of the node they are first reached from (so a path
stays in about the same rows), then by key; a level that fits one column is spread over the
drawing's height. Columns are as wide as the level's longest label. O(n log n).
"""

from __future__ import annotations

import math
from typing import Any

ROW = 34  # units between rows
CHAR = 7.5  # units a label character takes at the drawing's font size (14)
COLUMN_GAP = 60  # units between columns
MIN_COLUMN = 90
ASPECT = 1.6  # width / height wanted (a 1280 x 800 screen)


def column_width(labels: list[str]) -> float:
    return max(MIN_COLUMN, max((len(t) for t in labels), default=0) * CHAR) + COLUMN_GAP


def _shape(sizes: list[int], widths: list[float], rows: int) -> tuple[float, float]:
    width = sum(math.ceil(n / rows) * w for n, w in zip(sizes, widths, strict=True))
    return width, rows * ROW


def aspect_layout(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], aspect: float = ASPECT) -> None:
    """Sets x and y of every node (by its `level`); nodes keep their order in the list."""
    if not nodes:
        return
    by_key = {n["id"]: n for n in nodes}
    first_parent: dict[str, str] = {}
    for e in edges:
        a, b = by_key.get(e["from"]), by_key.get(e["to"])
        if a is not None and b is not None and b["id"] not in first_parent and a.get("level", 0) < b.get("level", 0):
            first_parent[b["id"]] = a["id"]
    levels: dict[int, list[str]] = {}
    for n in nodes:
        levels.setdefault(n.get("level", 0), []).append(n["id"])
    place: dict[str, float] = {}  # a node's place within its level, 0..1
    ordered: list[list[str]] = []
    for level in sorted(levels):
        keys = levels[level]
        keys.sort(key=lambda k: (place.get(first_parent.get(k, ""), -1.0), k))
        for i, k in enumerate(keys):
            place[k] = i / max(len(keys) - 1, 1)
        ordered.append(keys)
    sizes = [len(keys) for keys in ordered]
    widths = [column_width([str(by_key[k].get("label", "")) for k in keys]) for keys in ordered]
    # The fewest rows whose drawing is no wider than `aspect` times its height (width falls as rows grow).
    low, high = 1, max(sizes)
    while low < high:
        mid = (low + high) // 2
        width, height = _shape(sizes, widths, mid)
        if width <= aspect * height:
            high = mid
        else:
            low = mid + 1
    rows = max(low, 3)
    height = rows * ROW
    x = 0.0
    for keys, width in zip(ordered, widths, strict=True):
        columns = math.ceil(len(keys) / rows)
        if columns == 1:  # spread over the height, in order
            gap = height / len(keys)
            for i, k in enumerate(keys):
                by_key[k]["x"], by_key[k]["y"] = round(x), round((i + 0.5) * gap)
        else:  # top to bottom, then the next column
            for i, k in enumerate(keys):
                by_key[k]["x"], by_key[k]["y"] = round(x + (i // rows) * width), round((i % rows + 0.5) * ROW)
        x += columns * width
