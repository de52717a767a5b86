"""Waivers: a justified, approved, expiring exception to one policy for one target.

A waived finding stays in the report, marked with its waiver (SARIF
`suppressions`), and no longer fails the run. An expired waiver waives
nothing and says so; a waiver that matches nothing is a warning; a rule
marked `waivable: false` refuses every waiver. An exception is reviewed
again when it runs out: a waiver that runs longer than the Project allows
(`spec.governance.maxWaiverDays`) is an error, one that runs out within
two weeks a warning.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence

from compiler.core.diagnostics import Diagnostic
from compiler.core.models.policy import Validation
from compiler.core.models.waiver import Waiver, WaiverSpec
from compiler.core.specs import Spec

DEFAULT_LIFETIME = 90
"""Days a waiver may run from today unless the Project says otherwise."""
SOON = 14
"""Days before its expiry from which a waiver is a warning."""


def apply_waivers(
    findings: Sequence[Diagnostic],
    waivers: Sequence[Spec],
    rules: Mapping[tuple[str, str], Validation],
    today: datetime.date,
    targets: Mapping[tuple[str, int], Spec],
    lifetime: int | None = DEFAULT_LIFETIME,
) -> list[Diagnostic]:
    """`targets` maps a finding's (file, document) to the spec it is about."""
    out: list[Diagnostic] = []
    used: set[str] = set()
    refused: set[str] = set()
    for finding in findings:
        waiver_spec = _match(finding, waivers, targets)
        if waiver_spec is None:
            out.append(finding)
            continue
        waiver = waiver_spec.model
        assert isinstance(waiver, Waiver)
        used.add(waiver_spec.name)
        rule = rules.get((finding.policy or "", finding.rule or ""))
        if rule is not None and not rule.waivable:
            refused.add(waiver_spec.name)
            out.append(finding)
            continue
        if waiver.spec.expires < today:
            out.append(finding)
            continue
        out.append(finding.with_changes(waiver=waiver_spec.name))
    # A `rule:` its policy lacks is the one finding about such a waiver, not also "matches no finding".
    unknown_rules = _unknown_rules(waivers, rules)
    out.extend(unknown_rules.values())
    used.update(unknown_rules)

    for waiver_spec in waivers:
        out.extend(_about_waiver(waiver_spec, used, refused, today))
        out.extend(_lifetime(waiver_spec, today, lifetime))
    return out


def _lifetime(spec: Spec, today: datetime.date, lifetime: int | None) -> list[Diagnostic]:
    waiver = spec.model
    assert isinstance(waiver, Waiver)
    body = waiver.spec
    days = (body.expires - today).days
    if lifetime is not None and days > lifetime:
        finding = spec.finding(
            "CH520",
            f"waiver `{spec.name}` runs until {body.expires.isoformat()}, {days} days from today; the Project "
            f"allows at most {lifetime} (spec.governance.maxWaiverDays)",
            ["spec", "expires"],
            hint=f"set `expires` on or before {(today + datetime.timedelta(days=lifetime)).isoformat()}, "
            "and renew the waiver with a new approval when it runs out",
        )
    elif 0 <= days <= SOON:
        finding = spec.finding(
            "CH521",
            f"waiver `{spec.name}` expires on {body.expires.isoformat()}, in {days} day{'s' if days != 1 else ''}: "
            "its finding then fails the run",
            ["spec", "expires"],
            hint="fix the finding, or renew the waiver with a new date and its approvers' approval",
        )
    else:
        return []
    return [finding.with_changes(policy=body.policy, rule=body.rule)]


def _match(finding: Diagnostic, waivers: Sequence[Spec], targets: Mapping[tuple[str, int], Spec]) -> Spec | None:
    target = targets.get((finding.file, finding.document))
    if finding.policy is None or target is None:
        return None
    names = {target.name, target.contract.name} if target.contract else {target.name}
    for spec in waivers:
        waiver = spec.model
        assert isinstance(waiver, Waiver)
        body = waiver.spec
        if body.policy != finding.policy or (body.rule is not None and body.rule != finding.rule):
            continue
        if body.target.kind == target.kind and body.target.name in names:
            return spec
    return None


def _about_waiver(spec: Spec, used: set[str], refused: set[str], today: datetime.date) -> list[Diagnostic]:
    waiver = spec.model
    assert isinstance(waiver, Waiver)
    body = waiver.spec
    return [
        finding.with_changes(policy=body.policy, rule=body.rule)
        for finding in _waiver_findings(spec, body, used, refused, today)
    ]


def _waiver_findings(
    spec: Spec, body: WaiverSpec, used: set[str], refused: set[str], today: datetime.date
) -> list[Diagnostic]:
    if spec.name in refused:
        return [
            spec.finding(
                "CH505",
                f"waiver `{spec.name}` is refused: policy `{body.policy}` may not be waived",
                ["spec", "policy"],
                hint="fix the finding; no exception is possible for this rule",
            )
        ]
    if body.expires < today:
        return [
            spec.finding(
                "CH503",
                f"waiver `{spec.name}` expired on {body.expires.isoformat()}; it no longer waives",
                ["spec", "expires"],
                hint="renew it with a new date and approval, or fix the finding",
            )
        ]
    if spec.name not in used:
        rule = f" rule `{body.rule}`" if body.rule else ""
        return [
            spec.finding(
                "CH504",
                f"waiver `{spec.name}` matches no finding of policy `{body.policy}`{rule} "
                f"on {body.target.kind} `{body.target.name}`",
                ["spec", "policy"],
                hint="remove the waiver if the finding was fixed",
            )
        ]
    return []


def _unknown_rules(waivers: Sequence[Spec], rules: Mapping[tuple[str, str], Validation]) -> dict[str, Diagnostic]:
    """Waiver name -> its error, for each waiver whose `rule:` its policy lacks (it would waive nothing).

    A policy that does not exist is reported where references are (CH401 at `spec.policy`).
    """
    from compiler.core.suggest import did_you_mean

    names: dict[str, list[str]] = {}
    for policy, rule_name in rules:
        names.setdefault(policy, []).append(rule_name)
    found: dict[str, Diagnostic] = {}
    for spec in waivers:
        waiver = spec.model
        assert isinstance(waiver, Waiver)
        body = waiver.spec
        known = names.get(body.policy)
        if body.rule is None or known is None or body.rule in known:
            continue
        message = f"policy `{body.policy}` has no rule `{body.rule}`; waiver `{spec.name}` waives nothing"
        hint = did_you_mean(body.rule, known) or f"its rules: {', '.join(sorted(known))}"
        finding = spec.finding("CH401", message, ["spec", "rule"], hint=hint)
        found[spec.name] = finding.with_changes(policy=body.policy, rule=body.rule)
    return found
