"""GitHub Actions workflow commands: findings become annotations on the PR diff."""

from __future__ import annotations

from compiler.core.codes import CODES
from compiler.core.diagnostics import Diagnostic, Severity, count_by_severity
from compiler.core.safe_names import escape_for_people
from compiler.reporters import Report
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
    code = CODES.get(d.code)
    properties = {
        "file": d.file,
        "line": d.line,
        "col": d.column,
        "endLine": d.end_line,
        "endColumn": d.end_column,
        "title": f"{d.code} {code.title}" if code else d.code,
    }
    rendered = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items() if value)
    message = d.message
    if d.waiver is not None:
        message += f" (waived by {d.waiver})"
    if d.hint:
        message += f"\nHint: {d.hint}"
    return f"::{command} {rendered}::{escape_data(message)}"
