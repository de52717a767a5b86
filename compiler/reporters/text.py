"""Human output in the rustc/ruff style: location, finding, source line, caret."""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from compiler.core.diagnostics import Diagnostic, Severity, count_by_severity
from compiler.core.lines import Lines
from compiler.core.safe_names import escape_for_people
from compiler.reporters.findings import Report

TAB_SIZE = 4
# A source line is quoted up to this many characters around the finding: a message never echoes a document.
EXCERPT = 160
_STYLES = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}
_GUTTER = "cyan"


def safe(value: str) -> str:
    # Spec text is untrusted: an ESC or CR must not drive the terminal, nor U+202E reorder what is read.
    return escape_for_people(value)


def _indented(value: str) -> str:
    # Continuation lines of a multi-line message stay visibly part of it.
    return safe(value).replace("\n", "\n    ")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def render(report: Report) -> str:
    out = Text()
    lines = Lines(report.sources)
    for diagnostic in report.diagnostics:
        _finding(out, diagnostic, lines.of(diagnostic.file))
    out.append(_summary(report))
    if not report.color:
        return out.plain + "\n"
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=True,
        color_system="standard",
        soft_wrap=True,
        width=200,
        highlight=False,
        markup=False,
        emoji=False,
        tab_size=TAB_SIZE,
    )
    console.print(out)
    return buffer.getvalue()


def _finding(out: Text, d: Diagnostic, lines: Sequence[str]) -> None:
    style = _STYLES[d.severity]
    if not d.file:
        out.append("charter: ", style="bold")
    elif d.line <= 0:
        out.append(f"{safe(d.file)}: ", style="bold")
    else:
        out.append(f"{safe(d.file)}:{d.line}:{max(d.column, 1)}: ", style="bold")
    # A waived finding no longer counts, so it does not wear its severity: `waived[...]`, and says what it was.
    style = "dim" if d.waiver is not None else style
    out.append(_label(d), style=f"bold {style}")
    out.append("[", style=style)
    out.append(_name(d), style="bold")
    out.append("]", style=style)
    out.append(f" {_indented(d.message)}")
    if d.waiver is not None:
        out.append(f" ({_waived(d)})", style="dim")
    out.append("\n")
    if 0 < d.line <= len(lines):
        _snippet(out, *_excerpt(lines[d.line - 1], d), style)
    if d.hint:
        out.append("  = ", style=_GUTTER)
        out.append(f"hint: {_indented(d.hint)}\n")


def _snippet(out: Text, d: Diagnostic, line: str, style: str) -> None:
    shown, starts = _expand(safe(line))
    # end_column is exclusive (as in SARIF); unknown or on a later line: to end of line.
    first = min(max(d.column, 1), len(starts)) - 1
    last = len(starts) - 1
    if d.end_line == d.line and d.end_column > d.column:
        last = min(d.end_column - 1, len(starts) - 1)
    pad = starts[first]
    width = max(starts[last] - pad, 1)
    number = str(d.line)
    out.append(f" {number} | ", style=_GUTTER)
    out.append(f"{shown}\n")
    out.append(f" {' ' * len(number)} | ", style=_GUTTER)
    out.append(" " * pad)
    out.append("^" + "~" * (width - 1), style=f"bold {style}")
    out.append("\n")


def _excerpt(line: str, d: Diagnostic) -> tuple[Diagnostic, str]:
    """At most `EXCERPT` characters of the line, around the finding, with its columns moved to match."""
    if len(line) <= EXCERPT:
        return d, line
    first = max(d.column, 1) - 1
    start = max(0, min(first - EXCERPT // 4, len(line) - EXCERPT))
    end = start + EXCERPT
    prefix, suffix = ("…" if start else ""), ("…" if end < len(line) else "")
    shift = start - len(prefix)
    shown = prefix + line[start:end] + suffix
    end_column = min(d.end_column - shift, len(shown) + 1) if d.end_column > shift else 0
    return d.with_changes(column=max(d.column - shift, 1), end_column=end_column), shown


def _expand(line: str) -> tuple[str, list[int]]:
    """Expand tabs, and give the display cell where each character starts.

    The last entry is the end of the line, so a caret can point just past it.
    Wide characters (CJK, emoji) take two cells, which keeps the caret aligned.
    """
    pieces: list[str] = []
    starts: list[int] = []
    cell = 0
    for char in line:
        starts.append(cell)
        piece = " " * (TAB_SIZE - cell % TAB_SIZE) if char == "\t" else char
        pieces.append(piece)
        cell += cell_len(piece)
    starts.append(cell)
    return "".join(pieces), starts


def _where(d: Diagnostic) -> str:
    if d.line <= 0:
        return d.file
    return f"{d.file}:{d.line}:{d.column}" if d.column > 0 else f"{d.file}:{d.line}"


def _label(d: Diagnostic) -> str:
    return "waived" if d.waiver is not None else d.severity.value


def _name(d: Diagnostic) -> str:
    """The code, and for a policy's finding its `policy/rule`: what waivers and `severityOverrides` name."""
    return f"{d.code} {safe(d.policy)}/{safe(d.rule)}" if d.policy and d.rule else d.code


def _waived(d: Diagnostic) -> str:
    article = "an" if d.severity is Severity.ERROR or d.severity is Severity.INFO else "a"
    return f"{article} {d.severity.value}, waived by {safe(d.waiver or '')}"


def one_line(d: Diagnostic) -> str:
    """A finding on one line, without its source excerpt: `error[CH401] file:line:column: message`."""
    waived = f" ({_waived(d)})" if d.waiver else ""
    return f"{_label(d)}[{_name(d)}] {safe(_where(d))}: {safe(d.message)}{waived}"


def breaking_lines(d: Diagnostic) -> list[str]:
    """A breaking change as `charter plan` prints it: where and which rule, what, the verdicts it flips, who."""
    subject = f"{d.kind} `{d.name or ''}`: "
    # A message that names its spec already (`Model `x`: label ...`) is not prefixed with it a second time.
    said = d.message if d.message.startswith(subject) else subject + d.message
    out = [f"  {d.severity.value:<8} {safe(_where(d))}  [{d.rule}]", f"           {safe(said)}"]
    out += [f"             {flip.policy}: {safe(flip.describe())}" for flip in d.flips]
    if d.note:
        out.append(f"           note: {safe(d.note)}")
    if d.concerns:
        out.append(f"           concerns: {safe(', '.join(d.concerns))}")
    return out


def _summary(report: Report) -> str:
    files = plural(report.files_checked, "file")
    if not report.diagnostics:
        return f"All checks passed: {files}, {plural(report.specs_checked, 'spec')}."
    counts = count_by_severity(report.diagnostics)
    waived = sum(1 for d in report.diagnostics if d.suppressed)
    parts = ", ".join(plural(counts[s], s.value) for s in Severity)
    note = f" ({waived} waived)" if waived else ""
    return f"{parts}{note} in {files}."
