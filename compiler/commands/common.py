"""What every command does the same way: refuse a path that is no project directory, write its output."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from compiler.core.fsutil import write_output

if TYPE_CHECKING:
    from compiler.core.models.model import Model
    from compiler.stages import Checked


def project_directory(path: str, command: str) -> Path | None:
    """`path` when it is a directory; otherwise None, after saying so on stderr (the command exits 2)."""
    root = Path(path)
    if root.is_dir():
        return root
    print(f"{command}: not a project directory: {path}", file=sys.stderr)
    return None


def checked_model(project: str, name: str, command: str) -> tuple[Checked, Model | None] | None:
    """The checked project and its Model spec `name` (None when it has none); None when `project` is no directory."""
    from compiler.core.models.model import Model
    from compiler.stages import check_path

    root = project_directory(project, command)
    if root is None:
        return None
    checked = check_path(root)
    spec = checked.resolved.get("Model", name) if checked.resolved is not None else None
    model = spec.model if spec is not None else None
    return checked, model if isinstance(model, Model) else None


def emit(text: str, output: str | None) -> None:
    """To `--output` (atomically, or in place for a device or pipe), else to standard output."""
    if output:
        write_output(Path(output), text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
