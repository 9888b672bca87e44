"""What an incremental load changes in a graph (loaders/incremental.py computes it, each store applies it).

The graph after the change equals the graph a full load of the same bundles builds: `nodes` holds the whole
row (every property, merged over every bundle) of each node written, `touched` the nodes whose reference
relationships (a finding's CONCERNS and BACKED_BY, ...) are replaced by those in `rels`, `gone` the nodes no
bundle describes any more, and `unlinked` the link relationships (SUPPLIES, ...) of the bundles replaced, each
found by its start node, its `origin` (`<bundle>/<file> (...)`) and its `origin_line` (together unique to one
row of one bundle)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
from supplygraph.graph.relationships import RelPart
from supplygraph.graph.schema import SCHEMA, Reference


@dataclass
class GraphDelta:
    nodes: dict[str, pa.Table]  # label -> rows of the nodes to create or overwrite (columns as graph.tables makes)
    touched: dict[str, list[str]]  # label -> ids whose own reference relationships are replaced
    gone: dict[str, list[str]]  # label -> ids of nodes to delete
    rels: list[RelPart]  # relationships to create: the touched nodes' references and the new bundles' links
    unlinked: list[RelPart] = field(default_factory=list)  # link relationships to delete: from, to, origin, origin_line
    removed: list[str] = field(default_factory=list)  # bundles replaced
    kept: list[str] = field(default_factory=list)  # bundles loaded before that stay as they are

    @property
    def rows(self) -> int:
        return sum(t.num_rows for t in self.nodes.values()) + sum(p.table.num_rows for p in self.rels)

    @property
    def tables(self) -> frozenset[str]:
        """The node labels and relationship types the change writes to: every other table of the graph stays as
        it was (the nodes deleted take every relationship of theirs with them)."""
        nodes = {label for label, table in self.nodes.items() if table.num_rows}
        touched = {label for label, ids in self.touched.items() if ids}
        gone = {label for label, ids in self.gone.items() if ids}
        types = {part.type for part in [*self.rels, *self.unlinked] if part.table.num_rows}
        types |= {ref.rel for label in touched for ref in own_references(label)}
        types |= {rel.name for rel in SCHEMA.rel_types.values() if any(set(pair) & gone for pair in rel.pairs)}
        return frozenset(nodes | touched | gone | types)


def own_references(label: str) -> list[Reference]:
    """The references a node of `label` makes (its reference relationships: from it, or to it when reversed)."""
    return [ref for ref in SCHEMA.references if ref.node == label]
