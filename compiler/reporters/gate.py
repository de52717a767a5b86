"""A runtime gate's report: its checks (findings with what they measured) as JSON, Markdown and text.

The JSON report (`--report`) is a contract with the pipelines that read it:
keys are only ever added. The Markdown summary goes to the workflow run page,
escaped by the one Markdown escaper; the text is the short verdict in the log.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from compiler import __version__
from compiler.core import markdown
from compiler.core.diagnostics import Diagnostic
from compiler.core.gate_report import ORDER, GateReport
from compiler.core.gate_report import measured as measured_by
from compiler.reporters import render as render_format
from compiler.reporters.findings import Report

OWN_FORMATS = ("text", "json", "markdown")
"""The formats in which a gate's report has a rendering of its own (below); in every other format of the
registry (`compiler.reporters`), a gate's report is its checks, which are findings."""

ICON: dict[str, str] = {
    "pass": "✅",
    "fail": "❌",
    "warn": "⚠️",
    "no-verdict": "⛔",
    "skipped": "➖",
    "info": "ℹ️",
    "error": "💥",
}


def shown_value(finding: Diagnostic) -> str:
    measured = measured_by(finding)
    return "" if measured.value is None else show(measured.value) + measured.unit


# --- JSON ------------------------------------------------------------------------------


def check_json(finding: Diagnostic) -> dict[str, Any]:
    measured = measured_by(finding)
    out: dict[str, Any] = {"id": measured.id, "code": finding.code, "title": measured.title, "status": measured.status}
    if measured.target is not None:
        out["target"] = measured.target
    out["value"] = jsonable(measured.value)
    if measured.unit:
        out["unit"] = measured.unit
    if measured.expected is not None:
        out["expected"] = measured.expected
    if finding.message:
        out["message"] = finding.message
    if measured.details:
        out["details"] = jsonable(measured.details)
    return out


def to_json(report: GateReport) -> dict[str, Any]:
    out: dict[str, Any] = {
        "gate": report.gate,
        "charterVersion": __version__,
        "verdict": report.verdict,
        "exitCode": report.exit_code,
        "headline": report.headline,
        "subject": jsonable(report.subject),
        "judged": jsonable(report.judged),
        "inputs": jsonable(report.inputs),
        "summary": report.counts(),
        "checks": [check_json(finding) for finding in report.checks],
    }
    out.update(jsonable(report.details))
    if report.notes:
        out["notes"] = list(report.notes)
    if report.error is not None:
        out["error"] = report.error
    return out


def json_text(report: GateReport) -> str:
    return json.dumps(to_json(report), indent=2, allow_nan=False) + "\n"


# --- Markdown --------------------------------------------------------------------------


def markdown_summary(report: GateReport) -> str:
    verdict = report.verdict
    lines = [f"## {ICON[verdict]} Charter {report.gate} gate: {verdict}", "", markdown.text(report.headline), ""]
    if report.error is not None:
        lines += [markdown.fence(report.error), report.error, markdown.fence(report.error), ""]
    counts = report.counts()
    if counts:
        lines += [", ".join(f"{ICON[s]} {n} {s}" for s, n in counts.items()), ""]
    attention = [c for c in report.checks if measured_by(c).status in ("fail", "no-verdict", "warn")]
    if attention:
        lines += [*_check_table(sorted(attention, key=lambda c: ORDER[measured_by(c).status])), ""]
    lines += report.sections
    rest = [c for c in report.checks if c not in attention]
    if rest:
        lines += ["<details><summary>All other checks</summary>", "", *_check_table(rest), "", "</details>", ""]
    if report.notes:
        lines += ["**Notes**", "", *(f"- {markdown.text(note)}" for note in report.notes), ""]
    return "\n".join(lines).rstrip() + "\n"


def _check_table(checks: Iterable[Diagnostic]) -> list[str]:
    rows = ["| | Check | Value | Expected | Detail |", "| --- | --- | --- | --- | --- |"]
    for finding in checks:
        measured = measured_by(finding)
        rows.append(
            f"| {ICON[measured.status]} | {markdown.text(measured.title)} | {markdown.text(shown_value(finding))} | "
            f"{markdown.text(measured.expected or '')} | {markdown.text(finding.message)} |"
        )
    return rows


# --- text ------------------------------------------------------------------------------


def text(report: GateReport) -> str:
    lines = [f"charter gate {report.gate}: {report.headline}"]
    for finding in sorted(report.checks, key=lambda c: ORDER[measured_by(c).status]):
        measured = measured_by(finding)
        if measured.status == "pass":
            continue
        value = f" = {shown_value(finding)}" if measured.value is not None else ""
        expected = f" (expected {measured.expected})" if measured.expected else ""
        message = f": {finding.message}" if finding.message else ""
        lines.append(f"  {measured.status.upper():<10} {measured.title}{value}{expected}{message}")
    for note in report.notes:
        lines.append(f"  note: {note}")
    counts = ", ".join(f"{n} {s}" for s, n in report.counts().items())
    lines.append(f"verdict: {report.verdict.upper()}" + (f" ({counts})" if counts else ""))
    return "\n".join(lines) + "\n"


# --- values ----------------------------------------------------------------------------


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


def render(report: GateReport, fmt: str) -> str:
    """What a gate prints, in `fmt`: its verdict (text), its report (JSON), its summary (Markdown), or its
    checks in any other format of findings."""
    own = {
        "text": lambda: text(report),
        "json": lambda: json_text(report),
        "markdown": lambda: markdown_summary(report),
    }
    checks = tuple(check.with_changes(message=_said(check)) for check in report.checks)
    return render_format(fmt, Report(checks, tool_version=__version__), own)


def _said(check: Diagnostic) -> str:
    """A check as one finding's message: what it judged, its value against what was expected, and why."""
    measured = measured_by(check)
    value = f" = {shown_value(check)}" if measured.value is not None else ""
    expected = f" (expected {measured.expected})" if measured.expected else ""
    return f"{measured.status}: {measured.title}{value}{expected}" + (f": {check.message}" if check.message else "")
