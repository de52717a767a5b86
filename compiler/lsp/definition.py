"""Go to definition and find references across files: what a reference names, and who names it."""

from __future__ import annotations

from lsprotocol import types

from compiler.core.diagnostics import PathSegment
from compiler.core.specs import Spec
from compiler.lsp.convert import span_range
from compiler.lsp.targets import Target, declared_at, target_at, usages
from compiler.lsp.workspace import Workspace


def definition(project: Workspace, uri: str, position: types.Position) -> list[types.Location] | None:
    target = _target(project, uri, position)
    if target is None or project.checked is None:
        return None
    declared = declared_at(project.checked, target)
    return [location(project, *declared)] if declared is not None else None


def references(
    project: Workspace, uri: str, position: types.Position, include_declaration: bool = True
) -> list[types.Location] | None:
    target = _target(project, uri, position)
    if target is None or project.checked is None:
        return None
    found = [location(project, spec, path) for spec, path in usages(project.checked, target)]
    declared = declared_at(project.checked, target)
    if include_declaration and declared is not None:
        found.insert(0, location(project, *declared))
    return found


def location(project: Workspace, spec: Spec, path: tuple[PathSegment, ...]) -> types.Location:
    """Where a path of a spec is, as an LSP location in the editor's spelling of the file."""
    span = spec.span(path)
    lines = project.lines.of(spec.file)
    return types.Location(
        project.uri_of(spec.file), span_range(lines, span.line, span.column, span.end_line, span.end_column)
    )


def _target(project: Workspace, uri: str, position: types.Position) -> Target | None:
    cursor = project.cursor(uri, position)
    if cursor is None or cursor.new_key:
        return None
    spec = project.spec_at(uri, cursor.line, cursor.document)
    return target_at(spec, cursor.path) if spec is not None else None
