"""Breaking-change rules for fields no policy stands behind: slices, trust settings, widened waivers.

The cross check (`compiler.plan.crossed`) covers what a policy judges. Some fields decide what is judged, or
whose code runs, without any policy reading them: a slice's definition (its bounds then guard another
population), the Charter the pipelines install, the cloud role they assume, where they write and which
repository Argo CD pulls, and which rules a waiver covers. Each change to them is an error that an owner's
approval settles (`compiler.plan.approvals`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from compiler.core.diagnostics import PathSegment, format_path
from compiler.core.models.suite import EvaluationSuite
from compiler.core.models.waiver import Waiver
from compiler.plan.causes import shown
from compiler.plan.changes import SpecChange, content
from compiler.plan.rules import Context, Found, both_versions

# What in the Project decides whose code runs with the pipelines' credentials, and where they write.
TRUST_SETTINGS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("ci", "charter", "repository"), "the repository the pipelines install Charter from"),
    (("ci", "charter", "commit"), "the commit the pipelines install Charter from"),
    (("cloud",), "the cloud identity the pipelines assume"),
    (("outputs",), "where Charter writes workflows, manifests and cards"),
    (("deployment", "repoUrl"), "the repository Argo CD pulls deployments from"),
)


def slice_redefined(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := both_versions(change)) is None:
        return
    old, new = pair[0].spec.model, pair[1].spec.model
    if not isinstance(old, EvaluationSuite) or not isinstance(new, EvaluationSuite):
        return
    before = {item.name: item for item in old.spec.slices}
    for index, item in enumerate(new.spec.slices):
        was = before.get(item.name)
        if was is None or (was.feature, was.values) == (item.feature, item.values):
            continue
        yield Found(
            f"slice `{item.name}` redefined: `{shown(was.feature)}` in {shown(was.values)} -> "
            f"`{shown(item.feature)}` in {shown(item.values)}: its bounds now guard another population",
            ("spec", "slices", index),
        )


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def trust_setting_changed(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := both_versions(change)) is None or change.kind != "Project":
        return
    old, new = content(pair[0]), content(pair[1])
    for section, meaning in TRUST_SETTINGS:
        path = ("spec", *section)
        before, after = _dig(old, path), _dig(new, path)
        if before == after:
            continue
        where: tuple[PathSegment, ...] = path if after is not None else path[:-1]
        yield Found(
            f"`{format_path(path)}` ({meaning}) changed: {_value(before)} -> {_value(after)}",
            where,
            on_base=_dig(new, path[:-1]) is None,
        )


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_value(item)}" for key, item in value.items() if item is not None) + "}"
    return f"`{shown(value)}`" if value is not None else "none"


def waiver_widened(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := both_versions(change)) is None:
        return
    old, new = pair[0].spec.model, pair[1].spec.model
    if not isinstance(old, Waiver) or not isinstance(new, Waiver):
        return
    before, after = old.spec, new.spec
    if before.rule is not None and after.rule is None:
        yield Found(
            f"waiver `{change.name}` widened: its rule `{before.rule}` was removed, so it waives every rule of "
            f"`{after.policy}` on {after.target.kind} `{after.target.name}`",
            ("spec", "policy"),
        )
    elif (before.policy, before.target) != (after.policy, after.target):
        yield Found(
            f"waiver `{change.name}` moved: `{before.policy}` on {before.target.kind} `{before.target.name}` -> "
            f"`{after.policy}` on {after.target.kind} `{after.target.name}`",
            ("spec", "target") if before.target != after.target else ("spec", "policy"),
        )
