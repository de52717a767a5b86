"""Discover and load: which files a run reads, and each file read into specs and findings.

The project file is read first (its globs and settings decide the rest); then every entry under the project
is listed once (not hidden, not excluded, not in an output directory) and the globs choose the spec files.
"""

from __future__ import annotations

import fnmatch
import traceback
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from compiler.core import repofs
from compiler.core.diagnostics import Diagnostic, Severity
from compiler.core.invalid import Invalid, invalid_of
from compiler.core.models.project import DEFAULT_SPEC_GLOBS, Project, output_dirs
from compiler.core.sources import PROJECT_FILES, Kind, Sources
from compiler.core.specs import Spec
from compiler.stages.load import SourceFile
from compiler.stages.reading import load_repo_file
from compiler.stages.unchecked import Entry
from compiler.stages.validate import validate


@dataclass
class Run:
    """The pipeline's working state, frozen into `Checked` at the end."""

    sources: Sources
    diagnostics: list[Diagnostic] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    specs: list[Spec] = field(default_factory=list)
    project: Project | None = None
    invalid: list[Invalid] = field(default_factory=list)  # documents that failed validation, by kind and name

    def take(self, source: SourceFile) -> None:
        self.texts[source.path] = source.text
        self.diagnostics.extend(source.diagnostics)
        for document in source.documents:
            try:
                spec, findings = validate(document)
            except Exception as error:  # noqa: BLE001 - one document's bug must not stop the run
                self.diagnostics.append(internal(error, source.path))
                continue
            self.diagnostics.extend(findings)
            if spec is not None:
                self.specs.append(spec)
            elif findings:
                self.note_invalid(invalid_of(document))

    def note_invalid(self, invalid: Invalid | None) -> None:
        if invalid is not None:
            self.invalid.append(invalid)


def project_file(sources: Sources) -> str | None:
    if sources.only is not None:
        return None
    for name in PROJECT_FILES:
        relative = sources.inside(name)
        # A charter.yaml that is a link is still the project file: loading it reports the link.
        if sources.kind(relative) in (Kind.FILE, Kind.LINK, Kind.OTHER):
            return relative
    return None


def project_entries(sources: Sources, project: Project | None) -> list[Entry]:
    """What a run may read under the project, listed once: not hidden, not excluded, not in an output directory."""
    excluded = list(project.spec.exclude) if project else []
    # Output directories as `a/b/` prefixes: a string test per entry, on every keystroke of an editor.
    outputs = tuple(f"{PurePosixPath(out).as_posix().strip('/')}/" for out in output_dirs(project))
    base = sources.project
    entries = []
    for path, kind in sources.walk(base):
        relative = path[len(base) + 1 :] if base else path
        if relative.rpartition("/")[2].startswith(".") or f"{relative}/".startswith(outputs):
            continue
        if not excluded or not any(PurePosixPath(relative).match(pattern) for pattern in excluded):
            entries.append(Entry(path, relative, kind))
    return entries


def spec_files(entries: list[Entry], project: Project | None) -> list[str]:
    """Every entry the globs match, links and special files included: loading them reports why they are refused."""
    globs = [_parts(pattern) for pattern in (project.spec.specs if project else DEFAULT_SPEC_GLOBS)]
    return sorted(entry.path for entry in entries if any(_glob_match(entry.parts, glob) for glob in globs))


def matches_glob(relative: str, pattern: str) -> bool:
    """Whether a project-relative file path matches a glob of charter.yaml, with the spec globs' semantics."""
    return _glob_match(tuple(relative.split("/")), _parts(pattern))


def _parts(pattern: str) -> tuple[str, ...] | None:
    """A glob as components, None when it would leave the root (refused where charter.yaml is validated)."""
    try:
        repofs.relative_parts(pattern)
    except repofs.Refused:
        return None
    return tuple(part for part in PurePosixPath(pattern).parts if part != ".")


def _glob_match(parts: tuple[str, ...], glob: tuple[str, ...] | None) -> bool:
    """`Path.glob` semantics on a file's path: `**` is zero or more directories, `*` stays in one component."""
    if glob is None:
        return False
    if "**" not in glob[1:]:  # the usual globs (`models/*.yaml`, `**/*.yaml`): no recursion, same answer
        rest = glob[1:] if glob[:1] == ("**",) else glob
        if glob[:1] == ("**",) and not rest:
            return False
        tail = parts[len(parts) - len(rest) :] if len(parts) >= len(rest) else None
        fits = tail is not None and (glob[:1] == ("**",) or len(parts) == len(rest))
        return fits and all(fnmatch.fnmatchcase(part, pattern) for part, pattern in zip(tail or (), rest, strict=True))
    if not glob:
        return not parts
    if glob[0] == "**":
        # A trailing `**` matches directories only, never a file.
        return len(glob) > 1 and any(_glob_match(parts[skip:], glob[1:]) for skip in range(len(parts)))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], glob[0]) and _glob_match(parts[1:], glob[1:])


# --- load -------------------------------------------------------------------------------------------------


def load_project(run: Run, project_file: str | None) -> None:
    if project_file is None:
        return
    source = safe_load(run.sources, project_file)
    before = len(run.diagnostics)
    run.take(source)
    run.project = next((spec.model for spec in run.specs if isinstance(spec.model, Project)), None)
    # A charter.yaml with errors of its own (a Project that failed validation, an unknown kind) is reported by
    # them: one mistake, one finding. CH406 is for a file that is fine and still holds no Project.
    if run.project is None and not any(d.severity is Severity.ERROR for d in run.diagnostics[before:]):
        run.diagnostics.append(
            Diagnostic.of(
                "CH406",
                "charter.yaml holds no valid Project spec; defaults apply",
                source.path,
                hint="run `charter init` to see a complete Project spec",
            )
        )


def safe_load(sources: Sources, relative: str) -> SourceFile:
    display = sources.display(relative)
    try:
        return load_repo_file(sources, relative, display)
    except Exception as error:  # noqa: BLE001 - a loader bug must not stop the run
        source = SourceFile(display)
        source.diagnostics.append(internal(error, display))
        return source


def internal(error: Exception, file: str) -> Diagnostic:
    where = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    origin = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
    return Diagnostic.of(
        "CH900",
        f"internal error: {type(error).__name__}: {error}{origin}",
        file,
        hint="please report this with the file that caused it",
    )
