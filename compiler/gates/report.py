"""What every gate produces: checks with a status, and the files that show them.

A gate fills a `GateReport` with checks, each a finding (`Diagnostic`) with
a CH7xx code and what it measured; `publish` writes, through the reporting
package (`compiler.reporters.gate`), the JSON report (`--report`), the Markdown
summary (`--summary`, and appended to `$GITHUB_STEP_SUMMARY` when that is
set, so it shows on the workflow run page), the PNG chart (`--chart`), and
prints a short text verdict.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from compiler.core.codes import severity_of
from compiler.core.diagnostics import Diagnostic, Measurement, Severity
from compiler.core.exit_codes import FAIL, PASS, UNUSABLE
from compiler.core.fsutil import write_atomic
from compiler.reporters import gate as gate_reporter
from compiler.reporters.gate import ICON, ORDER, jsonable, show

__all__ = [
    "ICON",
    "ORDER",
    "Chart",
    "Check",
    "GateReport",
    "Status",
    "Verdict",
    "check",
    "jsonable",
    "measured",
    "show",
]

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


Chart = Callable[[GateReport, Path], None]


def publish(
    report: GateReport,
    *,
    report_path: str | None,
    summary_path: str | None,
    chart_path: str | None = None,
    chart: Chart | None = None,
    out: TextIO | None = None,
    fmt: str = "text",
) -> int:
    """Write every output the options ask for, and the report in `fmt` on `out`; return the gate's exit code."""
    stream = out or sys.stdout
    if chart_path and chart is not None and report.error is None:
        try:
            chart(report, Path(chart_path))
        except ImportError as error:
            report.notes.append(f"no chart: {error.name or 'matplotlib'} is not installed")
        except Exception as error:  # noqa: BLE001 - a chart must never decide a gate
            report.notes.append(f"no chart: {type(error).__name__}: {error}")
    markdown = gate_reporter.markdown_summary(report)
    if report_path:
        write_atomic(Path(report_path), gate_reporter.json_text(report))
    if summary_path:
        write_atomic(Path(summary_path), markdown)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        try:
            with open(step_summary, "a", encoding="utf-8") as handle:
                handle.write(markdown + "\n")
        except OSError as error:
            print(f"charter gate: cannot append to $GITHUB_STEP_SUMMARY: {error}", file=sys.stderr)
    stream.write(gate_reporter.render(report, fmt))
    stream.flush()
    return report.exit_code
