"""Discover: which files a run reads, and each one read within its caps (`safe_load`).

The project file is read first (its globs and settings decide the rest); then every entry under the project
is listed once (not hidden, not excluded, not in an output directory) and the globs choose the spec files.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import PurePosixPath

from compiler.core import repofs
from compiler.core.diagnostics import Diagnostic
from compiler.core.models.project import DEFAULT_SPEC_GLOBS, Project, output_dirs
from compiler.core.sources import PROJECT_FILES, Kind, Sources
from compiler.stages.read.load import SourceFile
from compiler.stages.read.reading import load_repo_file
from compiler.stages.read.unchecked import Entry, unchecked_specs
from compiler.stages.run import internal


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
    """Every entry the globs match, links and special files included: loading them reports why they are refused.

    The last answer is kept for the same paths and globs: an editor's server asks on every keystroke, and
    matching 2,000 entries against the globs again was a tenth of an edit's check (issue 26)."""
    patterns = tuple(project.spec.specs if project else DEFAULT_SPEC_GLOBS)
    key = (patterns, tuple(entry.path for entry in entries), tuple(entry.relative for entry in entries))
    if _LAST_MATCH and _LAST_MATCH[0][0] == key:
        return list(_LAST_MATCH[0][1])
    globs = [_parts(pattern) for pattern in patterns]
    files = sorted(entry.path for entry in entries if any(_glob_match(entry.parts, glob) for glob in globs))
    _LAST_MATCH[:] = [(key, tuple(files))]
    return files


_LAST_MATCH: list[tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]] = []


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


@dataclass(frozen=True)
class Discovered:
    """What a run may read (`entries`), the spec files among them, and the project file."""

    entries: list[Entry]
    files: list[str]
    project: str | None


def discover(
    sources: Sources, project: Project | None, project_path: str | None
) -> tuple[Discovered, list[Diagnostic]]:
    """The spec files the project's globs choose (or the one file asked for), and the warnings of discovery:
    spec-like files no glob reads, no spec file at all."""
    candidates = [] if sources.only else project_entries(sources, project)
    files = [sources.inside(sources.only)] if sources.only else spec_files(candidates, project)
    if project_path is not None and project_path not in files:
        # Globs that miss charter.yaml must not hide its findings (a `${{` in it, say).
        files.insert(0, project_path)
    findings = [] if sources.only else unchecked_specs(sources, candidates, files)
    if not files:
        findings.append(Diagnostic.of("CH901", "no spec files found", sources.display(sources.project)))
    return Discovered(candidates, files, project_path), findings


def safe_load(sources: Sources, relative: str) -> SourceFile:
    """One file read within its caps; a loader bug becomes a finding (CH900) for that file."""
    display = sources.display(relative)
    try:
        return load_repo_file(sources, relative, display)
    except Exception as error:  # noqa: BLE001 - a loader bug must not stop the run
        source = SourceFile(display)
        source.diagnostics.append(internal(error, display))
        return source
