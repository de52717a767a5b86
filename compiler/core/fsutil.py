"""Writes that never leave a half-written file behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(target: Path, text: str) -> None:
    """Replace a regular file whole (a reader never sees half of it); write a device or pipe in place.

    A device, FIFO or socket is written through, never replaced: run as root, replacing `/dev/null`
    with a regular file (`--summary /dev/null`) would break the machine.
    """
    if target.exists() and not target.is_file() and not target.is_dir():
        with target.open("w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        # mkstemp makes 0600 files; generated files are ordinary repository files.
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_output(path: Path, text: str) -> None:
    """Atomically for a regular file; in place for /dev/null, /dev/stdout or a pipe, which must not be replaced."""
    write_atomic(path, text)
