"""The pipeline's working state while it runs, frozen into `Checked` at the end (`compiler.stages.pipeline`).

Each stage adds to it in order: read and validate add each file (`FileResult`), resolve and policy add their
findings. Nothing here reads or judges a file: it only holds what the stages found.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path

from compiler.core.diagnostics import Diagnostic
from compiler.core.invalid import Invalid
from compiler.core.models.project import Project
from compiler.core.sources import Sources
from compiler.core.specs import Spec
from compiler.stages.read.load import SourceFile


@dataclass(frozen=True)
class FileResult:
    """One file read and validated: its text, its findings (reading's first), its valid specs, and its documents
    that failed validation, still known by kind and name (`compiler.core.invalid`)."""

    path: str
    text: str
    diagnostics: list[Diagnostic]
    specs: list[Spec]
    invalid: list[Invalid] = field(default_factory=list)
    records: dict[str, SourceFile] = field(default_factory=dict)
    """The evidence records of its models' current versions, read with it (`compiler.stages.pipeline`)."""


@dataclass
class Run:
    """What the stages found so far."""

    sources: Sources
    diagnostics: list[Diagnostic] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    specs: list[Spec] = field(default_factory=list)
    project: Project | None = None
    invalid: list[Invalid] = field(default_factory=list)  # documents that failed validation, by kind and name
    records: dict[str, SourceFile] = field(default_factory=dict)
    """Evidence records read ahead on every core, by top-relative path (`compiler.stages.pipeline`)."""

    def add(self, result: FileResult) -> None:
        self.texts[result.path] = result.text
        self.diagnostics.extend(result.diagnostics)
        self.specs.extend(result.specs)
        self.invalid.extend(result.invalid)
        self.records.update(result.records)


def internal(error: Exception, file: str) -> Diagnostic:
    """A bug of Charter's met on one file: a finding (CH900) for that file, and the run goes on."""
    where = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    origin = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
    return Diagnostic.of(
        "CH900",
        f"internal error: {type(error).__name__}: {error}{origin}",
        file,
        hint="please report this with the file that caused it",
    )
