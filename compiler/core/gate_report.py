"""A runtime gate's report: its checks, each a finding (`Diagnostic`) with a CH7xx code and what it measured.

The gates fill it (`compiler.gates`), the reporters show it (`compiler.reporters.gate`): both read this type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from compiler.core.codes import severity_of
from compiler.core.diagnostics import Diagnostic, Measurement, Severity
from compiler.core.exit_codes import FAIL, PASS, UNUSABLE

__all__ = ["ORDER", "Check", "GateReport", "Status", "Verdict", "check", "measured"]

# Failures first, then what needs a look, then the rest.
ORDER = {"fail": 0, "no-verdict": 1, "warn": 2, "skipped": 3, "info": 4, "pass": 5}

Status = Literal["pass", "fail", "warn", "no-verdict", "skipped", "info"]
Verdict = Literal["pass", "fail", "no-verdict", "error"]

# A gate's check is a finding like any other (its code is CH7xx); `measured` says what was judged.
Check = Diagnostic


def check(
    code: str,
    check_id: str,
    title: str,
    status: Status,
    *,
    target: str | None = None,
    value: Any = None,
    expected: str | None = None,
    message: str = "",
    details: dict[str, Any] | None = None,
    unit: str = "",
) -> Check:
    """One judged fact (a contract rule on a column, a metric bound, a drift threshold) as a finding.

    A failed check, or one with no verdict, has its code's severity; a warning
    is a warning (a quality rule's own `severity: warning`); the rest is information.
    """
    severity = severity_of(code)
    if status == "warn":
        severity = Severity.WARNING
    elif status not in ("fail", "no-verdict"):
        severity = Severity.INFO
    measured = Measurement(check_id, title, status, target, value, expected, unit, details or {})
    return Diagnostic(code, severity, message, "", measured=measured)


def measured(finding: Check) -> Measurement:
    """What a gate's check measured; every check a gate adds has it."""
    if finding.measured is None:
        raise ValueError(f"{finding.code} is not a gate check: it measured nothing")
    return finding.measured


@dataclass
class GateReport:
    gate: str
    headline: str
    subject: dict[str, Any] = field(default_factory=dict)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    sections: list[str] = field(default_factory=list)
    """Gate-specific Markdown, shown after the checks."""
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    judged: dict[str, Any] | None = None
    """What the gate judged (model, version, digests of its specs) and at which commit: compiler/gates/judged.py."""

    def add(self, finding: Check) -> Check:
        measured(finding)
        self.checks.append(finding)
        return finding

    @property
    def verdict(self) -> Verdict:
        if self.error is not None:
            return "error"
        statuses = {measured(finding).status for finding in self.checks}
        if "fail" in statuses:
            return "fail"
        if "no-verdict" in statuses:
            return "no-verdict"
        return "pass"

    @property
    def exit_code(self) -> int:
        return {"pass": PASS, "fail": FAIL, "no-verdict": FAIL, "error": UNUSABLE}[self.verdict]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(ORDER, 0)
        for finding in self.checks:
            counts[measured(finding).status] += 1
        return {status: n for status, n in counts.items() if n}
