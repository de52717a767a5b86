"""What every command does the same way: refuse a path that is no project directory, write its output."""

from __future__ import annotations

import sys
from pathlib import Path

from compiler.core.fsutil import write_output


def project_directory(path: str, command: str) -> Path | None:
    """`path` when it is a directory; otherwise None, after saying so on stderr (the command exits 2)."""
    root = Path(path)
    if root.is_dir():
        return root
    print(f"{command}: not a project directory: {path}", file=sys.stderr)
    return None


def emit(text: str, output: str | None) -> None:
    """To `--output` (atomically, or in place for a device or pipe), else to standard output."""
    if output:
        write_output(Path(output), text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
