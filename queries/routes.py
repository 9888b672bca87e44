"""Routes of the exposure walk: a path from the affiliate with the sources behind it, the best route to
each node (shortest, then first in id order), and the tree of routes one walk reaches.

A walk of a weaker basis (queries/basis.py) keeps only the factories stronger walks did not reach, so
its routes are made only when asked for (`Tree.route`), and it does not walk on from a factory a stronger
walk reached as early: whatever lies beyond was reached as early by that walk.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from supplygraph.queries.steps import CypherSteps


class Route:
    """A path from the affiliate to a node, the sources backing its links, and its first contract."""

    __slots__ = ("contracts", "path", "sources")

    def __init__(self, path: tuple[str, ...], sources: tuple[str, ...] = (), contracts: tuple[str, ...] = ()) -> None:
        self.path = path
        self.sources = sources
        self.contracts = contracts

    @property
    def key(self) -> tuple[int, tuple[str, ...]]:
        return (len(self.path), self.path)  # shortest first, then id order: deterministic ties

    def extend(self, node: str, sources: str | Iterable[str] | None) -> Route:
        known = self.sources
        if isinstance(sources, str) and sources and "|" not in sources:  # one source: common, made cheap
            if sources not in known:
                known = (*known, sources)
        elif sources:
            new = [s for s in source_list(sources) if s not in known]
            if new:
                known = known + tuple(dict.fromkeys(new))
        return Route((*self.path, node), known, self.contracts)


def source_list(value: str | Iterable[str] | None) -> list[str]:
    """Source ids as stored: a "|"-joined string on relationships, a list on Finding nodes."""
    if value is None:
        return []
    if isinstance(value, str):
        return [s for s in value.split("|") if s]
    return list(value)


def better(current: Route | None, candidate: Route) -> bool:
    return current is None or candidate.key < current.key


def link_sources(raw: list[Any]) -> str | list[str] | None:
    """The sources of the parallel links between one pair of nodes, in an order that does not
    depend on the order the store returned the links in."""
    if len(raw) == 1:
        return raw[0]  # type: ignore[no-any-return]
    return [s for value in sorted(raw, key=lambda v: source_list(v)) for s in source_list(value)]


class Best:
    """The best route to each node: through the parent with the smallest route; when several links
    join that parent to the node (parallel links), the route carries the sources of all of them."""

    def __init__(self) -> None:
        self.parents: dict[str, tuple[Route, list[Any]]] = {}

    def offer(self, node: str, parent: Route, sources: Any) -> None:
        current = self.parents.get(node)
        if current is None or parent.key < current[0].key:
            self.parents[node] = (parent, [sources])
        elif parent.path == current[0].path:
            current[1].append(sources)

    def routes(self) -> dict[str, Route]:
        return {node: parent.extend(node, link_sources(raw)) for node, (parent, raw) in self.parents.items()}


class Tree:
    """The factories one walk reaches: the seeds' routes, every other factory's buyer and link sources, and
    tiers. Routes are made when asked for (a weaker basis's walk keeps only what stronger ones did not reach)."""

    def __init__(self, seeds: dict[str, Route], offset: int) -> None:
        self.routes = dict(seeds)
        self.parent: dict[str, tuple[str, Any]] = {}
        self.tiers = dict.fromkeys(seeds, 1 + offset)

    def route(self, fid: str) -> Route:
        known = self.routes.get(fid)
        if known is None:
            buyer, raw = self.parent[fid]
            parent = self.routes.get(buyer) or self.route(buyer)  # asked in tier order, the buyer's is known
            known = self.routes[fid] = parent.extend(fid, link_sources(raw))
        return known


def walk_from(
    steps: CypherSteps, seeds: dict[str, Route], depth: int, as_of: date, stronger: dict[str, int], offset: int = 0
) -> Tree:
    """Seeds at tier 1 + offset and their suppliers walked buyer -> supplier, within `depth` tiers. Factories
    that stronger walks reached at a tier no later (`stronger`) are not walked on from: whatever lies beyond
    them was reached by those walks as early."""
    seeds = {f: r for f, r in seeds.items() if stronger.get(f, depth + 1) > 1 + offset}
    if not seeds or depth - offset < 1:
        return Tree({}, offset)
    tree = Tree(seeds, offset)
    start = sorted(seeds, key=lambda f: seeds[f].key)
    # a factory stronger walks reached at the last tier never stops this walk: nothing is walked on from there
    stop = {f: t - offset for f, t in stronger.items() if t < depth} or None
    reached_tiers = steps.supplier_tiers(start, depth - offset, as_of, stop)
    tiers, routes, parent = tree.tiers, tree.routes, tree.parent
    eager = not stronger  # the first walk keeps every factory: routes at once, buyers first
    for tier, reached in enumerate(reached_tiers, start=2 + offset):
        for supplier, buyer, raw in reached:
            if eager:
                routes[supplier] = routes[buyer].extend(supplier, link_sources(raw))
            else:
                parent[supplier] = (buyer, raw)
            tiers[supplier] = tier
    return tree


def nearer(a: Tree, b: Tree, fid: str) -> Tree:
    """Of two walks reaching `fid`, the one at the smaller tier, then with the first path in id order."""
    if fid not in b.tiers:
        return a
    if fid not in a.tiers or b.tiers[fid] < a.tiers[fid]:
        return b
    if b.tiers[fid] == a.tiers[fid] and b.route(fid).key < a.route(fid).key:
        return b
    return a
