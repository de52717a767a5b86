"""Which Charter is running: its version, and its commit when the way it was installed records one.

The generated workflows install Charter at a commit (`uses: <repository>/setup@<commit>`); a `build` run by
another Charter may write other bytes than the pinned one's `build --check` expects in CI. So Charter reads
what it is from its installation, never from the network:

- installed from git (`pip install git+https://github.com/charter-dev/charter@<sha>`, or by the setup action,
  which records the commit GitHub checked out): PEP 610's `direct_url.json` holds `vcs_info.commit_id`;
- installed from a package index: no `direct_url.json`; a release this Charter knows (pins.py) has a commit;
- installed from a directory (`pip install -e .`) or run from a source tree: the version only.

The metadata must belong to the code that runs: with a source tree first on `PYTHONPATH`, the installed
distribution describes another copy of Charter, and its commit would be a lie.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit

import compiler
from compiler.core.pins import PINS

DISTRIBUTION = "charter"
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9_.-]{1,100}?)(?:\.git)?/?$")


@dataclass(frozen=True, slots=True)
class Installation:
    version: str
    how: str
    """`git` (a commit from direct_url.json), `release` (from a package index), `directory` or `source`."""
    repository: str | None = None
    """`owner/name` on GitHub, when known."""
    commit: str | None = None

    def describe(self) -> str:
        """One line for `charter --version` and for findings: what this Charter is and how it knows."""
        if self.commit:
            where = f" of {self.repository}" if self.repository else ""
            return f"charter {self.version} (commit {self.commit}{where})"
        return f"charter {self.version} ({_WITHOUT_COMMIT[self.how]})"


_WITHOUT_COMMIT = {
    "git": "installed from git, commit not recorded",
    "release": "a release Charter has no commit for",
    "directory": "installed from a directory: no commit recorded",
    "source": "run from a source tree: no commit recorded",
}


def running() -> Installation:
    """The running Charter, from the installation metadata of the code that is running."""
    version = compiler.__version__
    here = Path(compiler.__file__).resolve().parent
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return Installation(version, "source")
    direct = _direct_url(dist)
    if not _holds(dist, direct, here):
        return Installation(version, "source")
    if direct is None:
        return _release(dist.version)
    return _from_direct_url(dist.version, direct)


def _direct_url(dist: metadata.Distribution) -> dict[str, object] | None:
    text = dist.read_text("direct_url.json")
    if text is None:
        return None
    try:
        loaded = json.loads(text)
    except ValueError:
        return None
    return loaded if isinstance(loaded, dict) else None


def _holds(dist: metadata.Distribution, direct: dict[str, object] | None, here: Path) -> bool:
    """Whether this distribution's files are the `compiler` package that is running."""
    dir_info = direct.get("dir_info") if direct else None
    if isinstance(dir_info, dict) and dir_info.get("editable") and direct is not None:
        source = _local_path(str(direct.get("url", "")))
        return source is not None and here.is_relative_to(source)
    try:
        installed = Path(str(dist.locate_file("compiler/__init__.py"))).resolve()
    except OSError:
        return False
    return installed.parent == here


def _local_path(url: str) -> Path | None:
    parts = urlsplit(url)
    return Path(unquote(parts.path)).resolve() if parts.scheme == "file" else None


def _release(version: str) -> Installation:
    known = PINS["charter"]
    if version == known.version.removeprefix("v"):
        return Installation(version, "release", known.repository, known.sha)
    return Installation(version, "release")


def _from_direct_url(version: str, direct: dict[str, object]) -> Installation:
    vcs = direct.get("vcs_info")
    if not isinstance(vcs, dict):
        return Installation(version, "directory")
    commit = str(vcs.get("commit_id", ""))
    match = _GITHUB.match(str(direct.get("url", "")).removeprefix("git+"))
    repository = match.group(1) if match else None
    return Installation(version, "git", repository, commit if _COMMIT.match(commit) else None)
