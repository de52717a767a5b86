"""Git plumbing: revisions, trees and blobs, read from the object database.

Only read-only commands run here (`rev-parse`, `ls-tree`, `cat-file`, `diff --name-only` between two commits),
with optional locks off, so reading a revision never checks it out and never touches the index or the working
tree, even while an editor or another git process is busy with them.

Git runs nothing from the checkout. In a pull request every file of the checkout is the author's, and git
obeys what it finds: a committed `HEAD`, `objects/` and `refs/` make a folder a repository whose `config`
git reads, and a checkout's `.git/config` and `.gitattributes` name commands (an fsmonitor, filters, an
external diff, textconv, hooks, a pager). So every command is built by `_command`, the one door:

- the repository is pinned: `--git-dir` is the `.git` of the checkout's top, found by Charter without git
  (a `.git` cannot be committed, so the pull request cannot plant one), `GIT_CEILING_DIRECTORIES` above it
  and `safe.bareRepository=explicit`, so git never discovers a repository on its own;
- what could execute is switched off on the command line, which wins over every config file: fsmonitor,
  hooks, pager, external diff, ssh command, askpass, credential helpers, every transport (a lazy fetch of a
  partial clone included), and the system and global config files are not read at all;
- no command applies a filter or textconv: blobs are read with `cat-file --batch` (no `--filters`, no
  `--textconv`), and the working tree is compared by hashing its files in Python (`blob_id`), never by git,
  whose clean filter would run on them. Attributes have no way to be switched off generically, so no
  command that reads them is run.
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_REGULAR_FILES = frozenset({"100644", "100755"})
# Command-line config beats every file git reads: these are the settings that can run a program.
_PINNED = (
    "core.quotepath=off",
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "core.askPass=",
    "core.sshCommand=false",
    "core.attributesFile=/dev/null",
    "core.alternateRefsCommand=",
    "credential.helper=",
    "diff.external=",
    "safe.bareRepository=explicit",
    "protocol.allow=never",
    "gc.auto=0",
    "maintenance.auto=false",
)
_ENVIRONMENT = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    # A list of allowed transports overrides `protocol.<name>.allow` in any config: this one allows none.
    "GIT_ALLOW_PROTOCOL": "charter-allows-no-transport",
    "GIT_NO_LAZY_FETCH": "1",
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_LITERAL_PATHSPECS": "1",
    "LC_ALL": "C",
}


_FETCH = "clone or fetch without `--filter` (a partial clone leaves blobs out)"


class GitError(Exception):
    """git is missing, the path is not in a repository, or a revision does not exist."""


@dataclass(frozen=True, slots=True)
class TreeEntry:
    sha: str
    path: str  # relative to the repository root, POSIX separators


@dataclass(frozen=True)
class Repo:
    root: Path  # the checkout's top: the folder that holds `.git`
    git_dir: Path | None = None  # its `.git` (a directory, or the file of a linked worktree); root/.git if None

    @classmethod
    def discover(cls, path: Path) -> Repo:
        """The checkout holding `path`: the nearest folder with a `.git`, found without asking git."""
        start = Path(os.path.abspath(path))
        if not start.is_dir():
            start = start.parent
        for candidate in (start, *start.parents):
            marker = candidate / ".git"
            try:
                info = os.lstat(marker)
            except OSError:
                continue
            if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
                raise GitError(f"{marker} is neither a directory nor a file")
            # git's own rule against a `.git` planted above someone else's folder (/tmp/.git), which pinning
            # the repository skips: it must belong to the current user or to whoever owns the project folder.
            if info.st_uid not in (os.geteuid(), os.stat(start).st_uid):
                raise GitError(f"{marker} belongs to another user (uid {info.st_uid}); Charter does not read it")
            return cls(candidate, marker)
        raise GitError(f"{start} is not in a git repository")

    def git(self, *args: str, stdin: bytes | None = None) -> bytes:
        try:
            done = subprocess.run(
                self._command(*args), cwd=self.root, input=stdin, capture_output=True, check=False, env=self._env()
            )
        except FileNotFoundError:
            raise GitError("git is not installed (or not on PATH)") from None
        except OSError as error:
            raise GitError(f"cannot run git: {error.strerror}") from None
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip().splitlines()
            reason = message[-1] if message else f"git {args[0]} failed with exit code {done.returncode}"
            if "not a git repository" in reason:
                reason = f"{self.root} is not in a git repository"
            elif "promisor remote" in reason:  # a partial clone's blob: no transport is allowed to fetch it
                reason = f"{reason.removeprefix('fatal: ')}; Charter fetches nothing: {_FETCH}"
            raise GitError(reason.removeprefix("fatal: "))
        return done.stdout

    def _command(self, *args: str) -> list[str]:
        """The one door: every git command Charter runs, pinned to this repository, with nothing to execute."""
        git_dir = self.git_dir or self.root / ".git"
        pinned = [option for setting in _PINNED for option in ("-c", setting)]
        return ["git", "--no-pager", f"--git-dir={git_dir}", f"--work-tree={self.root}", *pinned, *args]

    def _env(self) -> dict[str, str]:
        # Nothing of git's from the caller's environment either (a hook's GIT_DIR, GIT_EXTERNAL_DIFF, ...).
        env = {name: value for name, value in os.environ.items() if not name.startswith("GIT_")}
        return {**env, **_ENVIRONMENT, "GIT_CEILING_DIRECTORIES": str(self.root.parent)}

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

    def sizes(self, shas: Iterable[str]) -> dict[str, int]:
        """Blob sizes by object id, in one `git cat-file --batch-check`: nothing of the contents is read."""
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return {}
        out = self.git("cat-file", "--batch-check", stdin="".join(f"{sha}\n" for sha in wanted).encode("ascii"))
        sizes = {}
        for sha, line in zip(wanted, out.decode("ascii").splitlines(), strict=True):
            fields = line.split(" ")
            if len(fields) != 3 or fields[1] != "blob":
                # A partial clone's missing blobs are not fetched: that would run a transport the config chose.
                raise GitError(f"object {sha} is missing from the repository; Charter fetches nothing: {_FETCH}")
            sizes[sha] = int(fields[2])
        return sizes

    def read(self, shas: Iterable[str], cap: int) -> dict[str, bytes]:
        """Blob contents by object id, in one `git cat-file --batch`; blobs larger than `cap` bytes are sized
        first (`sizes`) and left out, never read."""
        sizes = self.sizes(shas)
        wanted = [sha for sha, size in sizes.items() if size <= cap]
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
                raise GitError(f"object {sha} is missing from the repository; Charter fetches nothing: {_FETCH}")
            size = int(header[2])
            blobs[sha] = out[position : position + size]
            position += size + 1
        return blobs

    def head(self, sha: str, size: int) -> bytes:
        """The first `size` bytes of a blob, however large it is: git's output is read that far, then stopped."""
        with subprocess.Popen(
            self._command("cat-file", "blob", sha),
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=self._env(),
        ) as process:
            assert process.stdout is not None
            data = process.stdout.read(size)
            process.kill()
        return data

    def blob_id(self, data: bytes) -> str:
        """The object id git gives a blob of these bytes (unfiltered): how a working-tree file is compared
        with a revision without running git on the working tree."""
        digest = hashlib.sha256() if self._object_format == "sha256" else hashlib.sha1()
        digest.update(b"blob %d\0" % len(data))
        digest.update(data)
        return digest.hexdigest()

    @functools.cached_property
    def _object_format(self) -> str:
        return self.git("rev-parse", "--show-object-format").decode("ascii").strip()
