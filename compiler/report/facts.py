"""What the governance site shows, as plain data: built from one `check` run and one `render`.

Everything here is spec or evidence text, so it is escaped where it is written (autoescaping
templates, compiler/report/pages.py), never here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from compiler.core.diagnostics import Diagnostic, Severity
from compiler.core.models.environment import Environment
from compiler.core.models.model import Model
from compiler.core.models.policy import Policy
from compiler.core.models.waiver import Waiver
from compiler.core.specs import Spec
from compiler.evidence.store import ModelEvidence
from compiler.stages import Checked


@dataclass
class RuleStatus:
    target: str
    policy: str
    rule: str
    severity: str
    status: str
    """`holds`, `fails`, `warns`, `informs`, `waived`, `off` or `not evaluated` (an expression error: fails closed)."""
    message: str = ""
    waiver: dict[str, Any] | None = None


@dataclass
class ModelFacts:
    name: str
    owner: str
    risk_tier: str
    version: str
    task: str
    environments: list[str]
    evidence: list[dict[str, Any]]
    rules: list[RuleStatus] = field(default_factory=list)

    @property
    def failing(self) -> int:
        return sum(1 for rule in self.rules if rule.status in ("fails", "not evaluated"))

    @property
    def warning(self) -> int:
        """Rules that do not hold at warning level: an expired waiver shows here, not as "none"."""
        return sum(1 for rule in self.rules if rule.status == "warns")


def waiver_rows(result: Checked, today: datetime.date) -> list[dict[str, Any]]:
    """Every waiver, soonest expiry first; `days` is negative once it has expired."""
    rows = []
    assert result.resolved is not None
    for name, spec in result.resolved.by_kind.get("Waiver", {}).items():
        waiver = spec.model
        if not isinstance(waiver, Waiver):
            continue
        days = (waiver.spec.expires - today).days
        rows.append(
            {
                "name": name,
                "policy": waiver.spec.policy,
                "rule": waiver.spec.rule,
                "target": f"{waiver.spec.target.kind} {waiver.spec.target.name}",
                "approvers": list(waiver.spec.approvers),
                "expires": waiver.spec.expires.isoformat(),
                "days": days,
                "expired": days < 0,
                "justification": waiver.spec.justification,
            }
        )
    return sorted(rows, key=lambda row: (row["days"], row["name"]))


def model_facts(result: Checked, today: datetime.date) -> list[ModelFacts]:
    assert result.resolved is not None
    resolved = result.resolved
    waivers = {row["name"]: row for row in waiver_rows(result, today)}
    found = []
    for name, spec in sorted(resolved.by_kind.get("Model", {}).items()):
        model = spec.model
        if not isinstance(model, Model):
            continue
        links = resolved.links.get(name)
        related = [spec]
        if links is not None:
            related += [s for s in (links.suite, links.training, links.validation) if s is not None]
            related += list(links.environments.values())
        facts = ModelFacts(
            name=name,
            owner=model.metadata.owner or "not stated",
            risk_tier=model.spec.risk_tier,
            version=model.spec.version,
            task=model.spec.task,
            environments=promotion_order(result, name),
            evidence=_evidence(result.evidence.get(name)),
        )
        for target in {id(s): s for s in related}.values():  # a contract may serve two roles
            facts.rules.extend(_rules_on(result, target, waivers))
        found.append(facts)
    return found


def _evidence(entry: ModelEvidence | None) -> list[dict[str, Any]]:
    if entry is None:
        return []
    return [
        {
            "gate": gate,
            "verdict": record.verdict,
            "commit": (record.evidence.commit or "")[:12] or "not recorded",
            "stale": not record.current,
        }
        for gate, record in sorted(entry.records.items())
    ]


def _rules_on(result: Checked, target: Spec, waivers: dict[str, dict[str, Any]]) -> list[RuleStatus]:
    """Each rule of each policy that applied to `target`, with what the check found."""
    overrides = result.project.spec.policies.severity_overrides if result.project else {}
    label = f"{target.kind} {target.name}"
    findings = [
        d
        for d in result.diagnostics
        if d.policy is not None and d.file == target.file and d.document == target.document.index
    ]
    rows = []
    for spec in sorted(result.policies, key=lambda s: s.name):
        policy = spec.model
        if not isinstance(policy, Policy) or (spec.name, target.kind, target.name) not in result.applied:
            continue
        for rule in policy.spec.validations:
            chosen = overrides.get(f"{spec.name}/{rule.name}") or overrides.get(spec.name) or rule.severity
            severity = rule.severity if not rule.waivable else chosen
            mine = [d for d in findings if d.policy == spec.name and d.rule == rule.name]
            rows.append(_status(RuleStatus(label, spec.name, rule.name, severity, "holds"), mine, waivers))
    return rows


def _status(row: RuleStatus, found: list[Diagnostic], waivers: dict[str, dict[str, Any]]) -> RuleStatus:
    if row.severity == "off":
        row.status = "off"
        return row
    violation = next((d for d in found if d.code in ("CH500", "CH502")), None)
    if violation is None:
        return row
    row.message = violation.message
    if violation.waiver is not None:
        row.status, row.waiver = "waived", waivers.get(violation.waiver)
    elif violation.code == "CH502":
        row.status = "not evaluated"
    else:
        row.status = {Severity.ERROR: "fails", Severity.WARNING: "warns", Severity.INFO: "informs"}[violation.severity]
    return row


def promotion_order(result: Checked, model: str) -> list[str]:
    """The environments the model is deployed to, each after the one it promotes from (not the one it trains in,
    which the links hold too)."""
    assert result.resolved is not None
    links = result.resolved.links.get(model)
    spec = result.resolved.get("Model", model)
    deployed = {d.environment for d in spec.model.spec.deployments} if spec and isinstance(spec.model, Model) else set()
    environments = {name: env for name, env in (links.environments if links else {}).items() if name in deployed}
    ordered: list[str] = []
    pending = sorted(environments)
    while pending:
        for name in pending:
            env = environments[name].model
            before = env.spec.promotes_from if isinstance(env, Environment) else None
            if before is None or before not in pending:
                ordered.append(name)
                pending.remove(name)
                break
        else:  # a cycle, reported by check: keep the rest in name order
            ordered.extend(pending)
            break
    return ordered
