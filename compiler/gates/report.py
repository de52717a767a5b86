"""What every gate produces: checks with a status, and the files that show them.

A gate fills a `GateReport`; `publish` writes the JSON report (`--report`),
the Markdown summary (`--summary`, and appended to `$GITHUB_STEP_SUMMARY`
when that is set, so it shows on the workflow run page), the PNG chart
(`--chart`), and prints a short text verdict.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from compiler import __version__
from compiler.fsutil import write_atomic

Status = Literal["pass", "fail", "warn", "no-verdict", "skipped", "info"]
Verdict = Literal["pass", "fail", "no-verdict", "error"]

ICON: dict[str, str] = {
    "pass": "✅",
    "fail": "❌",
    "warn": "⚠️",
    "no-verdict": "⛔",
    "skipped": "➖",
    "info": "ℹ️",
    "error": "💥",
}
# Failures first, then what needs a look, then the rest.
_ORDER = {"fail": 0, "no-verdict": 1, "warn": 2, "skipped": 3, "info": 4, "pass": 5}


@dataclass
class Check:
    """One judged fact: a contract rule on a column, a metric bound, a drift threshold."""

    id: str
    title: str
    status: Status
    target: str | None = None
    value: Any = None
    expected: str | None = None
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    unit: str = ""
    """How the value reads: `%` for percentages."""

    @property
    def shown_value(self) -> str:
        return "" if self.value is None else show(self.value) + self.unit

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "title": self.title, "status": self.status}
        if self.target is not None:
            out["target"] = self.target
        out["value"] = jsonable(self.value)
        if self.unit:
            out["unit"] = self.unit
        if self.expected is not None:
            out["expected"] = self.expected
        if self.message:
            out["message"] = self.message
        if self.details:
            out["details"] = jsonable(self.details)
        return out


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

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    @property
    def verdict(self) -> Verdict:
        if self.error is not None:
            return "error"
        statuses = {check.status for check in self.checks}
        if "fail" in statuses:
            return "fail"
        if "no-verdict" in statuses:
            return "no-verdict"
        return "pass"

    @property
    def exit_code(self) -> int:
        return {"pass": 0, "fail": 1, "no-verdict": 1, "error": 2}[self.verdict]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(_ORDER, 0)
        for check in self.checks:
            counts[check.status] += 1
        return {status: n for status, n in counts.items() if n}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "gate": self.gate,
            "charterVersion": __version__,
            "verdict": self.verdict,
            "exitCode": self.exit_code,
            "headline": self.headline,
            "subject": jsonable(self.subject),
            "judged": jsonable(self.judged),
            "inputs": jsonable(self.inputs),
            "summary": self.counts(),
            "checks": [check.to_json() for check in self.checks],
        }
        out.update(jsonable(self.details))
        if self.notes:
            out["notes"] = list(self.notes)
        if self.error is not None:
            out["error"] = self.error
        return out

    def markdown(self) -> str:
        verdict = self.verdict
        lines = [f"## {ICON[verdict]} Charter {self.gate} gate: {verdict}", "", escape(self.headline), ""]
        if self.error is not None:
            lines += ["```", self.error, "```", ""]
        counts = self.counts()
        if counts:
            lines += [", ".join(f"{ICON[s]} {n} {s}" for s, n in counts.items()), ""]
        attention = [c for c in self.checks if c.status in ("fail", "no-verdict", "warn")]
        if attention:
            lines += [*_check_table(sorted(attention, key=lambda c: _ORDER[c.status])), ""]
        lines += self.sections
        rest = [c for c in self.checks if c not in attention]
        if rest:
            lines += ["<details><summary>All other checks</summary>", "", *_check_table(rest), "", "</details>", ""]
        if self.notes:
            lines += ["**Notes**", "", *(f"- {escape(note)}" for note in self.notes), ""]
        return "\n".join(lines).rstrip() + "\n"

    def text(self) -> str:
        lines = [f"charter gate {self.gate}: {self.headline}"]
        for check in sorted(self.checks, key=lambda c: _ORDER[c.status]):
            if check.status == "pass":
                continue
            value = f" = {check.shown_value}" if check.value is not None else ""
            expected = f" (expected {check.expected})" if check.expected else ""
            message = f": {check.message}" if check.message else ""
            lines.append(f"  {check.status.upper():<10} {check.title}{value}{expected}{message}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items())
        lines.append(f"verdict: {self.verdict.upper()}" + (f" ({counts})" if counts else ""))
        return "\n".join(lines) + "\n"


def _check_table(checks: Iterable[Check]) -> list[str]:
    rows = ["| | Check | Value | Expected | Detail |", "| --- | --- | --- | --- | --- |"]
    for check in checks:
        value = check.shown_value
        rows.append(
            f"| {ICON[check.status]} | {escape(check.title)} | {escape(value)} | "
            f"{escape(check.expected or '')} | {escape(check.message)} |"
        )
    return rows


Chart = Callable[[GateReport, Path], None]


def publish(
    report: GateReport,
    *,
    report_path: str | None,
    summary_path: str | None,
    chart_path: str | None = None,
    chart: Chart | None = None,
    out: TextIO | None = None,
) -> int:
    """Write every output the options ask for; return the gate's exit code."""
    stream = out or sys.stdout
    if chart_path and chart is not None and report.error is None:
        try:
            chart(report, Path(chart_path))
        except ImportError as error:
            report.notes.append(f"no chart: {error.name or 'matplotlib'} is not installed")
        except Exception as error:  # noqa: BLE001 - a chart must never decide a gate
            report.notes.append(f"no chart: {type(error).__name__}: {error}")
    markdown = report.markdown()
    if report_path:
        write_atomic(Path(report_path), json.dumps(report.to_json(), indent=2, allow_nan=False) + "\n")
    if summary_path:
        write_atomic(Path(summary_path), markdown)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        try:
            with open(step_summary, "a", encoding="utf-8") as handle:
                handle.write(markdown + "\n")
        except OSError as error:
            print(f"charter gate: cannot append to $GITHUB_STEP_SUMMARY: {error}", file=sys.stderr)
    stream.write(report.text())
    stream.flush()
    return report.exit_code


def jsonable(value: Any) -> Any:
    """Plain JSON: NumPy scalars become numbers, NaN and infinities become null."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    item = getattr(value, "item", None)
    if callable(item):  # a NumPy scalar
        return jsonable(item())
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def show(value: Any) -> str:
    """A value as people read it: 0.8123, 12, 3.4%."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "undefined" if math.isnan(value) else str(value)
        if value == 0 or 1e-4 <= abs(value) < 1e7:
            return f"{value:.4f}".rstrip("0").rstrip(".") if not value.is_integer() else str(int(value))
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    item = getattr(value, "item", None)
    if callable(item):
        return show(item())
    return str(value)


def escape(text: str) -> str:
    """Text from specs and data inside a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")
