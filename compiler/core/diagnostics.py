"""The one finding type every stage produces and every output format reads."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

PathSegment = str | int


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A finding with its exact place in the user's YAML.

    Lines and columns are 1-based, as editors show them; 0 means unknown
    (a finding about a whole file or about the run itself).
    """

    code: str
    severity: Severity
    message: str
    file: str
    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    path: tuple[PathSegment, ...] = ()
    hint: str | None = None
    document: int = 0
    policy: str | None = None
    rule: str | None = None
    waiver: str | None = None
    related: tuple[str, ...] = field(default=())

    @property
    def suppressed(self) -> bool:
        return self.waiver is not None

    @property
    def dotted_path(self) -> str:
        return format_path(self.path)

    def with_changes(self, **changes: Any) -> Diagnostic:
        return replace(self, **changes)

    def sort_key(self) -> tuple[str, int, int, int, str, str]:
        return (self.file, self.line, self.column, self.severity.rank, self.code, self.message)


def format_path(path: Iterable[PathSegment]) -> str:
    """`spec.deployments[0].environment`: the notation users type in policies and docs."""
    out = ""
    for segment in path:
        if isinstance(segment, int):
            out += f"[{segment}]"
        else:
            out += f".{segment}" if out else segment
    return out


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(set(diagnostics), key=Diagnostic.sort_key)


def count_by_severity(diagnostics: Iterable[Diagnostic]) -> dict[Severity, int]:
    counts = dict.fromkeys(Severity, 0)
    for diagnostic in diagnostics:
        if not diagnostic.suppressed:
            counts[diagnostic.severity] += 1
    return counts


def exit_code(diagnostics: Iterable[Diagnostic]) -> int:
    """0 when nothing blocks (warnings allowed), 1 when an unwaived error remains."""
    return 1 if count_by_severity(diagnostics)[Severity.ERROR] else 0
