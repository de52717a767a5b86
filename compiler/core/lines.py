"""The lines of each source file, split once per file however many findings or locations point into it.

Reports and the language server quote a line, or measure a column in it, for every finding. Splitting the
whole file for each one is quadratic: 4,000 findings in one 350 KB file took minutes in the text report
(`build --check` in CI uses it) against seconds for JSON. `Lines` splits a file on first use and keeps it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping


def report_lines(text: str) -> list[str]:
    """Lines as a report quotes them: split at any line break, none kept."""
    return text.splitlines()


def editor_lines(text: str) -> list[str]:
    """Lines as an editor numbers them for LSP positions: split at each `\\n` (a `\\r` before it stays)."""
    return text.split("\n")


class Lines:
    """Each file's lines by display path, split on first use with `split` and kept."""

    def __init__(self, texts: Mapping[str, str], split: Callable[[str], list[str]] = report_lines) -> None:
        self._texts = texts
        self._split = split
        self._lines: dict[str, list[str]] = {}

    def of(self, file: str) -> list[str]:
        """The lines of `file`; none when it was not read."""
        lines = self._lines.get(file)
        if lines is None:
            text = self._texts.get(file)
            lines = self._lines[file] = self._split(text) if text is not None else []
        return lines
