"""A source file split into lines once, for everything that quotes many lines of one file.

Splitting a 350 KB file for each of its 4,000 findings is quadratic: the text reporter spent
most of two minutes there. `SourceLines` splits a text once, and `LineCache` keeps one per file
for the length of a run of output.
"""

from __future__ import annotations

from collections.abc import Mapping


class SourceLines:
    """The lines of one text, numbered from 1 as editors and findings number them.

    Lines are split as `str.splitlines` splits them, the way every reporter has quoted them.
    """

    __slots__ = ("_lines",)

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()

    def __len__(self) -> int:
        return len(self._lines)

    def line(self, number: int) -> str | None:
        """Line `number` (1-based), or None when the text has no such line."""
        if 0 < number <= len(self._lines):
            return self._lines[number - 1]
        return None


class LineCache:
    """Each file of `sources` split into lines the first time one of its lines is asked for."""

    __slots__ = ("_sources", "_split")

    def __init__(self, sources: Mapping[str, str]) -> None:
        self._sources = sources
        self._split: dict[str, SourceLines] = {}

    def line(self, file: str, number: int) -> str | None:
        """Line `number` of `file`, or None when the file is not among the sources or is shorter."""
        lines = self._split.get(file)
        if lines is None:
            text = self._sources.get(file)
            if text is None:
                return None
            lines = self._split[file] = SourceLines(text)
        return lines.line(number)
