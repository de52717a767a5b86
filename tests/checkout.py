"""This checkout as git sees it, copied: what a test that runs the repository's own tooling (`make demo`,
pre-commit's `try-repo`, Charter's setup action) works on, instead of the checkout itself.

The checkout is shared: the other test process of `make test` (pytest-xdist) copies its examples, reads its
tests/cases and writes what git ignores beside them (Hypothesis' database, screenshots). Only the files git
tracks or would add (uncommitted changes too) are copied, so nothing another process is writing is read
half-way, and nothing a run leaves behind (.demo/, *.egg-info, .charter/cache/) lands in the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def copy_checkout(target: Path) -> Path:
    """Copy this checkout's tracked and untracked-but-not-ignored files to `target` (made here); return it."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, check=True, text=True,
    ).stdout  # fmt: skip
    target.mkdir(parents=True)
    for name in filter(None, listed.split("\0")):
        source, copy = ROOT / name, target / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():  # compiler/packs -> ../policies
            copy.symlink_to(os.readlink(source))
        elif source.is_file():  # listed but deleted in the working tree: not there, as in a commit of it
            shutil.copy2(source, copy)
    return target


def copy_project(relative: str | Path, under: Path) -> Path:
    """The project at ROOT/`relative` (an example, a case) copied to `under`/`relative`, without a check cache.

    For a test of `charter check` on one of the checkout's projects: the command writes its cache
    (.charter/cache/) beside the specs, and the checkout's projects are what other tests copy meanwhile. Run
    from `under`, the same relative path names the copy, so findings name the files as they would in the checkout.
    """
    target = under / relative
    shutil.copytree(ROOT / relative, target, ignore=_check_cache)
    return target


def _check_cache(folder: str, names: list[str]) -> list[str]:
    return ["cache"] if Path(folder).name == ".charter" and "cache" in names else []
