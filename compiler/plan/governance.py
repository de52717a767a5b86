"""Breaking-change rules for governance: packs, policies, severity overrides, parameters, waivers.

Lowered governance is an error whether or not it flips a verdict today: a
pack removed from `policies.packs`, a rule turned off or softened by a
severity override, a bound parameter loosened. The next spec it would have
caught is not in this change. A waiver added or extended is a warning that
names its approvers, so reviewers see who signed the exception.

Which way a parameter loosens is read from its name, as the packs declare
them: `max...` is an upper bound (raising it loosens), `min...` a lower bound
(lowering it loosens). Any other numeric parameter that changes needs a
reviewer's judgement, so it is a warning that says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from compiler.core.codes import severity_of
from compiler.core.diagnostics import Flip, PathSegment, Severity
from compiler.core.models.policy import Policy
from compiler.core.models.project import PolicyConfig, Project
from compiler.core.models.waiver import Waiver
from compiler.plan.changes import SpecChange
from compiler.plan.rules import Context, Found, both_versions, flip_found
from compiler.stages import builtin_packs, policy_files

_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2, "off": 3}
_UPPER_BOUND = re.compile(r"^max(?:[A-Z0-9_]|$)")
_LOWER_BOUND = re.compile(r"^min(?:[A-Z0-9_]|$)")
_OVERRIDES: tuple[PathSegment, ...] = ("spec", "policies", "severityOverrides")
_PARAMS: tuple[PathSegment, ...] = ("spec", "policies", "params")


def _projects(change: SpecChange) -> tuple[PolicyConfig, PolicyConfig] | None:
    if (pair := both_versions(change)) is None:
        return None
    old, new = pair[0].spec.model, pair[1].spec.model
    if not isinstance(old, Project) or not isinstance(new, Project):
        return None
    return old.spec.policies, new.spec.policies


def _policy(context: Context, name: str, *, head: bool) -> Policy | None:
    located = context.find("Policy", name, head=head)
    model = located.spec.model if located is not None else None
    return model if isinstance(model, Policy) else None


def _tally(flips: list[Flip], context: Context) -> tuple[str, tuple[str, ...]]:
    """`; flips 1 verdict (1 now pass)` or nothing, and the owners of the specs that flip."""
    if not flips:
        return "", ()
    found = flip_found(flips, "", context)
    return "; " + found.message.removeprefix(": "), found.concerns


# --- packs --------------------------------------------------------------------------------


def _pack_policies(context: Context, pack: str) -> list[str]:
    """Names of the base revision's Policy specs that come from a built-in pack's files."""
    directory = builtin_packs().get(pack)
    if directory is None:
        return []
    tails = {PurePath(pack, path.relative_to(directory)).as_posix() for path in policy_files(directory)}
    return sorted(
        located.name
        for located in context.base.specs
        if located.kind == "Policy" and any(located.file.endswith("/" + tail) for tail in tails)
    )


def pack_removed(change: SpecChange, context: Context) -> Iterator[Found]:
    if (configs := _projects(change)) is None:
        return
    for pack in [pack for pack in configs[0].packs if pack not in configs[1].packs]:
        policies = _pack_policies(context, pack)
        flips = [flip for flip in context.flips if flip.policy in policies]
        tally, concerns = _tally(flips, context)
        named = f" ({', '.join(f'`{name}`' for name in policies)})" if policies else ""
        yield Found(
            f"policy pack `{pack}` removed from policies.packs: its policies{named} no longer run{tally}",
            ("spec", "policies", "packs"),
            concerns=concerns,
            flips=tuple(flips),
        )


# --- severity overrides -----------------------------------------------------------------


@dataclass(frozen=True)
class _Softened:
    key: str
    rules: tuple[tuple[str, str, str], ...]  # (rule, before, after)


def _effective(overrides: Mapping[str, str], policy: str, rule: str, declared: str) -> str:
    return overrides.get(f"{policy}/{rule}", overrides.get(policy, declared))


def _softened(configs: tuple[PolicyConfig, PolicyConfig], context: Context) -> list[_Softened]:
    """Override keys whose change lowers the severity of at least one rule they cover."""
    old, new = dict(configs[0].severity_overrides), dict(configs[1].severity_overrides)
    found = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        policy_name, _, rule_name = key.partition("/")
        policy = _policy(context, policy_name, head=True) or _policy(context, policy_name, head=False)
        # An unknown rule is assumed to be an error rule: the override may be meant for a policy to come.
        declared = {v.name: v.severity for v in policy.spec.validations} if policy else {rule_name or key: "error"}
        rules = [rule_name] if rule_name else list(declared)
        lowered = []
        for rule in rules:
            before = _effective(old, policy_name, rule, declared.get(rule, "error"))
            after = _effective(new, policy_name, rule, declared.get(rule, "error"))
            if _SEVERITY_RANK[after] > _SEVERITY_RANK[before]:
                lowered.append((rule, before, after))
        if lowered:
            found.append(_Softened(key, tuple(lowered)))
    return found


def _softened_message(item: _Softened) -> str:
    if "/" in item.key:
        _, before, after = item.rules[0]
        if after == "off":
            return f"rule `{item.key}` turned off by severityOverrides (was {before})"
        return f"rule `{item.key}` softened by severityOverrides: {before} -> {after}"
    shown = ", ".join(f"`{rule}` {before} -> {after}" for rule, before, after in item.rules)
    return f"policy `{item.key}` softened by severityOverrides: {shown}"


def rule_softened(change: SpecChange, context: Context) -> Iterator[Found]:
    if (configs := _projects(change)) is None:
        return
    for item in _softened(configs, context):
        policy = item.key.split("/", 1)[0]
        flips = [flip for flip in context.flips if flip.policy == policy]
        tally, concerns = _tally(flips, context)
        in_head = item.key in configs[1].severity_overrides
        yield Found(
            _softened_message(item) + tally,
            (*_OVERRIDES, item.key),
            on_base=not in_head,
            concerns=concerns,
            flips=tuple(flips),
        )


# --- parameters ----------------------------------------------------------------------------


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def bound_direction(name: str) -> str | None:
    """`upper` for a `max...` parameter, `lower` for a `min...` one, None when the name does not say."""
    return "upper" if _UPPER_BOUND.match(name) else "lower" if _LOWER_BOUND.match(name) else None


def by_value(value: Any) -> Any:
    """A parameter as a policy reads it: a quoted number (`"0.5"`) is read through `double()` as 0.5."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _param_found(label: str, old: Any, new: Any, path: tuple[PathSegment, ...], on_base: bool) -> Found | None:
    """A loosened bound (error), or a numeric change whose direction the name does not tell (warning)."""
    old, new = by_value(old), by_value(new)
    if not (_number(old) and _number(new)) or old == new:
        return None
    direction = bound_direction(label.rsplit(".", 1)[-1])
    if direction is not None:
        upper = direction == "upper"
        if (new > old) if upper else (new < old):
            kind = "an upper" if upper else "a lower"
            return Found(f"parameter `{label}` loosened: {old} -> {new} ({kind} bound)", path, on_base=on_base)
        return None
    return Found(
        f"parameter `{label}` changed: {old} -> {new}: its name does not say which way is looser; review it",
        path,
        on_base=on_base,
        # A finding of policy-param-changed, with that code's severity; `param_changed` picks these out.
        severity=severity_of("CH664"),
    )


def _project_params(configs: tuple[PolicyConfig, PolicyConfig], context: Context) -> Iterator[Found]:
    old, new = configs[0].params, configs[1].params
    for policy_name in sorted(set(old) | set(new)):
        base, head = _policy(context, policy_name, head=False), _policy(context, policy_name, head=True)
        defaults_before = base.spec.params if base else {}
        defaults_after = head.spec.params if head else {}
        names = set(old.get(policy_name, {})) | set(new.get(policy_name, {}))
        for name in sorted(names):
            before = old.get(policy_name, {}).get(name, defaults_before.get(name))
            after = new.get(policy_name, {}).get(name, defaults_after.get(name))
            in_head = name in new.get(policy_name, {})
            found = _param_found(f"{policy_name}.{name}", before, after, (*_PARAMS, policy_name, name), not in_head)
            if found is not None:
                yield found


def _policy_defaults(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := both_versions(change)) is None:
        return
    old, new = pair[0].spec.model, pair[1].spec.model
    if not isinstance(old, Policy) or not isinstance(new, Policy):
        return
    project = context.head.result.project
    overridden = set(project.spec.policies.params.get(change.name, {})) if project else set()
    for name in sorted((set(old.spec.params) | set(new.spec.params)) - overridden):
        before, after = old.spec.params.get(name), new.spec.params.get(name)
        in_head = name in new.spec.params
        found = _param_found(f"{change.name}.{name}", before, after, ("spec", "params", name), not in_head)
        if found is not None:
            yield found


def _params(change: SpecChange, context: Context) -> Iterator[Found]:
    if change.kind == "Policy":
        yield from _policy_defaults(change, context)
    elif (configs := _projects(change)) is not None:
        yield from _project_params(configs, context)


def param_loosened(change: SpecChange, context: Context) -> Iterator[Found]:
    yield from (found for found in _params(change, context) if found.severity is None)


def param_changed(change: SpecChange, context: Context) -> Iterator[Found]:
    yield from (found for found in _params(change, context) if found.severity is not None)


# --- waivers -----------------------------------------------------------------------------------


def _waivers(change: SpecChange) -> tuple[Waiver | None, Waiver | None]:
    old = change.base.spec.model if change.base is not None else None
    new = change.head.spec.model if change.head is not None else None
    return (old if isinstance(old, Waiver) else None), (new if isinstance(new, Waiver) else None)


def _extended(change: SpecChange) -> bool:
    old, new = _waivers(change)
    return old is not None and new is not None and new.spec.expires > old.spec.expires


def _waiver_flips(waiver: Waiver, context: Context) -> list[Flip]:
    target = context.find(waiver.spec.target.kind, waiver.spec.target.name, head=True)
    name = target.name if target is not None else waiver.spec.target.name
    key = (waiver.spec.policy, waiver.spec.target.kind, name)
    return [flip for flip in context.flips if (flip.policy, flip.kind, flip.name) == key]


def _waiver_found(waiver: Waiver, what: str, path: tuple[PathSegment, ...], context: Context) -> Found:
    body = waiver.spec
    rule = f"{body.policy}/{body.rule}" if body.rule else f"every rule of {body.policy}"
    flips = _waiver_flips(waiver, context)
    tally, concerns = _tally(flips, context)
    message = (
        f"waiver `{waiver.metadata.name}` {what}: waives `{rule}` on {body.target.kind} `{body.target.name}` "
        f"until {body.expires.isoformat()}; approved by {', '.join(body.approvers)}{tally}"
    )
    return Found(message, path, concerns=(*concerns, *body.approvers), flips=tuple(flips))


def waiver_added(change: SpecChange, context: Context) -> Iterator[Found]:
    new = _waivers(change)[1]
    if change.status == "added" and new is not None:
        yield _waiver_found(new, "added", ("metadata", "name"), context)


def waiver_extended(change: SpecChange, context: Context) -> Iterator[Found]:
    old, new = _waivers(change)
    if old is not None and new is not None and _extended(change):
        what = f"extended from {old.spec.expires.isoformat()}"
        yield _waiver_found(new, what, ("spec", "expires"), context)


# --- what else changed, by the verdicts it flips -------------------------------------------


def _removed_packs(context: Context) -> list[str]:
    projects = [snapshot.result.project for snapshot in (context.base, context.head)]
    if projects[0] is None or projects[1] is None:
        return []
    return [pack for pack in projects[0].spec.policies.packs if pack not in projects[1].spec.policies.packs]


def policy_changed(change: SpecChange, context: Context) -> Iterator[Found]:
    if change.status == "removed" and any(change.name in _pack_policies(context, p) for p in _removed_packs(context)):
        return  # policy-pack-removed says it, at the line of charter.yaml that removed it
    flips = [flip for flip in context.flips if flip.policy == change.name]
    yield flip_found(flips, change.status, context)


def waiver_changed(change: SpecChange, context: Context) -> Iterator[Found]:
    if change.status == "added" or _extended(change):
        return  # waiver-added and waiver-extended say more
    targets: set[tuple[str, str, str]] = set()
    approvers: list[str] = []
    notes = []
    for located in (change.base, change.head):
        waiver = located.spec.model if located is not None else None
        if not isinstance(waiver, Waiver):
            continue
        body = waiver.spec
        target = context.find(body.target.kind, body.target.name, head=located is change.head)
        targets.add((body.policy, body.target.kind, target.name if target else body.target.name))
        approvers.extend(body.approvers)
    old, new = (change.base.spec.model if change.base else None), (change.head.spec.model if change.head else None)
    if isinstance(old, Waiver) and isinstance(new, Waiver) and old.spec.expires != new.spec.expires:
        notes.append(f"expires {old.spec.expires.isoformat()} -> {new.spec.expires.isoformat()}")
    flips = [flip for flip in context.flips if (flip.policy, flip.kind, flip.name) in targets]
    found = flip_found(flips, change.status, context)
    severity = Severity.WARNING if flips else Severity.INFO
    yield Found(
        found.message,
        severity=severity,
        concerns=(*found.concerns, *approvers),
        flips=found.flips,
        note="; ".join(notes) or None,
    )


def _unreported_settings(configs: tuple[PolicyConfig, PolicyConfig], context: Context) -> set[str]:
    """Policies whose overrides or parameters changed in ways no governance rule above reported."""
    old, new = configs
    softened = {item.key for item in _softened(configs, context)}
    touched = {
        key.split("/", 1)[0]
        for key in set(old.severity_overrides) | set(new.severity_overrides)
        if old.severity_overrides.get(key) != new.severity_overrides.get(key) and key not in softened
    }
    reported = {found.path[-2:] for found in _project_params(configs, context)}
    for policy in set(old.params) | set(new.params):
        before, after = old.params.get(policy, {}), new.params.get(policy, {})
        if any(before.get(n) != after.get(n) and (policy, n) not in reported for n in set(before) | set(after)):
            touched.add(policy)
    return touched


def policy_settings_changed(change: SpecChange, context: Context) -> Iterator[Found]:
    if (configs := _projects(change)) is None:
        return
    touched = _unreported_settings(configs, context)
    if not touched:
        return
    flips = [flip for flip in context.flips if flip.policy in touched]
    found = flip_found(flips, f"severity overrides or parameters changed for {', '.join(sorted(touched))}", context)
    yield Found(
        found.message, ("spec", "policies"), severity=found.severity, concerns=found.concerns, flips=tuple(flips)
    )
