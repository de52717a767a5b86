"""At most `MAX_PER_DOCUMENT` findings per document, and one line (CH126) saying how many more there are.

A file of 12,000 unknown keys is one mistake repeated 12,000 times; every output (the terminal, the
editor, annotations, the pull-request comment) would carry all of them. The cap is applied once, on
what `pipeline.check` returns, so a cached or editor check shows exactly what a cold check shows.
Unwaived findings are kept first, errors before warnings before infos, and waived ones last, so the
exit code never changes: when an unwaived error is hidden, every finding shown is one.
"""

from __future__ import annotations

from collections.abc import Sequence

from compiler.core.diagnostics import Diagnostic, Severity

MAX_PER_DOCUMENT = 100


def cap_per_document(diagnostics: Sequence[Diagnostic], limit: int = MAX_PER_DOCUMENT) -> list[Diagnostic]:
    """The findings of each document of each file, the first `limit` by importance, then by position."""
    groups: dict[tuple[str, int], list[Diagnostic]] = {}
    for diagnostic in diagnostics:
        if diagnostic.file:
            groups.setdefault((diagnostic.file, diagnostic.document), []).append(diagnostic)
    if all(len(group) <= limit for group in groups.values()):
        return list(diagnostics)
    kept: list[Diagnostic] = [diagnostic for diagnostic in diagnostics if not diagnostic.file]
    for group in groups.values():
        if len(group) <= limit:
            kept.extend(group)
            continue
        ordered = sorted(group, key=_importance)
        kept.extend(ordered[:limit])
        kept.append(_summary(ordered[limit:], limit))
    return kept


def _importance(diagnostic: Diagnostic) -> tuple[bool, int, tuple[object, ...]]:
    return diagnostic.suppressed, diagnostic.severity.rank, diagnostic.sort_key()


def _summary(hidden: Sequence[Diagnostic], limit: int) -> Diagnostic:
    """One line at the first finding not shown (in file order), counting the hidden ones by severity."""
    first = min(hidden, key=Diagnostic.sort_key)
    counts = dict.fromkeys(Severity, 0)
    waived = 0
    for diagnostic in hidden:
        if diagnostic.suppressed:
            waived += 1
        else:
            counts[diagnostic.severity] += 1
    parts = [f"{count:,} {severity.value}{'s' if count != 1 else ''}" for severity, count in counts.items() if count]
    if waived:
        parts.append(f"{waived:,} waived")
    return Diagnostic.of(
        "CH126",
        f"{_more(len(hidden))} in this document ({', '.join(parts)}); at most {limit} are shown per document",
        first.file,
        line=first.line,
        column=first.column,
        end_line=first.end_line,
        end_column=first.end_column,
        path=first.path,
        hint="correct the findings shown and check again: many findings often have one cause",
        document=first.document,
    )


def _more(count: int) -> str:
    return "1 more finding is not shown" if count == 1 else f"{count:,} more findings are not shown"
