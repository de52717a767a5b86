"""Sources: the files a check may read, by path, from a directory, from git objects or from editor buffers.

Every command enters the pipeline with a `Sources` (`compiler.stages.pipeline.check`), so a revision, a working
tree and unsaved buffers are read by one set of rules: the same globs, the same policy directories, the same
refusals. Paths are POSIX, relative to the top of the repository (the checkout), because policy directories
may sit beside the project (`../org-policies`) but never outside the checkout. What a person sees
(`display`) is the same for every backend: the path as the working tree shows it, relative to the current
directory when possible, so findings of two revisions compare.

A backend never follows a symbolic link: a link is listed as a link and reading it is refused
(`repofs.Refused`), so nothing outside the repository is ever read, whatever the checkout holds.
"""

from __future__ import annotations

import bisect
import functools
import os
import posixpath
import stat
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Protocol

from compiler.core import repofs
from compiler.core.diagnostics import Diagnostic

PROJECT_FILES = ("charter.yaml", "charter.yml")
LINK_HINT = "commit the file itself; a link could point anywhere (a secret, /proc/self/environ)"
_LINK = "`{}` is a symbolic link; Charter does not follow links"
# Directories no run reads: version control, environments, caches, anything hidden.
_SKIPPED_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".mypy_cache"})


def skipped_dir(name: str) -> bool:
    return name in _SKIPPED_DIRS or name.startswith(".")


SETTLED_SECONDS = 2
_DOTS = frozenset({"", ".", ".."})


class Kind(Enum):
    FILE = "file"
    DIRECTORY = "directory"
    LINK = "link"
    OTHER = "other"  # a device, FIFO, socket or submodule: never read


class Tree(Protocol):
    """What a backend offers: a listing that does not follow links, and bounded reads of regular files."""

    def kind(self, relative: str) -> Kind | None:
        """The kind of a top-relative path, None when absent; `repofs.Refused` when a link is on the way."""

    def walk(self, folder: str, *, hidden: bool = False) -> Iterator[tuple[str, Kind]]:
        """Files, links and other entries below `folder` ("" for the top), skipped directories left out.

        `hidden`: every directory is entered, hidden and skipped ones too (what sits in an output directory)."""

    def read(self, relative: str, cap: int) -> bytes:
        """A regular file; `repofs.Refused`, `repofs.TooLarge` or `OSError` otherwise."""

    def head(self, relative: str, size: int) -> bytes:
        """The first `size` bytes of a regular file, however large it is; `repofs.Refused` or `OSError` otherwise."""

    def prefetch(self, paths: Iterable[str]) -> None:
        """A hint that these files will be read: a backend that reads in batches reads them in one."""

    def signature(self, relative: str) -> str | None:
        """A string that changes whenever the file's content may have (a blob id; size, times and inode of a
        file that has not changed for a while), None when there is none: then the file must be read."""


@dataclass(frozen=True)
class Sources:
    """The files of one project: `tree` holds the repository, `project` is the project's folder inside it."""

    tree: Tree
    project: str  # top-relative POSIX path of the project root, "" for the top
    shown_as: Path  # the project root as the working tree shows it, for display paths
    only: str | None = None  # `charter check FILE`: the one project-relative file to check
    label: str = "working tree"  # or a short commit id

    @classmethod
    def from_path(cls, path: Path) -> Sources:
        """A directory (or one file) of the working tree, read through `compiler.core.repofs`."""
        root = path.parent if path.is_file() else path
        top = repository_top(root)
        project = os.path.relpath(os.path.abspath(root), top)
        only = path.name if path.is_file() else None
        return cls(DirectoryTree(top), "" if project == "." else Path(project).as_posix(), root, only)

    def inside(self, relative: str) -> str:
        """A project-relative path as a top-relative one (`..` may climb out of the project, not the top)."""
        joined = posixpath.normpath(posixpath.join(self.project, relative)) if self.project else relative
        return "" if joined == "." else posixpath.normpath(joined)

    def display(self, relative: str) -> str:
        """How a top-relative path is shown: as the working tree path, relative to the current directory.

        Only the project root is resolved (once): a link among the file's own components is shown as the link,
        never as where it points.
        """
        base = self.project
        inner = relative if not base else relative[len(base) + 1 :] if relative.startswith(base + "/") else ""
        if inner and not _DOTS.intersection(inner.split("/")):
            # A path inside the project, the common case: the root's display with the path below it.
            prefix = self._shown_root
            return inner if prefix == "." else f"{prefix}/{inner}"
        from_project = posixpath.relpath(relative or ".", self.project or ".")
        root, cwd = self._resolved_root
        shown = Path(posixpath.normpath(posixpath.join(root, from_project)))
        try:
            return shown.relative_to(cwd).as_posix()
        except ValueError:
            return (self.shown_as / from_project).as_posix()

    @functools.cached_property
    def _shown_root(self) -> str:
        return self.display(self.project)

    @functools.cached_property
    def _resolved_root(self) -> tuple[str, Path]:
        return self.shown_as.resolve().as_posix(), Path.cwd().resolve()

    def read(self, relative: str, cap: int = repofs.DEFAULT_CAP) -> bytes:
        return self.tree.read(relative, cap)

    def kind(self, relative: str) -> Kind | None:
        return self.tree.kind(relative)

    def walk(self, folder: str, *, hidden: bool = False) -> Iterator[tuple[str, Kind]]:
        return self.tree.walk(folder, hidden=hidden)

    def head(self, relative: str, size: int) -> bytes:
        return self.tree.head(relative, size)

    def prefetch(self, paths: Iterable[str]) -> None:
        self.tree.prefetch(paths)

    def signature(self, relative: str) -> str | None:
        return self.tree.signature(relative)

    def listed(self) -> Sources:
        """These sources with a listing taken once (`ListedTree`)."""
        return Sources(ListedTree(self.tree), self.project, self.shown_as, self.only, self.label)

    def with_buffers(self, buffers: Mapping[str, bytes]) -> Sources:
        """These sources with some files replaced or added, by top-relative path (an editor's unsaved buffers)."""
        return Sources(BufferTree(self.tree, dict(buffers)), self.project, self.shown_as, self.only, self.label)


def settled_signature(info: os.stat_result, now_ns: int | None = None) -> str | None:
    """Size, times and inode of a file untouched for `SETTLED_SECONDS`: a string that changes whenever its
    content may have. None for a file written too recently for that to hold (git's "racy clean" rule: a write
    in the same clock tick as the last read leaves the times as they were)."""
    now = time.time_ns() if now_ns is None else now_ns
    if max(info.st_mtime_ns, info.st_ctime_ns) >= now - SETTLED_SECONDS * 1_000_000_000:
        return None
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}"


def display_path(path: Path) -> str:
    """Relative to the working directory when possible: what CI annotations need."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def repository_top(root: Path) -> Path:
    """The checkout holding the project: policy directories may be beside it (`../org-policies`), not outside it."""
    here = Path(os.path.abspath(root))
    for candidate in (here, *here.parents):
        if os.path.lexists(candidate / ".git"):
            return candidate
    return here


# --- backends -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryTree:
    """A directory on disk: every read goes through the one safe door, `compiler.core.repofs`."""

    top: Path
    # Filled by `walk`: only for files untouched for `SETTLED_SECONDS` before it, so that a write in the same
    # clock tick as a run cannot hide behind an unchanged signature (git's "racy clean" rule).
    signatures: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def kind(self, relative: str) -> Kind | None:
        if relative in ("", "."):
            return Kind.DIRECTORY
        info = repofs.inspect(self.top, relative)
        return None if info is None else _kind_of_mode(info.st_mode)

    def walk(self, folder: str, *, hidden: bool = False) -> Iterator[tuple[str, Kind]]:
        start = os.path.join(self.top, folder) if folder else os.fspath(self.top)
        pending: list[tuple[str, str]] = [(start, folder)]
        now = time.time_ns()
        while pending:
            directory, relative = pending.pop()
            try:
                entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
            except OSError:
                continue
            for entry in entries:
                path = posixpath.join(relative, entry.name) if relative else entry.name
                kind = _kind_of_entry(entry)
                signature = settled_signature(entry.stat(follow_symlinks=False), now) if kind is Kind.FILE else None
                if signature is not None:
                    self.signatures[path] = signature
                else:
                    self.signatures.pop(path, None)
                if kind is Kind.DIRECTORY:
                    if hidden or not skipped_dir(entry.name):
                        pending.append((entry.path, path))
                    continue
                yield path, kind

    def read(self, relative: str, cap: int) -> bytes:
        return repofs.read_bytes(self.top, relative, cap)

    def head(self, relative: str, size: int) -> bytes:
        return repofs.read_head(self.top, relative, size)

    def prefetch(self, paths: Iterable[str]) -> None:
        """Files are read one by one, when asked for."""

    def signature(self, relative: str) -> str | None:
        return self.signatures.get(relative)


def _kind_of_entry(entry: os.DirEntry[str]) -> Kind:
    """The kind of a listed entry without a `stat` where the listing's file type tells it (a project of 10,000
    specs has 6,500 directories, most of them evidence folders); `DirEntry` asks `lstat` itself where it does not."""
    if entry.is_symlink():
        return Kind.LINK
    if entry.is_dir(follow_symlinks=False):
        return Kind.DIRECTORY
    return Kind.FILE if entry.is_file(follow_symlinks=False) else Kind.OTHER


def _kind_of_mode(mode: int) -> Kind:
    if stat.S_ISLNK(mode):
        return Kind.LINK
    if stat.S_ISDIR(mode):
        return Kind.DIRECTORY
    return Kind.FILE if stat.S_ISREG(mode) else Kind.OTHER


@dataclass
class GitTree:
    """A commit's tree, read from the object database: nothing is checked out or written anywhere.

    `entries` maps each top-relative path to (git mode, blob id); `objects` sizes blobs before it reads them,
    so a blob over the cap is refused without being read, and reads many in one call: the pipeline asks for
    all the spec files it needs at once (`prefetch`).
    """

    entries: Mapping[str, tuple[str, str]]
    objects: Objects
    _blobs: dict[str, bytes] = field(default_factory=dict)
    _sizes: dict[str, int] = field(default_factory=dict)

    @functools.cached_property
    def _paths(self) -> list[str]:
        """Every path, sorted once: the paths under a folder are one slice of it."""
        return sorted(self.entries)

    def _under(self, prefix: str) -> Iterator[str]:
        paths = self._paths
        for index in range(bisect.bisect_left(paths, prefix), len(paths)):
            if not paths[index].startswith(prefix):
                return
            yield paths[index]

    def kind(self, relative: str) -> Kind | None:
        parts = relative.split("/")
        for depth in range(1, len(parts)):
            above = self.entries.get("/".join(parts[:depth]))
            if above is not None and above[0] == "120000":
                raise repofs.Refused(relative, _LINK.format(parts[depth - 1]), symlink=True)
        entry = self.entries.get(relative)
        if entry is not None:
            return _kind_of_git_mode(entry[0])
        directory = relative in ("", ".") or next(self._under(relative.rstrip("/") + "/"), None) is not None
        return Kind.DIRECTORY if directory else None

    def walk(self, folder: str, *, hidden: bool = False) -> Iterator[tuple[str, Kind]]:
        prefix = folder.rstrip("/") + "/" if folder else ""
        for path in self._under(prefix):
            if hidden or not any(skipped_dir(part) for part in path[len(prefix) :].split("/")[:-1]):
                yield path, _kind_of_git_mode(self.entries[path][0])

    def prefetch(self, paths: Iterable[str], cap: int = repofs.DEFAULT_CAP) -> None:
        paths = [path for path in paths if path in self.entries and path not in self._blobs]
        shas = {self.entries[path][1] for path in paths}
        self._sizes.update(self.objects.sizes(shas - self._sizes.keys()))
        fetched = self.objects.read((sha for sha in shas if self._sizes.get(sha, cap + 1) <= cap), cap)
        for path in paths:
            sha = self.entries[path][1]
            if sha in fetched:
                self._blobs[path] = fetched[sha]

    def signature(self, relative: str) -> str | None:
        entry = self.entries.get(relative)
        return f"git:{entry[1]}" if entry is not None and _kind_of_git_mode(entry[0]) is Kind.FILE else None

    def read(self, relative: str, cap: int) -> bytes:
        self._regular(relative)
        if relative not in self._blobs:
            self.prefetch([relative], cap)
        data = self._blobs.get(relative)
        if data is None or len(data) > cap:
            raise repofs.TooLarge(relative, cap)  # a blob over the cap was sized, never read
        return data

    def head(self, relative: str, size: int) -> bytes:
        sha = self._regular(relative)
        if relative in self._blobs:
            return self._blobs[relative][:size]
        return self.objects.head(sha, size)

    def _regular(self, relative: str) -> str:
        """The blob id of a regular file; `repofs.Refused` for anything else."""
        kind = self.kind(relative)
        if kind is None:
            raise repofs.Refused(relative, "no such file", missing=True)
        if kind is Kind.LINK:
            name = relative.rsplit("/", 1)[-1]
            raise repofs.Refused(relative, _LINK.format(name), symlink=True)
        if kind is not Kind.FILE:
            raise repofs.Refused(relative, "not a regular file (a device, FIFO, socket or directory)")
        return self.entries[relative][1]


class Objects(Protocol):
    """A repository's object database, as `GitTree` reads it (`compiler.integrations.gitops.git.Repo`)."""

    def sizes(self, shas: Iterable[str]) -> dict[str, int]: ...

    def read(self, shas: Iterable[str], cap: int) -> dict[str, bytes]: ...

    def head(self, sha: str, size: int) -> bytes: ...


def _kind_of_git_mode(mode: str) -> Kind:
    if mode in ("100644", "100755"):
        return Kind.FILE
    return Kind.LINK if mode == "120000" else Kind.OTHER


@dataclass(frozen=True)
class ListedTree:
    """Another tree whose listing is taken once and given again: an editor's server checks on every keystroke,
    and walking a project of 1,000 files (every entry statted, its signature taken) was a fifth of an edit's
    check. Reads go to the tree; `changed` walks it again to tell whether the listing still holds."""

    base: Tree
    walks: dict[tuple[str, bool], list[tuple[str, Kind]]] = field(default_factory=dict, compare=False, hash=False)
    signatures: dict[str, str | None] = field(default_factory=dict, compare=False, hash=False)

    def kind(self, relative: str) -> Kind | None:
        return self.base.kind(relative)

    def walk(self, folder: str, *, hidden: bool = False) -> Iterator[tuple[str, Kind]]:
        listed = self.walks.get((folder, hidden))
        if listed is None:
            listed = self.walks[folder, hidden] = list(self.base.walk(folder, hidden=hidden))
            self.signatures.update((path, self.base.signature(path)) for path, _ in listed)
        return iter(listed)

    def read(self, relative: str, cap: int) -> bytes:
        return self.base.read(relative, cap)

    def head(self, relative: str, size: int) -> bytes:
        return self.base.head(relative, size)

    def prefetch(self, paths: Iterable[str]) -> None:
        self.base.prefetch(paths)

    def signature(self, relative: str) -> str | None:
        """As the listing found it (a file written since has a new signature on disk, which `holds` sees)."""
        return self.signatures[relative] if relative in self.signatures else self.base.signature(relative)

    def holds(self, fresh: Tree) -> bool:
        """Whether the same walks through `fresh` (a new tree over the same files) list the same entries with
        the same signatures: nothing was added, removed or written on disk since this listing was taken."""
        again = ListedTree(fresh)
        for folder, hidden in list(self.walks):
            again.walk(folder, hidden=hidden)
        return again.walks == self.walks and again.signatures == self.signatures


@dataclass(frozen=True)
class BufferTree:
    """Unsaved editor buffers over another tree: a buffer wins over the file it replaces."""

    base: Tree
    buffers: Mapping[str, bytes]

    def kind(self, relative: str) -> Kind | None:
        return Kind.FILE if relative in self.buffers else self.base.kind(relative)

    def walk(self, folder: str, *, hidden: bool = False) -> Iterator[tuple[str, Kind]]:
        prefix = folder.rstrip("/") + "/" if folder else ""
        seen = set()
        for path, kind in self.base.walk(folder, hidden=hidden):
            seen.add(path)
            yield path, Kind.FILE if path in self.buffers else kind
        for path in sorted(self.buffers):
            if path not in seen and path.startswith(prefix):
                yield path, Kind.FILE

    def prefetch(self, paths: Iterable[str]) -> None:
        self.base.prefetch([path for path in paths if path not in self.buffers])

    def signature(self, relative: str) -> str | None:
        return None if relative in self.buffers else self.base.signature(relative)

    def read(self, relative: str, cap: int) -> bytes:
        if relative in self.buffers:
            data = self.buffers[relative]
            if len(data) > cap:
                raise repofs.TooLarge(relative, cap)
            return data
        return self.base.read(relative, cap)

    def head(self, relative: str, size: int) -> bytes:
        if relative in self.buffers:
            return self.buffers[relative][:size]
        return self.base.head(relative, size)


def unsafe_path_finding(refused: repofs.Refused, file: str, line: int = 0, column: int = 0) -> Diagnostic:
    """CH120 for a path the sources refused (a link, outside the root): located, quoting nothing of the target."""
    hint = LINK_HINT if refused.symlink else "Charter reads and writes only regular files inside the project root"
    message = f"not read: {refused.reason}"
    return Diagnostic.of("CH120", message, file, line=line, column=column, end_line=line, end_column=column, hint=hint)
