"""Stage 4, check: every policy rule against every spec it matches, then waivers.

Expressions see the spec (`object`, with defaults filled in), what it refers
to, resolved (`related`), the policy's parameters (`params`), its named
`variables`, the `project`, and `today`. A rule that cannot be evaluated
fails closed (CH502); a policy that does not compile is reported at its own
position (CH501) and fails the run.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from compiler.core.diagnostics import Diagnostic, PathSegment, Severity
from compiler.core.models.policy import Policy, Validation
from compiler.core.models.project import Project
from compiler.core.models.waiver import Waiver
from compiler.core.references import labels_match
from compiler.core.resolved import Resolved
from compiler.core.specs import Spec
from compiler.evidence.store import EvidenceByModel
from compiler.stages.policy.batches import Batches, alone, shape_of
from compiler.stages.policy.expression_fields import field_problems
from compiler.stages.policy.expressions import (
    Compiled,
    ExpressionError,
    compile_expression,
    evaluate,
    evaluates,
)
from compiler.stages.policy.programs import Programs, holds_together, succeeds
from compiler.stages.policy.sandbox import Overrun, Progress, Work, run_bounded
from compiler.stages.policy.scope import Scope, related_read, shaped
from compiler.stages.policy.views import Views
from compiler.stages.policy.waivers import apply_waivers

POLICY_CODE = "CH500"
CONTEXT_STEP = -1
"""The step marked while a batch's views are converted into the engine (`Batches.scope`). Stopped there, its
specs' pairs run again, each spec in an activation of its own."""
PROBE_STEP = -2
"""The step marked while a policy's variables are evaluated together (`Programs.probe`); -1 is the context."""
TOGETHER_STEP = -3
"""The step marked while all of a policy's variables and rules run in one program (`Programs.together`). Stopped
there on the worker's clock, the pair runs again one by one, each expression with a step of its own."""
Applied = tuple[str, str, str]
"""(policy, target kind, target name): a policy whose match held on a spec."""


@dataclass(frozen=True)
class PolicySettings:
    severity_overrides: Mapping[str, str]
    params: Mapping[str, Mapping[str, Any]]

    @classmethod
    def of(cls, project: Project | None) -> PolicySettings:
        if project is None:
            return cls({}, {})
        return cls(project.spec.policies.severity_overrides, project.spec.policies.params)

    def params_for(self, name: str, policy: Policy) -> dict[str, Any]:
        """The policy's defaults with the Project's values on top."""
        return {**policy.spec.params, **self.params.get(name, {})}


def check(
    resolved: Resolved,
    policies: Sequence[Spec],
    project: Project | None,
    today: datetime.date,
    sources: Mapping[str, str],
    *,
    evidence: EvidenceByModel | None = None,
    applied: set[Applied] | None = None,
    targets: Collection[str] | None = None,
) -> list[Diagnostic]:
    """Every finding; `applied`, when given, receives each (policy, kind, name) whose match conditions held.

    `targets`, when given, are the files whose specs are evaluated (the rest of `resolved` is context).
    """
    settings = PolicySettings.of(project)
    views = Views(resolved, evidence or {})
    findings: list[Diagnostic] = []
    runnable: list[_Runnable] = []
    for spec in policies:
        assert isinstance(spec.model, Policy)
        errors = _compile(spec, spec.model, sources)
        findings.extend(errors)
        if not errors:
            params = settings.params_for(spec.name, spec.model)
            severities = [_severity(spec.name, rule, settings) for rule in spec.model.spec.validations]
            programs = Programs.of(spec.model, [severity is not None for severity in severities])
            runnable.append(_Runnable(spec, spec.model, programs, params, severities))
    evaluated = [
        spec
        for spec in resolved.specs
        if spec.kind not in ("Policy", "Waiver") and (targets is None or spec.file in targets)
    ]
    # One mistake, one finding: a spec whose reference names nothing (its CH401) is not judged on half its facts.
    evaluated, waiting, broken = _unresolved_left_out(evaluated, resolved)
    context = {"project": views.of(resolved.get("Project", project.metadata.name)) if project else {}}
    context["today"] = today.isoformat()
    policy_findings = _evaluate_bounded(views, context, evaluated, runnable, applied=applied)
    waivers = [
        spec
        for spec in resolved.specs
        if spec.kind == "Waiver" and _target(spec) not in waiting and (spec.file, spec.document.index) not in broken
    ]
    rules = {
        (spec.name, rule.name): rule
        for spec in policies
        if isinstance(spec.model, Policy)
        for rule in spec.model.spec.validations
    }
    by_document = {(spec.file, spec.document.index): spec for spec in evaluated}
    # Without a valid Project (none, or one with errors of its own) the lifetime is not judged: the limit is the
    # Project's, and guessing it would add a finding per waiver to the Project's own error. In a pull request the
    # base's Project judges it (compiler.plan.crossed).
    lifetime = project.spec.governance.max_waiver_days if project else None
    findings.extend(apply_waivers(policy_findings, waivers, rules, today, by_document, lifetime))
    return findings


def _evaluate_bounded(
    views: Views,
    shared: dict[str, Any],
    targets: list[Spec],
    runnable: list[_Runnable],
    *,
    applied: set[Applied] | None = None,
) -> list[Diagnostic]:
    """Every matching (spec, policy) pair, in a worker that is stopped on overrun (compiler/stages/policy/sandbox.py).

    `shared` is what every spec's context holds (`project`, `today`).
    """
    pairs = [
        (target, run)
        for target in targets
        for run in runnable
        if target.kind in run.policy.spec.match.kinds and labels_match(run.policy.spec.match.labels, target)
    ]

    wanted = _compile_shaped(pairs)

    def work(chosen: Sequence[int], together: bool) -> Work:
        """With `together`, specs in batches and each policy's rules in one program first; otherwise, one by one."""

        def run(items: list[int], progress: Progress) -> Iterator[tuple[int, list[Diagnostic] | None]]:
            scope: Scope | None = None
            scoped: Spec | None = None
            # Cut here, in the worker, from the specs it judges; not again by a worker replacing one that was
            # stopped converting a batch: the next batch would be as costly.
            replacing = progress.replacing is not None and progress.replacing.step == CONTEXT_STEP
            targets = [pairs[chosen[item]][0] for item in items]
            batches = Batches(views, targets, shared, wanted) if together and not replacing else None
            for item in items:
                target, runnable = pairs[chosen[item]]
                if scoped is not target:  # a spec's context is built once for all its policies
                    scoped = target
                    if batches is not None:
                        scope = batches.scope(target, functools.partial(progress.mark, item, CONTEXT_STEP))
                    else:
                        scope = alone(views, target, shared)
                assert scope is not None
                yield item, _run(target, scope, runnable, functools.partial(progress.mark, item), together)

        return run

    everything = range(len(pairs))
    results, overruns = run_bounded(work(everything, True), len(pairs), _weights(pairs, views))
    # A pair stopped while everything ran together, or while its batch was converted, runs again one by one:
    # each expression has its own step, each spec its own activation.
    again = [overrun.item for overrun in overruns if overrun.step in _ALONE_AGAIN and not overrun.budget_spent]
    if again:
        retried_items = set(again)
        overruns = [overrun for overrun in overruns if overrun.item not in retried_items]
        retried, stopped = run_bounded(work(again, False), len(again))
        results.update({again[item]: found for item, found in retried.items()})
        overruns += [replace(overrun, item=again[overrun.item]) for overrun in stopped]
    for overrun in overruns:
        target, run = pairs[overrun.item]
        results[overrun.item] = [_overrun_finding(target, run, overrun, len(pairs) - len(results) - 1)]
    if applied is not None:
        # A pair stopped on overrun counts as applied: its rules failed closed.
        applied.update(
            (pairs[item][1].spec.name, pairs[item][0].kind, pairs[item][0].name)
            for item, found in results.items()
            if found is not None
        )
    return [finding for item in sorted(results) for finding in results[item] or []]


_ALONE_AGAIN = frozenset({TOGETHER_STEP, CONTEXT_STEP})


def _compile_shaped(pairs: Sequence[tuple[Spec, _Runnable]]) -> dict[str, frozenset[str] | None]:
    """Each policy's programs for the shapes of the kinds it judges, compiled here (and cached) rather than in
    each worker: the workers, and an editor's next check, start with them. For each kind, the keys of `related`
    its programs read (None: every key)."""
    wanted: dict[str, frozenset[str] | None] = {}
    for kind, run in {(target.kind, id(run)): (target.kind, run) for target, run in pairs}.values():
        for program in run.programs.every():
            shaped(program.text, shape_of(kind))
            read, before = related_read(program.text), wanted.get(kind, frozenset())
            wanted[kind] = None if read is None or before is None else before | read
    return wanted


CONTEXT_WEIGHT = 3.0
"""Converting one view into the engine costs about three times what one (spec, policy) pair's expressions do.
A spec's context is converted once, for its first pair (`Scope`); an Environment many models deploy to holds all
of their views (measured at 10,000 specs: with runs of equal counts, one worker took 40% longer than the other)."""


def _weights(pairs: Sequence[tuple[Spec, _Runnable]], views: Views) -> list[float]:
    """Each pair's expected cost, for cutting the work into runs of equal cost (`run_bounded`)."""
    weights: list[float] = []
    last: Spec | None = None
    for target, _ in pairs:
        weights.append(1.0 if target is last else 1.0 + CONTEXT_WEIGHT * views.size(target))
        last = target
    return weights


def _overrun_finding(target: Spec, run: _Runnable, overrun: Overrun, skipped: int) -> Diagnostic:
    """CH502 on the expression the worker was running when it was stopped."""
    body = run.policy.spec
    conditions, variables = len(body.match.conditions), len(body.variables)
    step, rule = overrun.step, None
    path: Sequence[PathSegment] = _NAME
    if step == PROBE_STEP:
        names = ", ".join(f"`{variable.name}`" for variable in body.variables)
        what = f"variables {names} (evaluated together)"
    elif step == TOGETHER_STEP:
        what = "variables and rules (evaluated together)"
    elif step < 0:
        what = "context"
    elif step < conditions:
        what = f"match condition `{body.match.conditions[step].name}`"
    elif step < conditions + variables:
        what = f"variable `{body.variables[step - conditions].name}`"
    else:
        validation = body.validations[min(step - conditions - variables, len(body.validations) - 1)]
        rule, what = validation.name, f"rule `{validation.name}`"
        path = _parse_path(validation.path) if validation.path else path
    reason = overrun.reason
    if overrun.budget_spent and skipped > 0:
        reason += f"; {skipped:,} further policy evaluations did not run"
    return _failed(target, run, rule, f"stopped: {reason}", path, what=what, hint=_TOO_COSTLY)


def _compile(spec: Spec, policy: Policy, sources: Mapping[str, str]) -> list[Diagnostic]:
    """CH501 for each expression that does not compile, at its position."""
    errors: list[Diagnostic] = []
    for path, source in policy_expressions(policy):
        try:
            compile_expression(source)
            for problem in field_problems(source, policy.spec.match.kinds):
                raise ExpressionError(problem.message, problem.line, problem.column)
        except ExpressionError as error:
            errors.append(_expression_finding(spec, path, error, sources.get(spec.file, "")))
    return errors


def policy_expressions(policy: Policy) -> list[tuple[list[PathSegment], str]]:
    """Every CEL expression of a policy, with the path of its field: conditions, variables, rules, messages."""
    body = policy.spec
    expressions: list[tuple[list[PathSegment], str]] = [
        (["spec", "match", "conditions", i, "expression"], c.expression) for i, c in enumerate(body.match.conditions)
    ]
    expressions += [(["spec", "variables", i, "expression"], v.expression) for i, v in enumerate(body.variables)]
    for i, rule in enumerate(body.validations):
        expressions.append((["spec", "validations", i, "expression"], rule.expression))
        if rule.message_expression:
            expressions.append((["spec", "validations", i, "messageExpression"], rule.message_expression))
    return expressions


def _expression_finding(spec: Spec, path: list[PathSegment], error: ExpressionError, text: str) -> Diagnostic:
    finding = spec.finding("CH501", f"policy `{spec.name}`: {error.message}", path)
    if not error.line:
        return finding.with_changes(policy=spec.name)
    line, column = finding.line, finding.column
    lines = text.splitlines()
    source_line = lines[line - 1] if 0 < line <= len(lines) else ""
    if source_line[column - 1 : column] in ("|", ">"):
        # A block scalar: the expression starts on the next line, indented.
        first = lines[line] if line < len(lines) else ""
        indent = len(first) - len(first.lstrip())
        line, column = line + error.line, indent + error.column
    elif error.line == 1:
        quote = 1 if source_line[column - 1 : column] in ("'", '"') else 0
        column = column + quote + error.column - 1
    return finding.with_changes(line=line, column=column, end_line=line, end_column=column + 1, policy=spec.name)


@dataclass(frozen=True)
class _Runnable:
    """A policy that compiled, with its parameters resolved once per run."""

    spec: Spec
    policy: Policy
    programs: Programs
    params: dict[str, Any]
    severities: list[Severity | None]
    """Each rule's, after the Project's overrides; None when turned off."""


def _run(
    target: Spec, scope: Scope, run: _Runnable, mark: Callable[[int], None], together: bool = True
) -> list[Diagnostic] | None:
    """`mark(step)` before each expression: conditions, then variables, then rules, counted from 0.

    None when a match condition does not hold: the policy does not apply to the target. With `together`, the
    variables and rules run in one program first (`holds_together`); one by one only when that does not hold.
    """
    policy, programs = run.policy, run.programs
    scope.enter_policy(run.params)
    step = 0
    try:
        for program in programs.conditions:
            mark(step)
            step += 1
            if evaluate(program, scope) is not True:
                return None
    except ExpressionError as error:
        condition = policy.spec.match.conditions[step - 1]
        return [
            _failed(target, run, None, error.message, ["metadata", "name"], what=f"match condition `{condition.name}`")
        ]
    if together and programs.together is not None:
        mark(TOGETHER_STEP)
        if holds_together(programs, scope):
            return []
    # All variables at once first: when that succeeds none fails, and the one-by-one run is skipped.
    if programs.probe is not None:
        mark(PROBE_STEP)
    pending = () if programs.probe is not None and succeeds(programs.probe, scope) else programs.variables
    step += len(programs.variables) - len(pending)
    try:
        for variable, program in zip(policy.spec.variables, pending, strict=False):
            mark(step)
            step += 1
            if programs.inlined:
                evaluates(program, scope)
            else:
                scope.set_variable(variable.name, evaluate(program, scope))
    except ExpressionError as error:
        return [_failed(target, run, None, error.message, ["metadata", "name"], what=f"variable `{variable.name}`")]
    findings: list[Diagnostic] = []
    for index in range(len(policy.spec.validations)):
        mark(step)
        step += 1
        severity = run.severities[index]
        if severity is not None:
            findings.extend(_rule_findings(target, scope, run, index, severity))
    return findings


def _rule_findings(target: Spec, scope: Scope, run: _Runnable, index: int, severity: Severity) -> list[Diagnostic]:
    """Nothing when the rule holds; its finding when it does not; CH502 when it cannot be evaluated."""
    rule = run.policy.spec.validations[index]
    path = _parse_path(rule.path) if rule.path else _NAME
    try:
        holds = evaluate(run.programs.rules[index], scope)
        if not isinstance(holds, bool):
            raise ExpressionError(f"the expression returned {type(holds).__name__}, not a boolean")
        if holds:
            return []
        message = _message(rule, run.programs.messages[index], scope)
    except ExpressionError as error:
        return [_failed(target, run, rule.name, error.message, path)]
    finding = target.finding(POLICY_CODE, message, path, key=False, hint=rule.remediation, severity=severity)
    return [finding.with_changes(policy=run.spec.name, rule=rule.name, related=tuple(rule.references))]


_UNEVALUABLE = "the rule counts as failed (fail closed); fix the expression or the spec"
_TOO_COSTLY = "the rule counts as failed (fail closed); make the expression cheaper or the spec smaller"


def _failed(
    target: Spec,
    run: _Runnable,
    rule: str | None,
    reason: str,
    path: Sequence[PathSegment],
    *,
    what: str = "",
    hint: str = _UNEVALUABLE,
) -> Diagnostic:
    """A policy that cannot be evaluated fails closed: CH502 on the spec it was evaluated on."""
    what = what or f"rule `{rule}`"
    message = f"policy `{run.spec.name}` {what} could not be evaluated on {target.label}: {reason}"
    return target.finding("CH502", message, path, hint=hint).with_changes(policy=run.spec.name, rule=rule)


def _message(rule: Validation, program: Compiled | None, scope: Scope) -> str:
    if program is not None:
        text = evaluate(program, scope)
        if isinstance(text, str) and text.strip():
            return text
    return rule.message or f"`{rule.expression}` does not hold"


def _severity(policy: str, rule: Validation, settings: PolicySettings) -> Severity | None:
    if not rule.waivable:  # what no waiver may suspend, no override may soften
        return Severity(rule.severity)
    chosen = settings.severity_overrides.get(f"{policy}/{rule.name}") or settings.severity_overrides.get(policy)
    value = chosen or rule.severity
    return None if value == "off" else Severity(value)


_NAME: tuple[PathSegment, ...] = ("metadata", "name")


@functools.lru_cache(maxsize=1024)
def _parse_path(dotted: str) -> tuple[PathSegment, ...]:
    """`spec.deployments[0].replicas` -> ["spec", "deployments", 0, "replicas"]."""
    path: list[PathSegment] = []
    for part in dotted.replace("]", "").split("."):
        name, *indexes = part.split("[")
        if name:
            path.append(name)
        path.extend(int(index) for index in indexes if index.isdigit())
    return tuple(path)


def _unresolved_left_out(
    specs: list[Spec], resolved: Resolved
) -> tuple[list[Spec], set[tuple[str, str]], set[tuple[str, int]]]:
    """The specs policies may judge, the (kind, name) of those left out until their references resolve, and the
    (file, document index) of every spec with a reference that did not land (a waiver among them waives nothing
    and is not also reported as matching no finding).

    A misspelt suite used to fail every rule that reads the suite and warn that the model scores its own
    training data: five findings for one mistake, whose CH401 already stands at the reference. A reference
    to a document that failed validation is left out the same way (`compiler.stages.resolve.broken`). Waivers of a
    spec left out, or of a document that failed validation, wait with it instead of reporting that they
    match no finding.
    """
    broken = resolved.unresolved | {
        (finding.file, finding.document)
        for finding in resolved.diagnostics
        if finding.code == "CH401" and finding.severity is Severity.ERROR
    }
    kept = [spec for spec in specs if (spec.file, spec.document.index) not in broken]
    waiting = {(spec.kind, spec.name) for spec in specs if (spec.file, spec.document.index) in broken}
    # A document that failed validation is not judged at all: its waivers wait for it too.
    waiting |= {(invalid.kind, name) for invalid in resolved.invalid for name in (invalid.name, *invalid.aliases)}
    return kept, waiting, broken


def _target(waiver: Spec) -> tuple[str, str]:
    assert isinstance(waiver.model, Waiver)
    return (waiver.model.spec.target.kind, waiver.model.spec.target.name)
