"""Code actions: the did-you-mean hints of findings as quick fixes, and renewing a waiver.

Renewing puts a new date in `expires` and leaves the approvers to the person: a renewal needs a fresh
approval, which no editor can give.
"""

from __future__ import annotations

import datetime
import re

from lsprotocol import types

from compiler.core.models.waiver import Waiver
from compiler.lsp.convert import span_range, to_lsp
from compiler.lsp.workspace import Workspace
from compiler.stages import current_date

RENEWAL = datetime.timedelta(days=90)
_DID_YOU_MEAN = re.compile(r"did you mean `([^`]+)`\?")


def code_actions(project: Workspace, uri: str, wanted: types.Range) -> list[types.CodeAction]:
    return [*_did_you_mean(project, uri, wanted), *_renew(project, uri, wanted)]


def _did_you_mean(project: Workspace, uri: str, wanted: types.Range) -> list[types.CodeAction]:
    checked, display = project.checked, project.display_of(uri)
    if checked is None or display is None:
        return []
    found = []
    for diagnostic in checked.diagnostics:
        match = _DID_YOU_MEAN.fullmatch(diagnostic.hint or "")
        if diagnostic.file != display or match is None or diagnostic.line == 0:
            continue
        shown = to_lsp(diagnostic, project.lines.of(display))
        if shown.range.start.line != shown.range.end.line or not _overlaps(shown.range, wanted):
            continue
        replacement = match.group(1)
        edit = types.TextEdit(shown.range, replacement)
        found.append(
            types.CodeAction(
                title=f"Replace with `{replacement}`",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[shown],
                is_preferred=True,
                edit=types.WorkspaceEdit(changes={uri: [edit]}),
            )
        )
    return found


def _renew(project: Workspace, uri: str, wanted: types.Range) -> list[types.CodeAction]:
    """In a Waiver: `expires` moved to 90 days from today."""
    checked = project.checked
    spec = project.spec_at(uri, wanted.start.line, 0)
    if checked is None or spec is None or not isinstance(spec.model, Waiver):
        return []
    span = spec.span(["spec", "expires"])
    if not span.exact:
        return []
    until = (current_date() + RENEWAL).isoformat()
    lines = project.lines.of(spec.file)
    edit = types.TextEdit(span_range(lines, span.line, span.column, span.end_line, span.end_column), until)
    expired = [d for d in project.published.get(uri, []) if d.code == "CH503"]
    return [
        types.CodeAction(
            title=f"Renew this waiver until {until} (approvers still to approve)",
            kind=types.CodeActionKind.QuickFix,
            diagnostics=expired or None,
            is_preferred=bool(expired),
            edit=types.WorkspaceEdit(changes={uri: [edit]}),
        )
    ]


def _overlaps(first: types.Range, second: types.Range) -> bool:
    def key(position: types.Position) -> tuple[int, int]:
        return (position.line, position.character)

    return key(first.start) <= key(second.end) and key(second.start) <= key(first.end)
