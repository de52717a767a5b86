"""The stages in order: discover -> load -> validate -> resolve (-> check -> render).

Data flows one way; every stage returns Diagnostics rather than raising, and
one file's failure never stops the others.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from compiler.diagnostics import Diagnostic, Severity, sort_diagnostics
from compiler.load import SourceFile, load_file
from compiler.models.project import Project
from compiler.resolve import Resolved, resolve
from compiler.specs import Spec
from compiler.validate import validate
from compiler.workspace import Layout, display_path, find_layout, spec_files

Progress = Callable[[int, int], None]


@dataclass
class CheckResult:
    root: Path
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    files: int = 0
    specs: list[Spec] = field(default_factory=list)
    project: Project | None = None
    resolved: Resolved | None = None


def check_path(path: Path, progress: Progress | None = None) -> CheckResult:
    layout = find_layout(path)
    result = CheckResult(layout.root)
    project_source = _load_project(layout, result)
    files = [path] if path.is_file() else spec_files(layout, result.project)
    if not files:
        result.diagnostics.append(Diagnostic("CH901", Severity.WARNING, "no spec files found", display_path(path)))
    for done, file in enumerate(files, 1):
        if project_source is not None and layout.project_file is not None and file == layout.project_file:
            source = project_source
        else:
            source = _safe_load(file)
        _take(result, source)
        if progress is not None:
            progress(done, len(files))
    result.files = len(files)
    known_policies: list[str] = []
    result.resolved = resolve(result.specs, known_policies)
    result.diagnostics.extend(result.resolved.diagnostics)
    result.diagnostics = sort_diagnostics(result.diagnostics)
    return result


def _load_project(layout: Layout, result: CheckResult) -> SourceFile | None:
    if layout.project_file is None:
        return None
    source = _safe_load(layout.project_file)
    for document in source.documents:
        if isinstance(document.data, dict) and document.data.get("kind") == "Project":
            spec, _ = validate(document)
            if spec is not None and isinstance(spec.model, Project):
                result.project = spec.model
    if result.project is None and not any(d.severity is Severity.ERROR for d in source.diagnostics):
        source.diagnostics.append(
            Diagnostic(
                "CH406",
                Severity.WARNING,
                "charter.yaml holds no valid Project spec; defaults apply",
                source.path,
                hint="run `charter init` to see a complete Project spec",
            )
        )
    return source


def _safe_load(file: Path) -> SourceFile:
    display = display_path(file)
    try:
        return load_file(file, display)
    except Exception as error:  # noqa: BLE001 - a loader bug must not stop the run
        source = SourceFile(display)
        source.diagnostics.append(_internal(error, display))
        return source


def _take(result: CheckResult, source: SourceFile) -> None:
    result.sources[source.path] = source.text
    result.diagnostics.extend(source.diagnostics)
    for document in source.documents:
        try:
            spec, findings = validate(document)
        except Exception as error:  # noqa: BLE001 - one document's bug must not stop the run
            result.diagnostics.append(_internal(error, source.path))
            continue
        result.diagnostics.extend(findings)
        if spec is not None:
            result.specs.append(spec)


def _internal(error: Exception, file: str) -> Diagnostic:
    where = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    origin = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
    return Diagnostic(
        "CH900",
        Severity.ERROR,
        f"internal error: {type(error).__name__}: {error}{origin}",
        file,
        hint="please report this with the file that caused it",
    )
