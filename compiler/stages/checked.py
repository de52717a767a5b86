"""What the pipeline gives every command: the findings, the specs and what they resolved to, frozen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from compiler.core.diagnostics import Diagnostic
from compiler.core.models.project import Project
from compiler.core.resolved import Resolved
from compiler.core.sources import Sources
from compiler.core.specs import Spec
from compiler.evidence.store import EvidenceByModel


@dataclass(frozen=True)
class Checked:
    """What the door gives every command: never changed after the fact (use `dataclasses.replace`)."""

    input: Sources
    diagnostics: list[Diagnostic]
    sources: Mapping[str, str]  # display path -> the text that was read, for excerpts
    files: int
    specs: list[Spec]  # every valid spec of the project, the Project included
    project: Project | None
    resolved: Resolved | None
    policies: list[Spec]  # what was evaluated: the project's, its directories' and the packs' Policy specs
    evidence: EvidenceByModel  # per model: the committed evidence of its current version
    applied: frozenset[tuple[str, str, str]]  # (policy, kind, name) for every policy whose match held on a spec
    counted: int | None = None  # how many specs the project holds, when `specs` holds only those read again
    read: frozenset[str] = frozenset()  # with `counted`: the files read again (`sources` may hold more texts)

    @property
    def spec_count(self) -> int:
        return len(self.specs) if self.counted is None else self.counted

    @property
    def complete(self) -> bool:
        """Whether `specs` and `resolved` hold the whole project (a cached check reads only what changed)."""
        return self.counted is None

    @property
    def root(self) -> Path:
        """The project root as the working tree shows it."""
        return self.input.shown_as
