"""Stage 6, emit: write rendered files, and only files Charter owns.

The build records every file it writes, with its hash, in
`.charter/manifest.json`. That record lets `charter build --check` tell a
stale file (its spec changed) from one edited by hand (its hash differs
from the one recorded) and find files left behind by a deleted spec.

The manifest is a claim, not a permission (THREATS.md): a pull request can
edit it. So a file is deleted or overwritten only when it is a regular file
inside a configured output directory, reached without a link, whose bytes
still hash to the recorded value. Every other entry is reported (CH902, at
its line in the manifest) and left alone; every read and write goes
through compiler/core/repofs.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from compiler.core import repofs
from compiler.core.diagnostics import Diagnostic
from compiler.core.difftext import unified_diff
from compiler.core.fsutil import write_atomic
from compiler.core.outputs import Output
from compiler.core.sources import Sources, repository_top
from compiler.core.write_plan import WritePlan
from compiler.stages.emit.ownership import findings as unowned_findings
from compiler.stages.emit.ownership import unowned_outputs

MANIFEST = ".charter/manifest.json"
# What fsutil.write_atomic names its temporary file (mkstemp: `.<name>.<8 random characters>.tmp`).
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]{8}\.tmp$")
# Generated files are small; a larger "output" is not one Charter wrote.
MAX_OUTPUT_BYTES = 10 * 1024 * 1024


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Manifest:
    files: dict[str, str] = field(default_factory=dict)
    lines: dict[str, tuple[int, int]] = field(default_factory=dict)
    findings: list[Diagnostic] = field(default_factory=list)
    writable: bool = True


def read_manifest(root: Path) -> Manifest:
    """The recorded files, with the line of each entry so a refusal can point at it."""
    manifest = Manifest()
    try:
        text = repofs.read_text(root, MANIFEST, MAX_OUTPUT_BYTES)
    except (repofs.Refused, repofs.TooLarge) as error:
        reason = error.reason if isinstance(error, repofs.Refused) else f"larger than {MAX_OUTPUT_BYTES:,} bytes"
        manifest.findings.append(_finding("CH120", f"not read: {reason}", MANIFEST, 0))
        manifest.writable = False
        return manifest
    except OSError:
        return manifest
    if text is None:
        return manifest
    try:
        data = json.loads(text)
    except ValueError:
        return manifest  # an unreadable record owns nothing
    files = data.get("files", {}) if isinstance(data, dict) else {}
    if isinstance(files, dict):
        manifest.files = {str(k): str(v) for k, v in files.items()}
        manifest.lines = _entry_lines(text, manifest.files)
    return manifest


def _entry_lines(text: str, files: dict[str, str]) -> dict[str, tuple[int, int]]:
    """(line, column) of each entry's key, as `json.dump(indent=2)` writes one entry a line."""
    keys = {json.dumps(path) + ":": path for path in files}
    lines: dict[str, tuple[int, int]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        for key, path in keys.items():
            if path not in lines and stripped.startswith(key):
                lines[path] = (number, len(line) - len(stripped) + 1)
    return lines


def plan(
    root: Path, outputs: Sequence[Output], output_dirs: Sequence[str], allow_extra: Sequence[str] = ()
) -> WritePlan:
    """What a build would write, update and remove; files in the output directories no spec renders
    (compiler/stages/emit/ownership.py) and untrusted manifest entries are findings."""
    manifest = read_manifest(root)
    result = WritePlan(findings=list(manifest.findings), manifest_writable=manifest.writable)
    owned = result.recorded = _trusted_entries(root, manifest, output_dirs, result)
    wanted = {output.path: output.text for output in outputs}
    unowned = unowned_outputs(Sources.from_path(root), output_dirs, wanted, allow_extra, known=owned)
    # A link where an output goes is reported below, when the build tries to read it (CH120).
    unowned = [entry for entry in unowned if entry.path not in wanted]
    result.findings.extend(unowned_findings(unowned, ("CH830", "CH831"), lambda path: path))
    for path, text in sorted(wanted.items()):
        try:
            current = _read(root, path)
        except (repofs.Refused, repofs.TooLarge) as error:
            result.findings.append(_refused_output(path, error))
            continue
        if current is None:
            result.create.append(path)
            result.diffs[path] = unified_diff(path, "", text)
        elif current == text:
            result.unchanged.append(path)
            if path not in owned:  # a build stopped before its manifest was written (a full disk, a kill)
                result.unrecorded.append(path)
        elif path not in owned:
            result.foreign.append(path)
        elif digest(current) != owned[path]:
            result.edited.append(path)
            result.diffs[path] = unified_diff(path, current, text)
        else:
            result.update.append(path)
            result.diffs[path] = unified_diff(path, current, text)
    for path in sorted(set(owned) - set(wanted)):
        current = _read(root, path)
        if current is None:
            continue
        if digest(current) == owned[path]:
            result.remove.append(path)
            result.diffs[path] = unified_diff(path, current, "")
        else:
            result.kept.append(path)
    result.leftovers = _leftovers(root, [*wanted, *owned, MANIFEST])
    return result


def _located(root: Path, path: str) -> tuple[Path, str]:
    """Where repofs reaches `path` from: the project root, or for a path that climbs out of it
    (`../.github/workflows/x.yml`, a monorepo project's workflows) the git repository's top, never above it. Every
    component from there is walked without following a link, so `..` never passes through one."""
    if not path.startswith("../"):
        return root, path
    top = repository_top(root)
    from_top = posixpath.normpath(posixpath.join(os.path.relpath(os.path.abspath(root), top), path))
    if from_top == ".." or from_top.startswith("../") or not (top / ".git").exists():
        raise repofs.Refused(path, "the path leaves the git repository")
    return top, from_top


def _leftovers(root: Path, paths: Sequence[str]) -> list[str]:
    """Temporary files a killed build left beside the files it writes (only those named after one of them)."""
    names: dict[str, set[str]] = {}
    for path in paths:
        folder, _, name = path.rpartition("/")
        names.setdefault(folder, set()).add(name)
    found = []
    for folder, wanted in sorted(names.items()):
        try:
            base, inner = _located(root, folder) if folder else (root, "")
            info = repofs.inspect(base, inner) if folder else None
        except repofs.Refused:
            continue
        if folder and (info is None or not stat.S_ISDIR(info.st_mode)):
            continue
        with os.scandir(base / inner if folder else root) as entries:
            for entry in entries:
                match = _TEMPORARY.match(entry.name)
                if match and match["name"] in wanted and entry.is_file(follow_symlinks=False):
                    found.append(f"{folder}/{entry.name}" if folder else entry.name)
    return sorted(found)


def _trusted_entries(root: Path, manifest: Manifest, output_dirs: Sequence[str], result: WritePlan) -> dict[str, str]:
    """The entries that may decide a delete or an overwrite; every other one becomes a CH902."""
    trusted: dict[str, str] = {}
    for path, recorded in manifest.files.items():
        reason = _entry_refusal(root, path, output_dirs)
        if reason is None:
            trusted[path] = recorded
        else:
            line, column = manifest.lines.get(path, (0, 0))
            message = f"manifest entry `{_bounded(path)}` is not trusted: {reason}; left alone"
            result.findings.append(_finding("CH902", message, MANIFEST, line, column))
    return trusted


def _entry_refusal(root: Path, path: str, output_dirs: Sequence[str]) -> str | None:
    try:
        parts = _parts(path)
    except repofs.Refused as refused:
        return refused.reason
    if not any(_inside(parts, directory) for directory in output_dirs):
        return f"not inside an output directory ({', '.join(output_dirs)})"
    try:
        info = repofs.inspect(*_located(root, path))
    except repofs.Refused as refused:
        return refused.reason
    if info is not None and not stat.S_ISREG(info.st_mode):
        return "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
    return None


def _inside(parts: tuple[str, ...], directory: str) -> bool:
    prefix = _parts(directory)
    return len(parts) > len(prefix) and parts[: len(prefix)] == prefix


def _parts(path: str) -> tuple[str, ...]:
    """repofs.relative_parts, with the leading `../` of a path that climbs out of the project kept (only there):
    `../.github/workflows/../../x` normalises to `../../x`, which is inside no output directory."""
    climbed = posixpath.normpath(path) if path.startswith("../") else path
    ups = 0
    while climbed.startswith("../"):
        climbed, ups = climbed[3:], ups + 1
    return ("..",) * ups + repofs.relative_parts(climbed)


def apply(root: Path, outputs: Sequence[Output], build_plan: WritePlan) -> None:
    """Write what the plan says; never touch a foreign, edited, linked or refused file."""
    wanted = {output.path: output.text for output in outputs}
    for path in build_plan.create + build_plan.update:
        base, inner = _located(root, path)
        repofs.guard_write(base, inner)
        write_atomic(base / inner, wanted[path])
    for path in build_plan.remove:
        base, inner = _located(root, path)
        repofs.guard_write(base, inner)
        (base / inner).unlink(missing_ok=True)
        _prune_empty_dirs(base, inner)
    for path in build_plan.leftovers:
        base, inner = _located(root, path)
        repofs.guard_write(base, inner)
        (base / inner).unlink(missing_ok=True)
    if not build_plan.manifest_writable:
        return
    repofs.guard_write(root, MANIFEST)
    refused = {finding.file for finding in build_plan.findings}
    skipped = set(build_plan.foreign) | refused
    owned = {path: digest(text) for path, text in wanted.items() if path not in skipped}
    # A file left alone keeps its old record: the next build still knows it as Charter's, edited by hand.
    owned.update({path: build_plan.recorded[path] for path in build_plan.edited + build_plan.kept})
    manifest = {"generator": "charter", "files": dict(sorted(owned.items()))}
    write_atomic(root / MANIFEST, json.dumps(manifest, indent=2) + "\n")


def _prune_empty_dirs(root: Path, path: str) -> None:
    parts = repofs.relative_parts(path)[:-1]
    while parts:
        try:
            os.rmdir(root.joinpath(*parts))
        except OSError:
            return
        parts = parts[:-1]


def _read(root: Path, path: str) -> str | None:
    try:
        data = repofs.read_bytes(*_located(root, path), MAX_OUTPUT_BYTES)
    except repofs.Refused as refused:
        if refused.missing:
            return None
        raise
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "\ufffd"  # not text Charter wrote: never equal to an output, never hashes to a record


def _refused_output(path: str, error: repofs.Refused | repofs.TooLarge) -> Diagnostic:
    reason = error.reason if isinstance(error, repofs.Refused) else f"larger than {MAX_OUTPUT_BYTES:,} bytes"
    return _finding("CH120", f"output not written: {reason}", path, 0)


def _finding(code: str, message: str, file: str, line: int, column: int = 0) -> Diagnostic:
    hint = {
        "CH120": "remove the link or special file; Charter writes only regular files inside its output directories",
        "CH902": "remove the entry from .charter/manifest.json; Charter deletes and overwrites only what it wrote",
    }[code]
    return Diagnostic.of(code, message, file, line=line, column=column, end_line=line, end_column=column, hint=hint)


def _bounded(path: str, limit: int = 120) -> str:
    return path if len(path) <= limit else path[:limit] + "…"
