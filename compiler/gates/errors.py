"""The one exception a gate raises for input it cannot use (exit code 2)."""

from __future__ import annotations


class UnusableInput(Exception):
    """A file, a column or a spec that a gate cannot work with; the message names it."""

    def __init__(self, message: str, hint: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code
        """A catalogued code (CH75x) when the refusal has one: the report's error then starts with it."""

    def __str__(self) -> str:
        text = self.message if self.code is None else f"{self.code} {self.message}"
        return text if self.hint is None else f"{text}\n  hint: {self.hint}"
