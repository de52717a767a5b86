"""Git plumbing: revisions, trees and blobs, read from the object database.

Only read-only commands run here (`rev-parse`, `ls-tree`, `cat-file`,
`diff --name-only`, `ls-files`), with optional locks off, so reading a
revision never checks it out and never touches the index or the working
tree, even while an editor or another git process is busy with them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_REGULAR_FILES = frozenset({"100644", "100755"})


class GitError(Exception):
    """git is missing, the path is not in a repository, or a revision does not exist."""


@dataclass(frozen=True, slots=True)
class TreeEntry:
    sha: str
    path: str  # relative to the repository root, POSIX separators


@dataclass(frozen=True)
class Repo:
    root: Path

    @classmethod
    def discover(cls, path: Path) -> Repo:
        start = path if path.is_dir() else path.parent
        out = _git(start, "rev-parse", "--show-toplevel")
        return cls(Path(out.decode("utf-8").strip()))

    def git(self, *args: str, stdin: bytes | None = None) -> bytes:
        return _git(self.root, *args, stdin=stdin)

    def resolve(self, rev: str) -> str:
        """The full commit id of `rev` (a branch, tag, `HEAD~1`, a sha...)."""
        if not rev or rev.startswith("-"):
            raise GitError(f"not a revision: `{rev}`")
        try:
            out = self.git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        except GitError:
            raise GitError(f"unknown revision `{rev}` (fetch it first: `{self._fetch_command(rev)}`)") from None
        return out.decode("ascii").strip()

    def _fetch_command(self, rev: str) -> str:
        """The fetch that brings `rev`: `origin/main` is branch `main` of remote `origin`."""
        remotes = self.git("remote").decode("utf-8", "replace").split()
        for remote in remotes:
            if rev.startswith(f"{remote}/"):
                return f"git fetch {remote} {rev.removeprefix(remote + '/')}"
        return f"git fetch {remotes[0] if remotes else 'origin'} {rev}"

    def merge_base(self, base: str, head: str) -> str:
        """Where `head` left `base`: what a pull request of `head` into `base` changes is measured from here."""
        first, second = self.resolve(base), self.resolve(head)
        try:
            return self.git("merge-base", first, second).decode("ascii").strip()
        except GitError:
            shallow = self.git("rev-parse", "--is-shallow-repository").strip() == b"true"
            why = (
                "this clone is shallow (`git fetch --unshallow`, or `fetch-depth: 0` in actions/checkout)"
                if shallow
                else "they share no history"
            )
            raise GitError(f"no merge base of `{base}` and `{head}`: {why}; or compare with the tip (--tip)") from None

    def short(self, commit: str) -> str:
        return self.git("rev-parse", "--short", commit).decode("ascii").strip()

    def prefix(self, path: Path) -> str:
        """`path` relative to the repository root ("" for the root itself)."""
        try:
            relative = path.resolve().relative_to(self.root.resolve())
        except ValueError:
            raise GitError(f"{path} is not inside the git repository at {self.root}") from None
        text = relative.as_posix()
        return "" if text == "." else text

    def tree(self, commit: str, prefix: str = "") -> list[TreeEntry]:
        """Regular files at `commit`, under `prefix` (symlinks and submodules are skipped)."""
        args = ["ls-tree", "-r", "-z", "--full-tree", commit]
        if prefix:
            args += ["--", prefix]
        entries = []
        for record in self.git(*args).split(b"\0"):
            if not record:
                continue
            meta, _, name = record.partition(b"\t")
            mode, kind, sha = meta.decode("ascii").split(" ")
            if kind == "blob" and mode in _REGULAR_FILES:
                entries.append(TreeEntry(sha, name.decode("utf-8", "surrogateescape")))
        return entries

    def entries(self, commit: str) -> dict[str, tuple[str, str]]:
        """Every path at `commit`, with its git mode and object id: links (120000) and submodules included."""
        found = {}
        for record in self.git("ls-tree", "-r", "-z", "--full-tree", commit).split(b"\0"):
            if record:
                meta, _, name = record.partition(b"\t")
                mode, _, sha = meta.decode("ascii").split(" ")
                found[name.decode("utf-8", "surrogateescape")] = (mode, sha)
        return found

    def read(self, shas: Iterable[str]) -> dict[str, bytes]:
        """Blob contents by object id, in one `git cat-file --batch`."""
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return {}
        out = self.git("cat-file", "--batch", stdin="".join(f"{sha}\n" for sha in wanted).encode("ascii"))
        blobs: dict[str, bytes] = {}
        position = 0
        for sha in wanted:
            end = out.index(b"\n", position)
            header = out[position:end].decode("ascii").split(" ")
            position = end + 1
            if len(header) != 3:
                raise GitError(f"object {sha} is missing from the repository")
            size = int(header[2])
            blobs[sha] = out[position : position + size]
            position += size + 1
        return blobs

    def changed_since(self, commit: str, prefix: str = "") -> set[str]:
        """Files that differ between `commit` and the working tree, untracked ones included."""
        scope = ["--", prefix] if prefix else []
        tracked = self.git("diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", commit, *scope)
        untracked = self.git("ls-files", "--others", "--exclude-standard", "-z", "--full-name", *scope)
        return {name.decode("utf-8", "surrogateescape") for name in (tracked + b"\0" + untracked).split(b"\0") if name}

    def changed_between(self, base: str, head: str, prefix: str = "") -> set[str]:
        scope = ["--", prefix] if prefix else []
        out = self.git("diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", base, head, *scope)
        return {name.decode("utf-8", "surrogateescape") for name in out.split(b"\0") if name}


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            check=False,
            env=env,
        )
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH)") from None
    except OSError as error:
        raise GitError(f"cannot run git: {error.strerror}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = message[-1] if message else f"git {args[0]} failed with exit code {done.returncode}"
        if "not a git repository" in reason:
            reason = f"{cwd} is not in a git repository"
        raise GitError(reason.removeprefix("fatal: "))
    return done.stdout
