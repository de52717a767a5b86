"""Spec files that no glob reads: a `.yml` contract beside `specs: ["**/*.yaml"]` is silently unchecked.

Only the head of each file is read (its first lines must be an `apiVersion`
and a `kind` that Charter knows), never through a symbolic link, and never
in directories a run skips anyway (outputs, `.git`, virtual environments).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from compiler.core import repofs
from compiler.core.diagnostics import Diagnostic
from compiler.core.models import ALL_KINDS
from compiler.core.models.project import Project, output_dirs
from compiler.core.sources import Kind, Sources

_HEAD_BYTES = 4096
_HEAD_LINES = 2
_ENVELOPE = re.compile(r"^(apiVersion|kind):[ \t]*['\"]?([^'\"#\s]*)")


def unchecked_specs(sources: Sources, project: Project | None, checked: list[str]) -> list[Diagnostic]:
    """A warning for each YAML file under the root that starts like a spec and that no glob matches."""
    read = set(checked)
    excluded = list(project.spec.exclude) if project else []
    outputs = [PurePosixPath(out) for out in output_dirs(project)]
    base = sources.project
    findings = []
    for path, kind in sources.walk(base):
        relative = PurePosixPath(path[len(base) + 1 :] if base else path)
        if kind is not Kind.FILE or path in read or relative.name.startswith("."):
            continue
        if not relative.name.endswith((".yaml", ".yml")) or any(relative.is_relative_to(out) for out in outputs):
            continue
        if any(relative.match(pattern) for pattern in excluded):
            continue
        kind_line = _spec_kind_line(_head(sources, path))
        if kind_line is not None:
            findings.append(_finding(sources.display(path), relative.name, *kind_line))
    return findings


def _head(sources: Sources, path: str) -> str:
    try:
        raw = sources.read(path, _HEAD_BYTES)
    except repofs.TooLarge:
        raw = sources.read(path, repofs.DEFAULT_CAP)[:_HEAD_BYTES]
    except (repofs.Refused, OSError):
        return ""
    return raw[:_HEAD_BYTES].decode("utf-8", errors="replace")


def _spec_kind_line(head: str) -> tuple[str, int] | None:
    """(kind, line of `kind:`) when the file's first lines are a Charter envelope."""
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


def _finding(file: str, name: str, kind: str, line: int) -> Diagnostic:
    return Diagnostic.of(
        "CH412",
        f"this {kind} spec is not checked: no glob in `spec.specs` matches `{name}`",
        file,
        line=line,
        column=1,
        hint='add a glob that matches it to `spec.specs` in charter.yaml (for example "**/*.yml"), '
        "or list it in `spec.exclude` if it is not meant to be checked",
    )
