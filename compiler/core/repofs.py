"""The one door to repository files: no symlink followed, nothing outside the root, bounded reads.

In a pull request every file of the checkout belongs to its author
(THREATS.md): any path may be a symbolic link to `/etc/passwd` or to
`/proc/self/environ`, a FIFO, or `/dev/zero`. So every read of a spec, the
project file, a policy, a generated output, the manifest or gate data walks
the path one component at a time from the root's directory descriptor with
`O_NOFOLLOW`, accepts only a regular file, and reads at most the cap plus
one byte (so "too large" is known without reading the rest).

Refusals are keyed on `errno` and `stat` fields, never on message text.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

DEFAULT_CAP = 10 * 1024 * 1024
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO must not wait for a writer; the fstat below refuses it anyway.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY


class Refused(Exception):
    """A repository path Charter will not read or write; `reason` is for people and names no content."""

    def __init__(self, relative: str, reason: str, *, symlink: bool = False, missing: bool = False):
        super().__init__(f"{relative}: {reason}")
        self.relative, self.reason, self.symlink, self.missing = relative, reason, symlink, missing


class TooLarge(Exception):
    def __init__(self, relative: str, cap: int):
        super().__init__(f"{relative}: larger than {cap:,} bytes")
        self.relative, self.cap = relative, cap


def relative_parts(relative: str | PurePosixPath) -> tuple[str, ...]:
    """The components of a path that must stay inside the root; refuses absolute paths and `..`."""
    text = str(relative)
    if "\x00" in text or "\\" in text:
        raise Refused(text, "the path holds a NUL byte or a backslash")
    path = PurePosixPath(text)
    if path.is_absolute():
        raise Refused(text, "an absolute path; paths are relative to the project root")
    parts = tuple(part for part in path.parts if part != ".")
    if ".." in parts:
        raise Refused(text, "the path leaves the project root through `..`")
    if not parts:
        raise Refused(text, "the path names the project root itself")
    return parts


def _is_symlink_at(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode)
    except OSError:
        return False


@contextmanager
def _parent_fd(root: Path, parts: tuple[str, ...], shown: str) -> Iterator[int]:
    """A descriptor of the directory holding the last component, reached without following any link: through
    the directories a `held_open` block keeps, or through ones opened for this read alone."""
    held = _held_for(root)
    if held is not None:
        yield held.parent(parts, shown)
        return
    alone = _HeldDirectories(root)
    try:
        yield alone.parent(parts, shown)
    finally:
        alone.close()


class _HeldDirectories:
    """The descriptors of the directories on the way to the last file read below one root, kept for the next.

    Files are read in listing order, so one read shares most of its way with the one before: a batch of 5,000
    specs opened each directory on the way of each file (five opens and closes a file, a tenth of reading a
    file). Each descriptor is opened from the one before with `O_NOFOLLOW`; a read outside a `held_open` block
    walks its way the same, through directories it closes after the read (`_parent_fd`).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.names: list[str] = []
        self.fds: list[int] = []  # fds[0] is the root's; fds[i + 1] is names[i]'s

    def parent(self, parts: tuple[str, ...], shown: str) -> int:
        way = parts[:-1]
        kept = 0
        while kept < len(self.names) and kept < len(way) and self.names[kept] == way[kept]:
            kept += 1
        self._close_from(kept + 1)
        if not self.fds:
            self.fds.append(os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
        for part in way[kept:]:
            try:
                fd = os.open(part, _DIR_FLAGS, dir_fd=self.fds[-1])
            except OSError as error:
                raise _refusal(shown, part, self.fds[-1], error) from None
            self.fds.append(fd)
            self.names.append(part)
        return self.fds[-1]

    def _close_from(self, index: int) -> None:
        while len(self.fds) > index:
            os.close(self.fds.pop())
        del self.names[max(index - 1, 0) :]

    def close(self) -> None:
        self._close_from(0)


class _Holding(threading.local):
    def __init__(self) -> None:
        self.pid = 0
        self.depth = 0
        self.roots: dict[Path, _HeldDirectories] = {}


_holding = _Holding()


@contextmanager
def held_open() -> Iterator[None]:
    """Within this block, the reads of this thread keep the directories on their way open for the next read.

    Only for a batch of reads: a directory replaced while the block runs would be read as it was when opened,
    so the block must not outlive the batch (an editor's server checks again and again)."""
    state = _holding
    if state.pid != os.getpid():  # a forked child inherits the parent's block, never its descriptors' meaning
        state.pid, state.depth, state.roots = os.getpid(), 0, {}
    state.depth += 1
    try:
        yield
    finally:
        state.depth -= 1
        if state.depth == 0:
            for held in state.roots.values():
                held.close()
            state.roots.clear()


def _held_for(root: Path) -> _HeldDirectories | None:
    state = _holding
    if state.depth == 0 or state.pid != os.getpid():
        return None
    held = state.roots.get(root)
    if held is None:
        held = state.roots[root] = _HeldDirectories(root)
    return held


def _refusal(shown: str, part: str, dir_fd: int, error: OSError) -> Refused:
    if error.errno == errno.ELOOP or _is_symlink_at(part, dir_fd):
        return Refused(shown, f"`{part}` is a symbolic link; Charter does not follow links", symlink=True)
    if error.errno == errno.ENOENT:
        return Refused(shown, "no such file", missing=True)
    if error.errno == errno.ENOTDIR:
        return Refused(shown, f"`{part}` is not a directory")
    return Refused(shown, f"cannot open `{part}` ({errno.errorcode.get(error.errno or 0, 'error')})")


def inspect(root: Path, relative: str | PurePosixPath) -> os.stat_result | None:
    """The lstat of a path inside the root, or None when it does not exist; Refused when a link is on the way."""
    parts = relative_parts(relative)
    shown = "/".join(parts)
    try:
        with _parent_fd(root, parts, shown) as fd:
            return os.lstat(parts[-1], dir_fd=fd)
    except Refused as refused:
        if refused.missing:
            return None
        raise
    except FileNotFoundError:
        return None


def guard_write(root: Path, relative: str | PurePosixPath) -> None:
    """No write through a link: every directory on the way, and the file itself, must be real or absent."""
    info = inspect(root, relative)  # raises Refused when a link or a file is on the way
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise Refused(str(relative), "not a regular file")


def read_bytes(root: Path, relative: str | PurePosixPath, cap: int = DEFAULT_CAP) -> bytes:
    """A regular file inside the root, at most `cap` bytes; TooLarge past it, Refused for anything else."""
    data = read_head(root, relative, cap + 1)
    if len(data) > cap:
        raise TooLarge("/".join(relative_parts(relative)), cap)
    return data


def read_head(root: Path, relative: str | PurePosixPath, size: int) -> bytes:
    """The first `size` bytes of a regular file inside the root (all of it when shorter); Refused otherwise."""
    parts = relative_parts(relative)
    shown = "/".join(parts)
    with _parent_fd(root, parts, shown) as parent:
        try:
            fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=parent)
        except OSError as error:
            raise _refusal(shown, parts[-1], parent, error) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(shown, "not a regular file (a device, FIFO, socket or directory)")
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        remaining = size
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_text(root: Path, relative: str | PurePosixPath, cap: int = DEFAULT_CAP) -> str | None:
    """The UTF-8 text of a regular file inside the root; None when missing or not UTF-8."""
    try:
        return read_bytes(root, relative, cap).decode("utf-8")
    except Refused as refused:
        if refused.missing:
            return None
        raise
    except UnicodeDecodeError:
        return None
