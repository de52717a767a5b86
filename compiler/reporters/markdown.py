"""Findings as GitHub-flavoured Markdown: for check-run summaries, pull-request comments and plans.

Spec text is escaped by the one Markdown escaper (`compiler.core.markdown`): prose
cannot become HTML, a mention or a table break, and code spans hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from compiler.core.diagnostics import Diagnostic, Severity, count_by_severity, sort_diagnostics
from compiler.core.markdown import code, inline
from compiler.core.markdown import text as md
from compiler.reporters.findings import Report
from compiler.reporters.text import plural

TABLE_HEADER = ("| severity | code | where | message |", "|---|---|---|---|")
BREAKING_HEADER = ("| severity | change | spec | where | concerns |", "|---|---|---|---|---|")
_ICONS = {Severity.ERROR: "🔴", Severity.WARNING: "🟠", Severity.INFO: "🔵"}
FLIPS_SHOWN = 20


def where(file: str, line: int, column: int = 0) -> str:
    """`file:line[:column]`, or the file alone for a finding about a whole file."""
    if line <= 0:
        return file
    return f"{file}:{line}:{column}" if column > 0 else f"{file}:{line}"


def tally(diagnostics: Iterable[Diagnostic]) -> tuple[str, int]:
    """`1 error, 2 warnings, 0 infos` (waived findings not counted), and how many were waived."""
    found = list(diagnostics)
    counts = count_by_severity(found)
    return ", ".join(plural(counts[s], s.value) for s in Severity), sum(1 for d in found if d.suppressed)


def finding_line(d: Diagnostic) -> str:
    """One finding as a list item's text: severity, code, place, message."""
    waived = f" (waived by {code(d.waiver)})" if d.waiver else ""
    return f"**{d.severity.value}** {d.code} {code(where(d.file, d.line))}: {inline(d.message)}{waived}"


def finding_row(d: Diagnostic) -> str:
    """One finding as a row of the findings table (`TABLE_HEADER`)."""
    place = code(f"{d.file}:{d.line}" if d.line else d.file or "-")
    return f"| {'waived' if d.suppressed else d.severity.value} | {d.code} | {place} | {inline(d.message)} |"


def breaking_row(d: Diagnostic) -> str:
    """A breaking change as a row of the plan's table (`BREAKING_HEADER`): what, the verdicts it flips, who."""
    text = inline(d.message)
    if d.flips:
        text += "<br>" + "<br>".join(
            f"{code(f.policy)}: {f.kind} {code(f.name)} {f.before} → {f.after}" for f in d.flips[:FLIPS_SHOWN]
        )
        if len(d.flips) > FLIPS_SHOWN:
            text += f"<br>and {len(d.flips) - FLIPS_SHOWN} more"
    if d.note:
        text += f"<br>_{md(d.note)}_"
    return (
        f"| {_ICONS[d.severity]} {d.severity.value} | {text} "
        f"| {d.kind} {code(d.name or '')} | {code(where(d.file, d.line))} "
        f"| {md(', '.join(d.concerns)) or '-'} |"
    )


def findings_table(diagnostics: Sequence[Diagnostic], budget: int) -> list[str]:
    """The findings table, in order, in at most `budget` characters; a last line says how many did not fit."""
    lines = list(TABLE_HEADER)
    used = sum(len(line) + 1 for line in lines)
    for shown, d in enumerate(sort_diagnostics(diagnostics)):
        row = finding_row(d)
        if used + len(row) > budget:
            lines.append(f"\n... and {len(diagnostics) - shown} more, all annotated on their lines.")
            break
        lines.append(row)
        used += len(row) + 1
    return lines


def render(report: Report) -> str:
    """A run's findings as a Markdown report: the tally, then the table."""
    files = plural(report.files_checked, "file")
    if not report.diagnostics:
        return f"**All checks passed** in {files}, {plural(report.specs_checked, 'spec')}.\n"
    counts, waived = tally(report.diagnostics)
    lines = [f"**{counts}**{f' ({waived} waived)' if waived else ''} in {files}.", ""]
    lines += findings_table(report.diagnostics, budget=65_000)
    return "\n".join(lines) + "\n"
