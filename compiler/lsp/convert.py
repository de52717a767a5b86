"""A Charter finding as an LSP diagnostic, and positions between Charter (1-based) and LSP (0-based, UTF-16).

The one place a `Diagnostic` becomes what an editor shows: the same range, code, severity, message and hint
as `charter check`. The hint follows the message on a line of its own (`hint: ...`), as in the text report;
a waived finding says who waived it, as there, and is shown as information since it blocks nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types

from compiler.core.diagnostics import Diagnostic, Severity

SOURCE = "charter"
DOCS = "https://github.com/charter-dev/charter/blob/main/docs/codes.md"
_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


def code_href(code: str) -> str:
    """Where a code is documented: its section of docs/codes.md (generated from the catalogue)."""
    return f"{DOCS}#{code.lower()}"


def to_lsp(diagnostic: Diagnostic, lines: Sequence[str]) -> types.Diagnostic:
    """`lines` are the file's (`compiler.core.lines.editor_lines`, split once per file), for UTF-16 columns and
    whole-line ranges; a finding of line 0 is on line 1."""
    line = max(diagnostic.line - 1, 0)
    start = types.Position(line, utf16(_line(lines, line), max(diagnostic.column - 1, 0)))
    if diagnostic.end_line > 0:
        end_line = diagnostic.end_line - 1
        end = types.Position(end_line, utf16(_line(lines, end_line), max(diagnostic.end_column - 1, 0)))
    else:
        end = types.Position(line, utf16(_line(lines, line), len(_line(lines, line))))
    if diagnostic.line == 0 or (end.line, end.character) < (start.line, start.character):
        end = types.Position(line, utf16(_line(lines, line), len(_line(lines, line))))
    waived = diagnostic.waiver is not None
    return types.Diagnostic(
        range=types.Range(start, end),
        message=message_of(diagnostic),
        severity=types.DiagnosticSeverity.Information if waived else _SEVERITY[diagnostic.severity],
        code=diagnostic.code,
        code_description=types.CodeDescription(href=code_href(diagnostic.code)),
        source=SOURCE,
    )


def message_of(diagnostic: Diagnostic) -> str:
    waived = f" (waived by {diagnostic.waiver})" if diagnostic.waiver else ""
    hint = f"\nhint: {diagnostic.hint}" if diagnostic.hint else ""
    return f"{diagnostic.message}{waived}{hint}"


def utf16(line: str, column: int) -> int:
    """A column in code points as LSP counts it by default: UTF-16 code units."""
    prefix = line[:column]
    return column + sum(1 for char in prefix if ord(char) > 0xFFFF)


def from_utf16(line: str, character: int) -> int:
    """An LSP (UTF-16) column as a code-point index into `line`."""
    units = 0
    for index, char in enumerate(line):
        if units >= character:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(line)


def span_range(lines: Sequence[str], line: int, column: int, end_line: int, end_column: int) -> types.Range:
    """A 1-based span of `compiler.core.positions` as an LSP range, in a file's `lines` (split once per file)."""
    start = types.Position(max(line - 1, 0), utf16(_line(lines, line - 1), max(column - 1, 0)))
    end = types.Position(max(end_line - 1, 0), utf16(_line(lines, end_line - 1), max(end_column - 1, 0)))
    return types.Range(start, end)


def _line(lines: Sequence[str], number: int) -> str:
    return lines[number].rstrip("\r") if 0 <= number < len(lines) else ""
