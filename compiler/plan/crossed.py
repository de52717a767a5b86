"""The base decides: the head's specs judged by the base revision's governance as well as their own.

One mechanism for every way a change can rewrite the rules that judge it (a policy's expression, a pack, a
parameter, a severity override, a shadowing policy of the same name, a waiver, a relabelled model, a lowered
tier): the head's specs go through the same door (`pipeline.check`) a second time, with the base's Project,
policies, waivers and classification (`compiler.stages.policy.governed`). A finding that check raises and the head's
own check does not is hidden by the change; it becomes a governance-weakened finding (CH690) at the line that
hid it (`compiler.plan.causes`), naming what was weakened and which finding it hides.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from compiler.core.diagnostics import Diagnostic, Severity
from compiler.core.specs import Spec
from compiler.integrations.gitops.snapshot import Snapshot
from compiler.plan.causes import Cause, causes
from compiler.stages import GOVERNANCE_KINDS, Checked, Governance, check

CODE = "CH690"
RULE = "governance-weakened"
_SHOWN = 3


@dataclass(frozen=True)
class Hidden:
    """A finding the base's governance raises on the head's specs, and the spec it is about."""

    finding: Diagnostic
    target: Spec

    @property
    def label(self) -> str:
        rule = f"/{self.finding.rule}" if self.finding.rule else ""
        return f"{self.finding.severity.value} `{self.finding.policy}{rule}` on {self.target.label}"


def base_governance(base: Checked) -> Governance:
    return Governance.of(base.project, base.specs, base.policies)


def cross_check(base: Snapshot, head: Snapshot, today: datetime.date) -> Checked:
    """The head's specs, checked under the base revision's governance."""
    return check(head.result.input, today, governance=base_governance(base.result))


def hidden_findings(crossed: Checked, head: Checked) -> list[Hidden]:
    """Policy findings (errors and warnings, not waived) of `crossed` that `head` does not raise as strongly,
    each with the spec it is about as the head has it (labels and tiers of its own)."""
    targets = {(spec.file, spec.document.index): spec for spec in head.specs if spec.kind not in GOVERNANCE_KINDS}
    raised: dict[tuple[object, ...], int] = {}
    for finding in head.diagnostics:
        if finding.policy is not None and not finding.suppressed:
            key = _key(finding)
            raised[key] = min(raised.get(key, 9), finding.severity.rank)
    found = []
    for finding in crossed.diagnostics:
        target = targets.get((finding.file, finding.document))
        if finding.policy is None or finding.suppressed or target is None:
            continue
        if finding.severity not in (Severity.ERROR, Severity.WARNING):
            continue
        if raised.get(_key(finding), 9) > finding.severity.rank:
            found.append(Hidden(finding, target))
    return found


def _key(finding: Diagnostic) -> tuple[object, ...]:
    """A rule's verdict on one spec: a violation (CH500) and a failure to evaluate (CH502) are both a verdict."""
    return (finding.policy, finding.rule, finding.file, finding.document)


def governance_weakened(base: Snapshot, head: Snapshot, today: datetime.date) -> list[Diagnostic]:
    """CH690 findings: one per place that weakened governance, naming the findings it hides."""
    if head.result.project is None or base.result.project is None:
        return []
    hidden = hidden_findings(cross_check(base, head, today), head.result)
    by_cause: dict[Cause, list[Hidden]] = {}
    for item in hidden:
        for cause in causes(item.finding, item.target, base.result, head.result):
            by_cause.setdefault(cause, []).append(item)
    return [_finding(cause, items) for cause, items in by_cause.items()]


def _finding(cause: Cause, items: list[Hidden]) -> Diagnostic:
    worst = min((item.finding.severity for item in items), key=lambda severity: severity.rank)
    span = cause.spec.span(cause.path)
    return Diagnostic.of(
        CODE,
        f"{cause.what}: it hides {_hides(items)} that the base revision's governance raises on this change",
        cause.spec.file,
        severity=worst,
        line=span.line,
        column=span.column,
        end_line=span.end_line,
        end_column=span.end_column,
        path=cause.path,
        document=cause.spec.document.index,
        rule=RULE,
        hint="revert it, or fix what it hides; a deliberate change needs an approving review from the owners "
        "the base revision names (spec.governance.owners)",
        kind=cause.spec.kind,
        name=cause.spec.name,
        note="judged by the base revision's policies, packs, parameters, overrides, waivers and labels",
    )


def _hides(items: Iterable[Hidden]) -> str:
    labels = list(dict.fromkeys(item.label for item in items))
    shown = ", ".join(labels[:_SHOWN]) + (f" and {len(labels) - _SHOWN} more" if len(labels) > _SHOWN else "")
    return f"{len(labels)} finding{'s' if len(labels) != 1 else ''} ({shown})"
