"""GitHub: findings as workflow commands (annotations on the PR diff) and as Checks API annotations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from compiler.core.codes import CODES
from compiler.core.diagnostics import Diagnostic, Severity, count_by_severity
from compiler.core.safe_names import escape_for_people
from compiler.reporters.findings import Report
from compiler.reporters.rules import rule_key
from compiler.reporters.text import plural

_COMMANDS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "notice",
}


def escape_data(value: str) -> str:
    # Same rules as @actions/core: an unescaped newline would end the command
    # and let spec text inject commands of its own.
    # Control and bidirectional characters are shown as escapes: logs and annotations are read by people.
    return escape_for_people(value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def title(d: Diagnostic) -> str:
    """`CH401 Reference to something that does not exist`; a policy rule's finding names the rule instead
    (`CH500 eu-ai-act-evidence/evaluation-evidence`), the name waivers and `severityOverrides` use."""
    key = rule_key(d)
    if key is not None:
        return f"{d.code} {key}"
    code = CODES.get(d.code)
    return f"{d.code} {code.title}" if code else d.code


def render(report: Report) -> str:
    lines = [_command(d) for d in report.diagnostics]
    counts = count_by_severity(report.diagnostics)
    errors = plural(counts[Severity.ERROR], "error")
    warnings = plural(counts[Severity.WARNING], "warning")
    lines.append(f"charter: {errors}, {warnings}")
    return "\n".join(lines) + "\n"


def _command(d: Diagnostic) -> str:
    # A waived finding must not fail or clutter the review, but stays visible.
    command = "notice" if d.suppressed else _COMMANDS[d.severity]
    properties = {
        "file": _from_workspace(d.file),
        "line": d.line,
        "col": d.column,
        "endLine": d.end_line,
        "endColumn": d.end_column,
        "title": title(d),
    }
    rendered = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items() if value)
    message = d.message
    if d.waiver is not None:
        message += f" (waived by {d.waiver})"
    if d.hint:
        message += f"\nHint: {d.hint}"
    return f"::{command} {rendered}::{escape_data(message)}"


def _from_workspace(file: str) -> str:
    """GitHub places an annotation at a path from the repository root (GITHUB_WORKSPACE); a project in `ml/` of a
    monorepo is checked from `ml/` (the workflows' working-directory), where its findings say `models/x.yaml`."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if not workspace or not file or os.path.isabs(file):
        return file
    try:
        return (Path.cwd() / file).resolve().relative_to(Path(workspace).resolve()).as_posix()
    except (ValueError, OSError):
        return file  # outside the checkout (a built-in policy pack): as the finding names it


_CHECK_LEVELS = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.INFO: "notice"}


def annotation(d: Diagnostic, path: str, limit: int) -> dict[str, Any]:
    """A finding as a Checks API annotation on `path` (relative to the repository); texts cut at `limit`."""
    start = max(d.line, 1)
    end = max(d.end_line, start)
    said = d.message + (f" ({d.note})" if d.note else "") + (f" (waived by {d.waiver})" if d.waiver else "")
    message = escape_for_people(said)
    annotation: dict[str, Any] = {
        "path": path,
        "start_line": start,
        "end_line": end,
        "annotation_level": "notice" if d.suppressed else _CHECK_LEVELS[d.severity],
        "message": message[:limit],
        "title": escape_for_people(title(d))[:255],
    }
    # Columns only on a one-line span, as the API requires.
    if start == end and d.column > 0 and d.line > 0:
        annotation["start_column"] = d.column
        annotation["end_column"] = max(d.end_column - 1, d.column) if d.end_column else d.column
    details = [escape_for_people(part) for part in (f"hint: {d.hint}" if d.hint else None, _policy(d)) if part]
    if details:
        annotation["raw_details"] = "\n".join(details)[:limit]
    return annotation


def _policy(d: Diagnostic) -> str | None:
    if d.policy is None:
        return None
    return f"policy: {d.policy}" + (f" / {d.rule}" if d.rule else "")
