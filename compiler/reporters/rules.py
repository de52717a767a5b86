"""What a policy rule is for, read from the policy itself: the help SARIF rules carry.

A finding of a policy (CH500, CH502) names its policy and rule; the report gives each
such rule its own SARIF rule, so an alert names the rule that fired and shows why it
exists, how to fix it and its references.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from compiler.core.diagnostics import Diagnostic, Severity
from compiler.core.models.policy import Policy
from compiler.core.specs import Spec

# The codes a policy's own rules report: one SARIF rule (and one alert identity) per policy rule.
RULE_CODES = frozenset({"CH500", "CH502"})
PACK_LABEL = "charter.dev/pack"
POLICY_DOCS = "https://github.com/charter-dev/charter/blob/main/docs/policies.md"


@dataclass(frozen=True)
class RuleHelp:
    """One rule of one policy, as its policy documents it."""

    severity: Severity
    description: str | None = None
    remediation: str | None = None
    references: tuple[str, ...] = ()
    # Only built-in policies have a page of their own in Charter's docs.
    help_uri: str | None = None


def rule_key(d: Diagnostic) -> str | None:
    """`policy/rule` for a finding a policy rule reported, None for every other finding."""
    if d.code in RULE_CODES and d.policy and d.rule:
        return f"{d.policy}/{d.rule}"
    return None


def rule_help(policies: Iterable[Spec], builtin_packs: Collection[str] = ()) -> dict[str, RuleHelp]:
    """`policy/rule` -> its help, for every rule of `policies` (a later policy of one name wins, as in a run)."""
    found: dict[str, RuleHelp] = {}
    for spec in policies:
        policy = spec.model
        if not isinstance(policy, Policy):
            continue
        pack = policy.metadata.labels.get(PACK_LABEL)
        uri = f"{POLICY_DOCS}#{spec.name}" if pack is not None and pack in builtin_packs else None
        for rule in policy.spec.validations:
            found[f"{spec.name}/{rule.name}"] = RuleHelp(
                Severity(rule.severity),
                _text(rule.description),
                _text(rule.remediation),
                tuple(rule.references),
                uri,
            )
    return found


def _text(value: str | None) -> str | None:
    return " ".join(value.split()) if value else None
