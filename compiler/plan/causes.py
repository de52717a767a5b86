"""Where a change hid a finding: the lines that weakened governance, for `compiler.plan.crossed`.

A finding the base's governance raises on the head, and the head's does not, was hidden by one or more of:
a waiver that waives it (added, widened to every rule, extended, retargeted), a severity override, the policy
itself (a rule's expression, severity or removal, the match, variables, defaults, a second policy of the same
name, the policy gone), a Project parameter, or the classification of the spec it is about (a label, a risk
tier, the tier of an environment the model deploys to). Each is located in the head, where a reviewer sees it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from compiler.core.diagnostics import Diagnostic, PathSegment
from compiler.core.models.model import Model
from compiler.core.models.policy import Policy
from compiler.core.models.project import Project
from compiler.core.models.waiver import Waiver
from compiler.core.specs import Spec
from compiler.stages import Checked, classification

_POLICIES: tuple[PathSegment, ...] = ("spec", "policies")
_RANK = {"error": 0, "warning": 1, "info": 2, "off": 3}


@dataclass(frozen=True)
class Cause:
    """One place in the head that weakened governance, and what it did (said to the reviewer)."""

    spec: Spec = field(compare=False, hash=False)
    path: tuple[PathSegment, ...]
    what: str
    file: str = ""
    document: int = 0

    @classmethod
    def at(cls, spec: Spec, path: tuple[PathSegment, ...], what: str) -> Cause:
        return cls(spec, path, what, spec.file, spec.document.index)


def shown(value: Any) -> str:
    """A value as a reviewer must see it: look-alike letters (a Cyrillic `і`) escaped, so they stand out."""
    text = value if isinstance(value, str) else repr(value)
    return text.encode("ascii", "backslashreplace").decode("ascii")


def causes(finding: Diagnostic, target: Spec, base: Checked, head: Checked) -> list[Cause]:
    found = [
        *_waivers(finding, base, head),
        *_overrides(finding, base, head),
        *_policies(finding, base, head),
        *_params(finding, base, head),
        *_classification(target, base, head),
    ]
    if not found and (project := _project(head)) is not None:
        found.append(Cause.at(project, _POLICIES, "the governance of this change differs from the base revision's"))
    return list(dict.fromkeys(found))


def _project(checked: Checked) -> Spec | None:
    return next((spec for spec in checked.specs if spec.kind == "Project"), None)


def _named(specs: list[Spec], kind: str, name: str) -> list[Spec]:
    return [spec for spec in specs if spec.kind == kind and spec.name == name]


# --- waivers ------------------------------------------------------------------------------------


def _waivers(finding: Diagnostic, base: Checked, head: Checked) -> Iterator[Cause]:
    key = (finding.policy, finding.rule, finding.file, finding.document)
    names = {d.waiver for d in head.diagnostics if (d.policy, d.rule, d.file, d.document) == key and d.waiver}
    for name in sorted(str(name) for name in names):
        for spec in _named(head.specs, "Waiver", name):
            before = next(iter(_named(base.specs, "Waiver", name)), None)
            yield _waiver_cause(spec, before)


def _waiver_cause(spec: Spec, before: Spec | None) -> Cause:
    waiver = spec.model
    assert isinstance(waiver, Waiver)
    body = waiver.spec
    old = before.model.spec if before is not None and isinstance(before.model, Waiver) else None
    if old is None:
        return Cause.at(spec, ("metadata", "name"), f"waiver `{spec.name}` added")
    if old.rule is not None and body.rule is None:
        what = f"waiver `{spec.name}` widened to every rule of `{body.policy}` (its rule removed)"
        return Cause.at(spec, ("spec", "policy"), what)
    if body.expires > old.expires:
        what = f"waiver `{spec.name}` extended: {old.expires.isoformat()} -> {body.expires.isoformat()}"
        return Cause.at(spec, ("spec", "expires"), what)
    if (old.policy, old.rule, old.target) != (body.policy, body.rule, body.target):
        return Cause.at(spec, ("spec", "target"), f"waiver `{spec.name}` now waives another rule or target")
    return Cause.at(spec, ("metadata", "name"), f"waiver `{spec.name}` changed")


# --- severity overrides and parameters ----------------------------------------------------------------


def _settings(checked: Checked) -> tuple[Mapping[str, str], Mapping[str, Mapping[str, Any]]]:
    project: Project | None = checked.project
    if project is None:
        return {}, {}
    return project.spec.policies.severity_overrides, project.spec.policies.params


def _overrides(finding: Diagnostic, base: Checked, head: Checked) -> Iterator[Cause]:
    """Overrides of the finding's rule or policy that the change set lower, or removed (when they raised it)."""
    project = _project(head)
    (before, _), (after, _) = _settings(base), _settings(head)
    hidden = finding.severity.value  # what the base's governance makes of the rule, overrides included
    for key in (f"{finding.policy}/{finding.rule}", str(finding.policy)):
        if project is None or after.get(key) == before.get(key):
            continue
        if key not in after:
            where = (*_POLICIES, "severityOverrides") if after else _POLICIES
            yield Cause.at(project, where, f"severity override `{key}: {before[key]}` removed")
        elif _RANK[after[key]] > _RANK[hidden]:
            was = f" (was {before[key]})" if key in before else ""
            path = (*_POLICIES, "severityOverrides", key)
            yield Cause.at(project, path, f"severity override `{key}: {after[key]}` set{was}")


def _params(finding: Diagnostic, base: Checked, head: Checked) -> Iterator[Cause]:
    project, policy = _project(head), str(finding.policy)
    (_, before), (_, after) = _settings(base), _settings(head)
    old, new = before.get(policy, {}), after.get(policy, {})
    defaults = next(
        (spec.model.spec.params for spec in base.policies if spec.name == policy and isinstance(spec.model, Policy)), {}
    )
    for name in sorted(set(old) | set(new)):
        if project is not None and old.get(name) != new.get(name):
            yield _param_cause(project, policy, name, old.get(name, defaults.get(name)), new.get(name))


def _param_cause(project: Spec, policy: str, name: str, old: Any, new: Any) -> Cause:
    path: tuple[PathSegment, ...] = (*_POLICIES, "params", policy, name) if new is not None else _POLICIES
    return Cause.at(project, path, f"parameter `{policy}.{name}` changed: {_param(old)} -> {_param(new)}")


def _param(value: Any) -> str:
    if value is None:
        return "the policy's default"
    if isinstance(value, str):
        return f"the string {shown(repr(value))}"
    return shown(repr(value))


# --- the policy itself -----------------------------------------------------------------------------


def _policies(finding: Diagnostic, base: Checked, head: Checked) -> Iterator[Cause]:
    name = str(finding.policy)
    old = next((spec for spec in base.policies if spec.name == name), None)
    new = [spec for spec in head.policies if spec.name == name]
    if not new:
        project = _project(head)
        if project is not None:
            yield Cause.at(project, _POLICIES, f"policy `{name}` no longer runs")
        return
    if old is None or not isinstance(old.model, Policy):
        return
    for spec in new:
        if len(new) > 1 and spec.file != old.file:
            yield Cause.at(spec, ("metadata", "name"), f"a second policy named `{name}` defined in {spec.file}")
        elif isinstance(spec.model, Policy):
            yield from _policy_changes(spec, old.model, spec.model, finding.rule)


def _policy_changes(spec: Spec, old: Policy, new: Policy, rule: str | None) -> Iterator[Cause]:
    name = spec.name
    if old.spec.match != new.spec.match:
        yield Cause.at(spec, ("spec", "match"), f"policy `{name}`: its match changed")
    if old.spec.variables != new.spec.variables:
        yield Cause.at(spec, ("spec", "variables"), f"policy `{name}`: its variables changed")
    for param in sorted(set(old.spec.params) | set(new.spec.params)):
        if old.spec.params.get(param) != new.spec.params.get(param):
            path: tuple[PathSegment, ...] = ("spec", "params", param) if param in new.spec.params else ("spec",)
            was, now = shown(old.spec.params.get(param)), shown(new.spec.params.get(param))
            yield Cause.at(spec, path, f"policy `{name}`: default `{param}` changed: {was} -> {now}")
    yield from _rule_changes(spec, old, new, rule)


def _rule_changes(spec: Spec, old: Policy, new: Policy, rule: str | None) -> Iterator[Cause]:
    name = spec.name
    before = {v.name: v for v in old.spec.validations}
    after = {v.name: (index, v) for index, v in enumerate(new.spec.validations)}
    if rule is not None and rule in before and rule not in after:
        yield Cause.at(spec, ("spec", "validations"), f"rule `{name}/{rule}` removed")
    if rule is not None and rule in before and rule in after:
        index, validation = after[rule]
        for part, label in (("expression", "expression"), ("severity", "severity"), ("waivable", "waivable")):
            if getattr(before[rule], part) != getattr(validation, part):
                yield Cause.at(spec, ("spec", "validations", index, part), f"rule `{name}/{rule}`: its {label} changed")


# --- classification ---------------------------------------------------------------------------------


def _classification(target: Spec, base: Checked, head: Checked) -> Iterator[Cause]:
    specs = [target]
    if isinstance(target.model, Model):
        environments = {deployment.environment for deployment in target.model.spec.deployments}
        specs += [spec for spec in head.specs if spec.kind == "Environment" and spec.name in environments]
    for spec in specs:
        before = next((found for s in _named(base.specs, spec.kind, spec.name) if (found := classification(s))), None)
        after = classification(spec)
        if before is None or after is None:
            continue
        for key, value in sorted(before.labels.items()):
            if after.labels.get(key) != value:
                path: tuple[PathSegment, ...] = ("metadata", "labels", key) if key in after.labels else ("metadata",)
                now = f"`{shown(after.labels[key])}`" if key in after.labels else "removed"
                yield Cause.at(spec, path, f"{spec.label}: label `{key}` changed: `{shown(value)}` -> {now}")
        if before.tier != after.tier:
            field_name = "riskTier" if spec.kind == "Model" else "tier"
            what = f"{spec.label}: {field_name} changed: {before.tier} -> {after.tier}"
            yield Cause.at(spec, ("spec", field_name), what)
