"""Which files a run reads: the Project's globs, minus outputs and clutter."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from compiler import repofs
from compiler.diagnostics import Diagnostic, Severity
from compiler.load import MAX_FILE_BYTES, SourceFile, load_bytes
from compiler.models.project import DEFAULT_SPEC_GLOBS, Project

PROJECT_FILES = ("charter.yaml", "charter.yml")
LINK_HINT = "commit the file itself; a link could point anywhere (a secret, /proc/self/environ)"
_SKIPPED_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".mypy_cache"})


@dataclass(frozen=True)
class Layout:
    root: Path
    project_file: Path | None


def find_layout(path: Path) -> Layout:
    if path.is_file():
        return Layout(path.parent, None)
    for name in PROJECT_FILES:
        candidate = path / name
        # A charter.yaml that is a link is still the project file: loading it reports the link.
        if candidate.is_file() or candidate.is_symlink():
            return Layout(path, candidate)
    return Layout(path, None)


def display_path(path: Path) -> str:
    """Relative to the working directory when possible: what CI annotations need."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def spec_files(layout: Layout, project: Project | None) -> list[Path]:
    """Every path the globs match, links and special files included: loading them reports why they are refused."""
    globs = project.spec.specs if project else list(DEFAULT_SPEC_GLOBS)
    excluded = set(project.spec.exclude) if project else set()
    outputs = [Path(out) for out in _output_names(project)]
    found: set[Path] = set()
    for pattern in globs:
        if not _inside_root(pattern):
            continue  # refused with its position when charter.yaml is validated
        for candidate in layout.root.glob(pattern):
            if candidate.name.startswith(".") or _skipped(candidate, layout.root) or _is_directory(candidate):
                continue
            relative = candidate.relative_to(layout.root)
            if any(relative.match(pattern) for pattern in excluded):
                continue
            if any(relative.is_relative_to(out) for out in outputs):
                continue
            found.add(candidate)
    return sorted(found, key=lambda p: p.as_posix())


def _inside_root(pattern: str) -> bool:
    try:
        repofs.relative_parts(pattern)
    except repofs.Refused:
        return False
    return True


def _is_directory(candidate: Path) -> bool:
    """Without following a link: a link to a directory is reported, not walked."""
    try:
        return stat.S_ISDIR(candidate.lstat().st_mode)
    except OSError:
        return True


def _output_names(project: Project | None) -> list[str]:
    if project:
        return [project.spec.outputs.workflows, project.spec.outputs.deploy, project.spec.outputs.docs]
    return [".github", "deploy", "docs/models"]


def output_dirs(layout: Layout, project: Project | None) -> list[Path]:
    """Where generated files go, as absolute paths: never read as specs."""
    return [(layout.root / out).resolve() for out in _output_names(project)]


def skipped_dir(name: str) -> bool:
    """Directories no run reads: version control, environments, caches, anything hidden."""
    return name in _SKIPPED_DIRS or name.startswith(".")


def _skipped(candidate: Path, root: Path) -> bool:
    parts = candidate.relative_to(root).parts[:-1]
    return any(skipped_dir(part) for part in parts)


def load_repo_file(root: Path, path: Path, display: str) -> SourceFile:
    """A spec, the project file or a policy, read through the one safe door (compiler/repofs.py)."""
    source = SourceFile(display)
    try:
        raw = repofs.read_bytes(root, repofs.relative_to_root(root, path), MAX_FILE_BYTES)
    except repofs.TooLarge:
        message = f"file is larger than the limit of {MAX_FILE_BYTES:,} bytes"
        source.diagnostics.append(Diagnostic("CH116", Severity.ERROR, message, display))
        return source
    except repofs.Refused as refused:
        source.diagnostics.append(unsafe_path_finding(refused, display))
        return source
    except OSError as error:
        message = f"cannot read file: {error.strerror}"
        source.diagnostics.append(Diagnostic("CH117", Severity.ERROR, message, display))
        return source
    return load_bytes(raw, display)


def unsafe_path_finding(refused: repofs.Refused, file: str, line: int = 0, column: int = 0) -> Diagnostic:
    hint = LINK_HINT if refused.symlink else "Charter reads and writes only regular files inside the project root"
    return Diagnostic(
        "CH120", Severity.ERROR, f"not read: {refused.reason}", file, line, column, line, column, hint=hint
    )


def is_dir(path: str) -> bool:
    return os.path.isdir(path)
