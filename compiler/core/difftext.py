"""Unified diffs of generated text, as `git diff` prints them."""

from __future__ import annotations

import difflib


def unified_diff(path: str, before: str, after: str) -> str:
    """`before` or `after` empty means the file is created or deleted."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{path}" if before else "/dev/null",
        tofile=f"b/{path}" if after else "/dev/null",
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
