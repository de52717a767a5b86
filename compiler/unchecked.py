"""Spec files that no glob reads: a `.yml` contract beside `specs: ["**/*.yaml"]` is silently unchecked.

Only the head of each file is read (its first lines must be an `apiVersion`
and a `kind` that Charter knows), never through a symbolic link, and never
in directories a run skips anyway (outputs, `.git`, virtual environments).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from compiler.diagnostics import Diagnostic
from compiler.models import ALL_KINDS
from compiler.models.project import Project
from compiler.workspace import Layout, display_path, output_dirs, skipped_dir

_HEAD_BYTES = 4096
_HEAD_LINES = 2
_ENVELOPE = re.compile(r"^(apiVersion|kind):[ \t]*['\"]?([^'\"#\s]*)")


def unchecked_specs(layout: Layout, project: Project | None, checked: list[Path]) -> list[Diagnostic]:
    """A warning for each YAML file under the root that starts like a spec and that no glob matches."""
    read = {path.resolve() for path in checked}
    excluded = list(project.spec.exclude) if project else []
    outputs = output_dirs(layout, project)
    findings = []
    for directory, subdirectories, names in os.walk(layout.root):
        here = Path(directory)
        subdirectories[:] = sorted(
            name
            for name in subdirectories
            if not skipped_dir(name) and not any((here / name).resolve().is_relative_to(out) for out in outputs)
        )
        for name in sorted(names):
            path = here / name
            if not name.endswith((".yaml", ".yml")) or name.startswith(".") or path.resolve() in read:
                continue
            if any(path.relative_to(layout.root).match(pattern) for pattern in excluded):
                continue
            kind_line = _spec_kind_line(path)
            if kind_line is not None:
                findings.append(_finding(path, *kind_line))
    return findings


def _spec_kind_line(path: Path) -> tuple[str, int] | None:
    """(kind, line of `kind:`) when the file's first lines are a Charter envelope."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None
    envelope: dict[str, tuple[str, int]] = {}
    for number, line in enumerate(head.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith(("#", "---", "%")):
            continue
        match = _ENVELOPE.match(line)
        if match is None:
            break
        envelope[match.group(1)] = (match.group(2), number)
        if len(envelope) == _HEAD_LINES:
            break
    kind = envelope.get("kind")
    if "apiVersion" not in envelope or kind is None or kind[0] not in ALL_KINDS:
        return None
    return kind


def _finding(path: Path, kind: str, line: int) -> Diagnostic:
    file = display_path(path)
    return Diagnostic.of(
        "CH412",
        f"this {kind} spec is not checked: no glob in `spec.specs` matches `{path.name}`",
        file,
        line=line,
        column=1,
        hint='add a glob that matches it to `spec.specs` in charter.yaml (for example "**/*.yml"), '
        "or list it in `spec.exclude` if it is not meant to be checked",
    )
