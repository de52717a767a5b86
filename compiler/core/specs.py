"""A validated spec: the typed object, and the document it came from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from compiler.core.codes import severity_of
from compiler.core.contracts import Contract
from compiler.core.diagnostics import Diagnostic, PathSegment, Severity
from compiler.core.documents import Document
from compiler.core.models import CharterModel
from compiler.core.pickled import by_fields
from compiler.core.positions import Span, locate


@by_fields
@dataclass(frozen=True, slots=True)
class Spec:
    kind: str
    name: str
    document: Document
    model: CharterModel | None = None
    contract: Contract | None = None

    @property
    def file(self) -> str:
        return self.document.file

    @property
    def data(self) -> Any:
        return self.document.data

    @property
    def label(self) -> str:
        return f"{self.kind} `{self.name}`"

    def span(self, path: Sequence[PathSegment], *, key: bool = False) -> Span:
        return locate(self.document.node, path, key=key)

    def finding(
        self,
        code: str,
        message: str,
        path: Sequence[PathSegment],
        *,
        key: bool = False,
        hint: str | None = None,
        severity: Severity | None = None,
    ) -> Diagnostic:
        """A finding that points at `path` in this spec's document.

        Its severity is the catalogue's for `code`; `severity` is for findings whose design lets
        it be set (a policy rule's own severity, or a `severityOverrides` entry).
        """
        span = self.span(path, key=key)
        return Diagnostic(
            code,
            severity or severity_of(code),
            message,
            self.file,
            span.line,
            span.column,
            span.end_line,
            span.end_column,
            tuple(path),
            hint,
            document=self.document.index,
        )
