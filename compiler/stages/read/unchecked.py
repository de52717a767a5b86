"""Spec files that no glob reads: a `.yml` contract beside `specs: ["**/*.yaml"]` is silently unchecked.

Only the head of each file is read (its first lines must be an `apiVersion`
and a `kind` that Charter knows), never through a symbolic link, and never
in directories a run skips anyway (outputs, `.git`, virtual environments).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from compiler.core import repofs
from compiler.core.diagnostics import Diagnostic
from compiler.core.models import ALL_KINDS
from compiler.core.sources import Kind, Sources

_HEAD_BYTES = 4096
_HEAD_LINES = 2
_ENVELOPE = re.compile(r"^(apiVersion|kind):[ \t]*['\"]?([^'\"#\s]*)")


@dataclass(frozen=True, slots=True)
class Entry:
    """A file, link or special file under the project: its top-relative path and its project-relative one."""

    path: str
    relative: str  # POSIX, relative to the project root
    kind: Kind

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.relative.split("/"))

    @property
    def name(self) -> str:
        return self.relative.rpartition("/")[2]


def unchecked_specs(sources: Sources, entries: list[Entry], checked: list[str]) -> list[Diagnostic]:
    """A warning for each YAML file under the root that starts like a spec and that no glob matches.

    `entries` is what the run may read (`compiler.stages.pipeline.project_entries`): hidden, excluded and
    generated files are already left out.
    """
    read = set(checked)
    findings = []
    for entry in entries:
        if entry.kind is not Kind.FILE or entry.path in read or not entry.name.endswith((".yaml", ".yml")):
            continue
        kind_line = _spec_kind_line(_head(sources, entry.path))
        if kind_line is not None:
            findings.append(_finding(sources.display(entry.path), entry.name, *kind_line))
    return findings


def _head(sources: Sources, path: str) -> str:
    try:
        raw = sources.head(path, _HEAD_BYTES)
    except (repofs.Refused, OSError):
        return ""
    return raw.decode("utf-8", errors="replace")


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
