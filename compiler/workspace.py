"""Which files a run reads: the Project's globs, minus outputs and clutter."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from compiler.load import SourceFile, load_file
from compiler.models.project import DEFAULT_SPEC_GLOBS, Project

PROJECT_FILES = ("charter.yaml", "charter.yml")
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
        if candidate.is_file():
            return Layout(path, candidate)
    return Layout(path, None)


def display_path(path: Path) -> str:
    """Relative to the working directory when possible: what CI annotations need."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def spec_files(layout: Layout, project: Project | None) -> list[Path]:
    globs = project.spec.specs if project else list(DEFAULT_SPEC_GLOBS)
    excluded = set(project.spec.exclude) if project else set()
    outputs = output_dirs(layout, project)
    found: set[Path] = set()
    for pattern in globs:
        for candidate in layout.root.glob(pattern):
            if not candidate.is_file() or candidate.name.startswith(".") or _skipped(candidate, layout.root):
                continue
            relative = candidate.relative_to(layout.root)
            if any(relative.match(pattern) for pattern in excluded):
                continue
            resolved = candidate.resolve()
            if any(resolved.is_relative_to(out) for out in outputs):
                continue
            found.add(candidate)
    return sorted(found, key=lambda p: p.as_posix())


def output_dirs(layout: Layout, project: Project | None) -> list[Path]:
    """Where generated files go: never read as specs."""
    if project:
        outputs = [project.spec.outputs.workflows, project.spec.outputs.deploy, project.spec.outputs.docs]
    else:
        outputs = [".github", "deploy", "docs/models"]
    return [(layout.root / out).resolve() for out in outputs]


def skipped_dir(name: str) -> bool:
    """Directories no run reads: version control, environments, caches, anything hidden."""
    return name in _SKIPPED_DIRS or name.startswith(".")


def _skipped(candidate: Path, root: Path) -> bool:
    parts = candidate.relative_to(root).parts[:-1]
    return any(skipped_dir(part) for part in parts)


def load_all(paths: list[Path]) -> list[SourceFile]:
    return [load_file(path, display_path(path)) for path in paths]


def is_dir(path: str) -> bool:
    return os.path.isdir(path)
