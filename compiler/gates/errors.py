"""The one exception a gate raises for input it cannot use (exit code 2)."""

from __future__ import annotations


class UnusableInput(Exception):
    """A file, a column or a spec that a gate cannot work with; the message names it."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message}\n  hint: {self.hint}"
