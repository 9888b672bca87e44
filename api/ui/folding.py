"""Which paths of an affiliate's exposure answer a large view draws, and which factories it folds.

A view draws every path to a finding and to an agency (so every open finding of the answer is shown);
the other factories, those with no finding and no agency on the way to one, are folded per tier and
country into one node each ("4,212 factories without findings, tier 3, CN"). A folded group can be
expanded: its factories' paths are then drawn too, and any factory on them leaves its own group. Small
answers (at most FOLD_ABOVE factories) are drawn whole unless folding is asked for.

Everything here reads only the answer it is given, so what a view folds is a part of that answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

FOLD_ABOVE = 150  # factories an answer may have and still be drawn one by one by default
FOLD_PREFIX = "Fold:"  # the key of a folded group's node: Fold:<tier>:<country>


@dataclass
class FoldGroup:
    """The factories of one tier and country that a view folds into one node."""

    tier: int
    country: str
    factories: list[str] = field(default_factory=list)
    parents: set[str] = field(default_factory=set)  # the ids (or group keys) its factories are reached from

    @property
    def name(self) -> str:
        return f"{self.tier}:{self.country}"

    @property
    def key(self) -> str:
        return FOLD_PREFIX + self.name

    @property
    def label(self) -> str:
        noun = "factory" if len(self.factories) == 1 else "factories"
        return f"{len(self.factories):,} {noun} without findings, tier {self.tier}, {self.country}"


@dataclass
class FoldPlan:
    """What a view draws: the answers' paths it draws (findings, agencies, factories of expanded groups)
    and the groups the other factories fold into."""

    paths: list[list[str]]
    drawn: set[str]  # every id on a drawn path
    groups: dict[str, FoldGroup]  # by name "<tier>:<country>"
    folded_of: dict[str, str]  # factory id -> the name of its group
    omitted: int = 0  # factories neither drawn nor folded ("paths to findings only")

    @property
    def folded(self) -> int:
        return sum(len(g.factories) for g in self.groups.values())


def group_name(factory: Mapping[str, Any]) -> str:
    return f"{factory['tier']}:{factory.get('country') or 'unknown'}"


def fold_plan(
    answer: Mapping[str, Any], expand: Iterable[str] = (), *, fold: bool | None = None, findings_only: bool = False
) -> FoldPlan:
    """The plan of a view of `answer` (an affiliate's exposure answer as JSON).

    `expand`: names of groups ("3:CN") whose factories are drawn; `fold`: None folds only answers of
    more than FOLD_ABOVE factories; `findings_only`: only the paths to findings are drawn, nothing folded.
    """
    affiliate = answer["affiliate"]["id"]
    wanted = [*answer["findings"]] if findings_only else [*answer["findings"], *answer["agencies"]]
    factories = answer["factories"]
    if fold is None:
        fold = len(factories) > FOLD_ABOVE
    open_groups = set(expand)
    if not findings_only:
        wanted += [f for f in factories if not fold or group_name(f) in open_groups]
    paths = [[affiliate]] + [list(item["path"]) for item in wanted if item["path"]]
    drawn = {i for path in paths for i in path}
    rest = [f for f in factories if f["id"] not in drawn]
    if findings_only:
        return FoldPlan(paths, drawn, {}, {}, omitted=len(rest))
    groups: dict[str, FoldGroup] = {}
    folded_of: dict[str, str] = {}
    for f in rest:
        name = group_name(f)
        folded_of[f["id"]] = name
        groups.setdefault(name, FoldGroup(int(f["tier"]), str(f.get("country") or "unknown"))).factories.append(f["id"])
    for f in rest:
        group = groups[folded_of[f["id"]]]
        for node_id in reversed(f["path"][:-1]):  # the nearest node before it that the view shows
            if node_id in folded_of:
                if folded_of[node_id] != group.name:
                    group.parents.add(FOLD_PREFIX + folded_of[node_id])
                break
            if node_id in drawn:
                group.parents.add(node_id)
                break
    for group in groups.values():
        group.factories.sort()
    return FoldPlan(paths, drawn, dict(sorted(groups.items(), key=lambda kv: (kv[1].tier, kv[1].country))), folded_of)
