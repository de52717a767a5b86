"""Stage 6, emit: write rendered files, and only files Charter owns.

The build records every file it writes, with its hash, in
`.charter/manifest.json`. That record is what lets `charter build --check`
tell a stale file (its spec changed) from one edited by hand (its hash
differs from the one recorded), find files left behind by a deleted spec,
and refuse to overwrite a file that Charter never wrote.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from compiler.difftext import unified_diff
from compiler.fsutil import write_atomic
from compiler.render import Output

MANIFEST = ".charter/manifest.json"


@dataclass
class Plan:
    """What a build would do, file by file."""

    create: list[str] = field(default_factory=list)
    update: list[str] = field(default_factory=list)  # stale: the spec changed
    edited: list[str] = field(default_factory=list)  # changed by hand since the last build
    remove: list[str] = field(default_factory=list)  # owned, but no spec renders it any more
    foreign: list[str] = field(default_factory=list)  # exists, but Charter never wrote it
    unchanged: list[str] = field(default_factory=list)
    diffs: dict[str, str] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not (self.create or self.update or self.edited or self.remove or self.foreign)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_manifest(root: Path) -> dict[str, str]:
    path = root / MANIFEST
    try:
        data = json.loads(path.read_text("utf-8"))
        files = data.get("files", {})
        return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}
    except (OSError, ValueError):
        return {}


def plan(root: Path, outputs: Sequence[Output]) -> Plan:
    owned = read_manifest(root)
    result = Plan()
    wanted = {output.path: output.text for output in outputs}
    for path, text in sorted(wanted.items()):
        target = root / path
        current = _read(target)
        if current is None:
            result.create.append(path)
            result.diffs[path] = unified_diff(path, "", text)
        elif current == text:
            result.unchanged.append(path)
        elif path not in owned:
            result.foreign.append(path)
        elif digest(current) != owned[path]:
            result.edited.append(path)
            result.diffs[path] = unified_diff(path, current, text)
        else:
            result.update.append(path)
            result.diffs[path] = unified_diff(path, current, text)
    for path in sorted(set(owned) - set(wanted)):
        current = _read(root / path)
        if current is not None:
            result.remove.append(path)
            result.diffs[path] = unified_diff(path, current, "")
    return result


def apply(root: Path, outputs: Sequence[Output], build_plan: Plan) -> None:
    """Write what the plan says; never touch a foreign file."""
    wanted = {output.path: output.text for output in outputs}
    for path in build_plan.create + build_plan.update + build_plan.edited:
        _guard(root, path)
        write_atomic(root / path, wanted[path])
    for path in build_plan.remove:
        _guard(root, path)
        (root / path).unlink(missing_ok=True)
        _prune_empty_dirs(root, (root / path).parent)
    owned = {path: digest(text) for path, text in wanted.items() if path not in build_plan.foreign}
    manifest = {"generator": "charter", "files": dict(sorted(owned.items()))}
    write_atomic(root / MANIFEST, json.dumps(manifest, indent=2) + "\n")


def _guard(root: Path, path: str) -> None:
    """Paths come from validated names, but a file outside the root is never written."""
    resolved = (root / path).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise ValueError(f"refusing to write outside the project: {path}")


def _prune_empty_dirs(root: Path, directory: Path) -> None:
    root = root.resolve()
    directory = directory.resolve()
    while directory != root and directory.is_relative_to(root):
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


def _read(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
