"""One rendered file: what render gives emit, the plan, the gitops snapshot and the report.

A shared type (`compiler.core`): only the render stage (`compiler.stages.render`) builds it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Output:
    path: str
    text: str
    source: str
    model: str | None = None
    """The model the file was rendered for (its lineage in `charter report`); None for project-wide files."""
