"""Breaking changes: what a change does to the people downstream of a spec.

One small function per rule, all registered in `RULES` at the bottom. A
rule sees one changed spec (both versions) and the two checked revisions,
and yields what it found; the runner adds the place, the severity and the
people each change concerns: the spec's owners (`metadata.owner`, or the
ODCS `team` of a contract) and the owners of every spec that uses it.

Severities: `error` for what breaks consumers (a column removed, renamed
or narrowed, a model's inputs or output changed) or lowers a protection
(classification, fairness bounds, risk tier, approvals, a policy verdict
turned to pass); `warning` for weakened guarantees (quality rules, SLAs,
performance bounds, canary traffic); `info` for governance changes that
flip no verdict. A breaking change to a contract's columns or a model's
interface that comes with a new major version (`2.3.0` -> `3.0.0`) is
announced, so it is a warning; lowered protections never are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from compiler.core.diagnostics import PASS, VERDICT_RANK, Flip, PathSegment, Severity
from compiler.core.models import CONTRACT_KIND
from compiler.core.models.environment import Environment
from compiler.core.models.model import Model
from compiler.core.models.suite import EvaluationSuite
from compiler.integrations.gitops.snapshot import Located, Snapshot
from compiler.plan.changes import SpecChange
from compiler.plan.contract_changes import (
    classification_lowered,
    column_removed,
    column_renamed,
    contract_removed,
    enum_values_removed,
    quality_weakened,
    required_added,
    sla_weakened,
    type_narrowed,
)
from compiler.plan.endpoints import endpoints_widened, trusted_only_by_head
from compiler.plan.governance import (
    pack_removed,
    param_changed,
    param_loosened,
    policy_changed,
    policy_settings_changed,
    rule_softened,
    waiver_added,
    waiver_changed,
    waiver_extended,
)
from compiler.plan.rules import BreakingChange, Context, Found, Rule, both_versions
from compiler.plan.trust import slice_redefined, trust_setting_changed, waiver_widened

_RISK_TIERS = ("minimal", "limited", "high", "unacceptable")


def breaking_changes(changes: Iterable[SpecChange], context: Context) -> list[BreakingChange]:
    found: list[BreakingChange] = []
    for change in changes:
        for rule in RULES:
            if change.kind in rule.kinds:
                found.extend(_place(rule, change, item, context) for item in rule.check(change, context))
    return sorted(found, key=lambda c: (c.severity.rank, c.kind or "", c.name or "", c.rule or "", c.message))


def _place(rule: Rule, change: SpecChange, found: Found, context: Context) -> BreakingChange:
    located = change.base if found.on_base or change.head is None else change.head
    assert located is not None
    span = located.spec.span(found.path) if found.path else located.spec.span(_name_path(located))
    severity = found.severity or rule.severity
    note = found.note
    if rule.announced_by_major_version and severity is Severity.ERROR:
        bump = _major_bump(change)
        if bump is not None:
            severity, note = Severity.WARNING, f"announced by the major version bump {bump}"
    concerns = [*context.owners(change.head), *context.owners(change.base)]
    for user in context.users(change.kind, change.name):
        concerns.extend(context.owners(user))
    concerns.extend(found.concerns)
    return BreakingChange(
        rule.code,
        severity,
        found.message,
        located.file,
        span.line,
        span.column,
        span.end_line,
        span.end_column,
        found.path,
        rule=rule.id,
        kind=change.kind,
        name=change.name,
        concerns=tuple(dict.fromkeys(concerns)),
        flips=found.flips,
        note=note,
    )


def _name_path(located: Located) -> tuple[PathSegment, ...]:
    return ("id",) if located.spec.contract is not None else ("metadata", "name")


def verdict_flips(base: Snapshot, head: Snapshot) -> list[Flip]:
    before, after = _verdicts(base), _verdicts(head)
    flips = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, PASS), after.get(key, PASS)
        if old != new:
            flips.append(Flip(key[0], key[1], key[2], old, new))
    return flips


def _verdicts(snapshot: Snapshot) -> dict[tuple[str, str, str], str]:
    """(policy, kind, name) -> the worst unwaived severity of that policy's findings there."""
    targets = snapshot.targets()
    verdicts: dict[tuple[str, str, str], str] = {}
    for d in snapshot.result.diagnostics:
        target = targets.get((d.file, d.document))
        if d.policy is None or target is None or target.kind in ("Policy", "Waiver", "Project"):
            continue
        key = (d.policy, target.kind, target.name)
        value = PASS if d.suppressed else d.severity.value
        if VERDICT_RANK[value] < VERDICT_RANK[verdicts.get(key, PASS)]:
            verdicts[key] = value
        verdicts.setdefault(key, value)
    return verdicts


# --- shared helpers ------------------------------------------------------------------


def _major(version: str | None) -> int | None:
    match = re.match(r"^v?(\d+)", version or "")
    return int(match.group(1)) if match else None


def _major_bump(change: SpecChange) -> str | None:
    if change.base is None or change.head is None:
        return None
    versions = []
    for located in (change.base, change.head):
        if located.spec.contract is not None:
            versions.append(located.spec.contract.version)
        elif isinstance(located.spec.model, Model):
            versions.append(located.spec.model.spec.version)
        else:
            return None
    old, new = _major(versions[0]), _major(versions[1])
    if old is not None and new is not None and new > old:
        return f"{versions[0]} -> {versions[1]}"
    return None


def _deployments(model: Model) -> dict[str, tuple[int, int | None]]:
    """environment -> (index in deployments, canary traffic percent or None)."""
    return {
        deployment.environment: (index, deployment.canary.traffic_percent if deployment.canary else None)
        for index, deployment in enumerate(model.spec.deployments)
    }


def _bounds(suite: EvaluationSuite, group: str) -> dict[tuple[str, str], tuple[int, float | None, float | None]]:
    out: dict[tuple[str, str], tuple[int, float | None, float | None]] = {}
    if group == "metrics":
        for index, bound in enumerate(suite.spec.metrics):
            out.setdefault((bound.metric, bound.slice or ""), (index, bound.min, bound.max))
    else:
        for index, check in enumerate(suite.spec.fairness):
            out.setdefault((check.metric, check.sensitive_feature), (index, check.min, check.max))
    return out


def _suite_pairs(change: SpecChange, context: Context) -> Iterator[tuple[Located, Located, str]]:
    """(old suite, new suite, how): a suite's own change, or a model that switched suites."""
    pair = both_versions(change)
    if pair is None:
        return
    old, new = pair
    if change.kind == "EvaluationSuite":
        yield old, new, ""
        return
    old_model, new_model = old.spec.model, new.spec.model
    if not isinstance(old_model, Model) or not isinstance(new_model, Model):
        return
    before, after = old_model.spec.evaluation.suite, new_model.spec.evaluation.suite
    if before == after:
        return
    old_suite = context.find("EvaluationSuite", before, head=False)
    new_suite = context.find("EvaluationSuite", after, head=True)
    if old_suite is not None and new_suite is not None:
        yield old_suite, new_suite, f" (the model moved from suite `{before}` to `{after}`)"


def _loosened_bounds(
    old: Located, new: Located, group: str, how: str, moved: bool
) -> Iterator[tuple[str, tuple[PathSegment, ...], bool]]:
    old_suite, new_suite = old.spec.model, new.spec.model
    if not isinstance(old_suite, EvaluationSuite) or not isinstance(new_suite, EvaluationSuite):
        return
    before, after = _bounds(old_suite, group), _bounds(new_suite, group)
    noun = "metric" if group == "metrics" else "fairness check"
    for key, (index, old_min, old_max) in before.items():
        where = f" on `{key[1]}`" if key[1] else ""
        if key not in after:
            path: tuple[PathSegment, ...] = () if moved else ("spec", group, index)
            yield f"{noun} `{key[0]}`{where} removed{how}", path, not moved
            continue
        new_index, new_min, new_max = after[key]
        loosened = []
        if old_min is not None and (new_min is None or new_min < old_min):
            loosened.append(f"min {old_min} -> {new_min if new_min is not None else 'none'}")
        if old_max is not None and (new_max is None or new_max > old_max):
            loosened.append(f"max {old_max} -> {new_max if new_max is not None else 'none'}")
        if loosened:
            path = () if moved else ("spec", group, new_index)
            yield f"{noun} `{key[0]}`{where} loosened: {', '.join(loosened)}{how}", path, False


# --- data contracts ------------------------------------------------------------------


# --- models and suites -------------------------------------------------------------------


def _models(change: SpecChange) -> tuple[Model, Model] | None:
    pair = both_versions(change)
    if pair is None:
        return None
    old, new = pair[0].spec.model, pair[1].spec.model
    return (old, new) if isinstance(old, Model) and isinstance(new, Model) else None


def features_changed(change: SpecChange, context: Context) -> Iterator[Found]:
    if (models := _models(change)) is None:
        return
    old, new = models[0].spec.features, models[1].spec.features
    removed = [f for f in old if f not in new]
    added = [f for f in new if f not in old]
    parts = []
    if removed:
        parts.append("removed " + ", ".join(f"`{f}`" for f in removed))
    if added:
        parts.append("added " + ", ".join(f"`{f}`" for f in added))
    if parts:
        yield Found(f"features changed: {'; '.join(parts)}: the model's inputs differ", ("spec", "features"))
    elif old != new:
        yield Found("features reordered", ("spec", "features"), severity=Severity.WARNING)


def label_changed(change: SpecChange, context: Context) -> Iterator[Found]:
    if (models := _models(change)) is None:
        return
    old, new = models[0].spec.label, models[1].spec.label
    if old != new:
        yield Found(f"label changed: `{old}` -> `{new}`: the model predicts something else", ("spec", "label"))


def _tiers(change: SpecChange) -> tuple[str, str, int] | None:
    if (models := _models(change)) is None:
        return None
    old, new = models[0].spec.risk_tier, models[1].spec.risk_tier
    return old, new, _RISK_TIERS.index(new) - _RISK_TIERS.index(old)


def risk_tier_lowered(change: SpecChange, context: Context) -> Iterator[Found]:
    tiers = _tiers(change)
    if tiers is not None and tiers[2] < 0:
        yield Found(f"risk tier lowered: {tiers[0]} -> {tiers[1]}: fewer obligations apply", ("spec", "riskTier"))


def risk_tier_raised(change: SpecChange, context: Context) -> Iterator[Found]:
    tiers = _tiers(change)
    if tiers is not None and tiers[2] > 0:
        yield Found(f"risk tier raised: {tiers[0]} -> {tiers[1]}: more obligations apply", ("spec", "riskTier"))


def metric_loosened(change: SpecChange, context: Context) -> Iterator[Found]:
    for old, new, how in _suite_pairs(change, context):
        for message, path, on_base in _loosened_bounds(old, new, "metrics", how, change.kind == "Model"):
            yield Found(message, path, on_base=on_base)


def fairness_loosened(change: SpecChange, context: Context) -> Iterator[Found]:
    for old, new, how in _suite_pairs(change, context):
        moved = change.kind == "Model"
        for message, path, on_base in _loosened_bounds(old, new, "fairness", how, moved):
            yield Found(message, path or (("spec", "evaluation", "suite") if moved else ()), on_base=on_base)
        old_suite, new_suite = old.spec.model, new.spec.model
        assert isinstance(old_suite, EvaluationSuite)
        assert isinstance(new_suite, EvaluationSuite)
        if new_suite.spec.min_group_size > old_suite.spec.min_group_size and new_suite.spec.fairness:
            yield Found(
                f"minGroupSize raised: {old_suite.spec.min_group_size} -> {new_suite.spec.min_group_size}: "
                f"fewer groups get a fairness verdict{how}",
                () if moved else ("spec", "minGroupSize"),
                severity=Severity.WARNING,
            )


def canary_raised(change: SpecChange, context: Context) -> Iterator[Found]:
    if (models := _models(change)) is None:
        return
    before, after = _deployments(models[0]), _deployments(models[1])
    for environment, (index, new) in after.items():
        if environment not in before:
            continue
        old = before[environment][1]
        if old is not None and new is None:
            yield Found(
                f"canary removed in `{environment}`: the new version takes all traffic at once (was {old}%)",
                ("spec", "deployments", index),
                severity=Severity.ERROR,
            )
        elif old is not None and new is not None and new > old:
            yield Found(
                f"canary traffic raised in `{environment}`: {old}% -> {new}%",
                ("spec", "deployments", index, "canary", "trafficPercent"),
            )


# --- environments --------------------------------------------------------------------


def approvals_reduced(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := both_versions(change)) is None:
        return
    old, new = pair[0].spec.model, pair[1].spec.model
    if not isinstance(old, Environment) or not isinstance(new, Environment):
        return
    if new.spec.approvals < old.spec.approvals:
        production = "production" in (old.spec.tier, new.spec.tier)
        yield Found(
            f"approvals reduced: {old.spec.approvals} -> {new.spec.approvals}"
            + (" on a production environment" if production else ""),
            ("spec", "approvals"),
            severity=Severity.ERROR if production else Severity.WARNING,
        )


def promotion_removed(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := both_versions(change)) is None:
        return
    old, new = pair[0].spec.model, pair[1].spec.model
    if not isinstance(old, Environment) or not isinstance(new, Environment):
        return
    if old.spec.promotes_from is not None and new.spec.promotes_from is None:
        yield Found(
            f"no longer promotes from `{old.spec.promotes_from}`: versions may skip it",
            ("spec", "promotesFrom"),
            on_base=True,
        )


RULES: tuple[Rule, ...] = (
    Rule("CH600", (CONTRACT_KIND,), contract_removed),  # contract-removed
    Rule("CH601", (CONTRACT_KIND,), column_removed, announced_by_major_version=True),  # contract-column-removed
    Rule("CH602", (CONTRACT_KIND,), column_renamed, announced_by_major_version=True),  # contract-column-renamed
    Rule("CH603", (CONTRACT_KIND,), type_narrowed, announced_by_major_version=True),  # contract-type-narrowed
    Rule("CH604", (CONTRACT_KIND,), required_added, announced_by_major_version=True),  # contract-required-added
    # contract-enum-values-removed
    Rule("CH605", (CONTRACT_KIND,), enum_values_removed, announced_by_major_version=True),
    Rule("CH606", (CONTRACT_KIND,), classification_lowered),  # contract-classification-lowered
    Rule("CH607", (CONTRACT_KIND,), quality_weakened),  # contract-quality-weakened
    Rule("CH608", (CONTRACT_KIND,), sla_weakened),  # contract-sla-weakened
    Rule("CH620", ("Model",), features_changed, announced_by_major_version=True),  # model-features-changed
    Rule("CH621", ("Model",), label_changed, announced_by_major_version=True),  # model-label-changed
    Rule("CH622", ("Model",), risk_tier_lowered),  # model-risk-tier-lowered
    Rule("CH623", ("Model",), risk_tier_raised),  # model-risk-tier-raised
    Rule("CH624", ("EvaluationSuite", "Model"), metric_loosened),  # model-metric-loosened
    Rule("CH625", ("EvaluationSuite", "Model"), fairness_loosened),  # model-fairness-loosened
    Rule("CH626", ("Model",), canary_raised),  # model-canary-raised
    Rule("CH640", ("Environment",), approvals_reduced),  # environment-approvals-reduced
    Rule("CH641", ("Environment",), promotion_removed),  # environment-promotion-removed
    Rule("CH660", ("Policy",), policy_changed),  # policy-changed
    Rule("CH680", ("Waiver",), waiver_changed),  # waiver-changed
    Rule("CH681", ("Waiver",), waiver_added),  # waiver-added
    Rule("CH682", ("Waiver",), waiver_extended),  # waiver-extended
    Rule("CH661", ("Project",), pack_removed),  # policy-pack-removed
    Rule("CH662", ("Project",), rule_softened),  # policy-rule-softened
    Rule("CH663", ("Project", "Policy"), param_loosened),  # policy-param-loosened
    Rule("CH664", ("Project", "Policy"), param_changed),  # policy-param-changed
    Rule("CH665", ("Project",), policy_settings_changed),  # policy-settings-changed
    Rule("CH695", ("Project",), endpoints_widened),  # endpoints-widened
    Rule("CH696", (CONTRACT_KIND,), trusted_only_by_head),  # endpoint-trusted-only-by-head
    Rule("CH692", ("EvaluationSuite",), slice_redefined),  # suite-slice-redefined
    Rule("CH693", ("Project",), trust_setting_changed),  # trust-setting-changed
    Rule("CH694", ("Waiver",), waiver_widened),  # waiver-widened
)
