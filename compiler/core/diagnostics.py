"""The one finding type: what `check` finds, what `plan` calls a breaking change, what a gate judged.

Every finding has a code from the catalogue (`compiler.core.codes`), which also
gives its severity; every output format (`compiler.reporters`) reads this type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from compiler.core.codes import Severity, severity_of
from compiler.core.exit_codes import FINDINGS, OK

__all__ = [
    "PASS",
    "Diagnostic",
    "Finding",
    "Flip",
    "Measurement",
    "PathSegment",
    "Severity",
    "count_by_severity",
    "exit_code",
    "format_path",
    "sort_diagnostics",
]

PathSegment = str | int
PASS = "pass"
VERDICT_RANK = {"error": 0, "warning": 1, "info": 2, PASS: 3}


@dataclass(frozen=True, slots=True)
class Flip:
    """A policy's verdict on one spec, before and after a change: error, warning, info or pass."""

    policy: str
    kind: str
    name: str
    before: str
    after: str

    @property
    def loosened(self) -> bool:
        return VERDICT_RANK[self.after] > VERDICT_RANK[self.before]

    def describe(self) -> str:
        return f"{self.kind} `{self.name}`: {self.before} -> {self.after}"


@dataclass(frozen=True, slots=True)
class Measurement:
    """What a runtime gate measured for one check, and how it judged it.

    `status` is the gate's verdict on the check (pass, fail, warn, no-verdict,
    skipped, info); `id` names the check within its report (`income.required`).
    """

    id: str
    title: str
    status: str
    target: str | None = None
    # Values come from data (NumPy scalars, lists): they say what was seen but are no part of identity.
    value: Any = field(default=None, compare=False)
    expected: str | None = None
    unit: str = ""
    details: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A finding with its exact place in the user's YAML.

    Lines and columns are 1-based, as editors show them; 0 means unknown
    (a finding about a whole file or about the run itself). A breaking change
    also names the spec it is about (`kind`, `name`), the people it concerns
    and the policy verdicts it flips; a gate's check carries what it measured.
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
    kind: str | None = None
    name: str | None = None
    concerns: tuple[str, ...] = ()
    flips: tuple[Flip, ...] = ()
    note: str | None = None
    measured: Measurement | None = None

    @classmethod
    def of(
        cls, code: str, message: str, file: str = "", *, severity: Severity | None = None, **fields: Any
    ) -> Diagnostic:
        """A finding with the catalogue's severity for `code` (UnknownCode when it has none).

        `severity` is for findings whose design lets it be set: a policy rule's own
        severity, a `severityOverrides` entry, a breaking change announced by a major version.
        """
        return cls(code, severity or severity_of(code), message, file, **fields)

    @property
    def suppressed(self) -> bool:
        return self.waiver is not None

    @property
    def dotted_path(self) -> str:
        return format_path(self.path)

    def with_changes(self, **changes: Any) -> Diagnostic:
        return replace(self, **changes)

    def sort_key(self) -> tuple[str, int, int, int, str, str, str, str, str, str, str]:
        """Position, severity, code and message first; then what tells apart two findings that share those
        (two rules of a policy failing on one field with one message), so that the order never depends on
        the order the findings were made in."""
        return (
            self.file,
            self.line,
            self.column,
            self.severity.rank,
            self.code,
            self.message,
            self.policy or "",
            self.rule or "",
            self.hint or "",
            self.waiver or "",
            repr((self.end_line, self.end_column, self.document, self.path, self.related, self.kind, self.name)),
        )


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
    return FINDINGS if count_by_severity(diagnostics)[Severity.ERROR] else OK


# The one finding type, by the name the design gives it.
Finding = Diagnostic
