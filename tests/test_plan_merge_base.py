"""`charter plan --base main` measures the branch from where it left main (issue 22).

Measured: from a branch behind main, `plan --base main` compared the tips, so main's later changes were
blamed on the branch; in a shallow clone the suggested `git fetch` command failed (`git fetch origin
origin/main`).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from test_plan_fixtures import commit, edit, git, make_repo

from compiler.commands.cli import main


def _behind_main(tmp_path: Path) -> Path:
    """A branch that raised the canary, and main, since it branched, that added a staging replica."""
    repo = make_repo(tmp_path / "repo")
    git(repo, "checkout", "--quiet", "-b", "canary")
    edit(repo, "ml/models/scorer.yaml", "trafficPercent: 10", "trafficPercent: 30")
    commit(repo, "raise the canary")
    git(repo, "checkout", "--quiet", "main")
    edit(repo, "ml/models/scorer.yaml", "      replicas: 1\n", "      replicas: 2\n")
    commit(repo, "a second staging replica")
    git(repo, "checkout", "--quiet", "canary")
    return repo


def _plan(repo: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    main(["plan", str(repo / "ml"), "--base", "main", "--format", "json", *extra])
    return capsys.readouterr().out


def test_the_plan_counts_only_the_branchs_own_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _behind_main(tmp_path)
    monkeypatch.chdir(repo)
    own = _plan(repo, capsys)
    assert "trafficPercent" in own
    assert "replicas" not in own  # main's change is not the branch's
    assert "merge base with main" in own
    tips = _plan(repo, capsys, "--tip")
    assert "replicas" in tips  # comparing the tips undoes main's change


def test_a_shallow_clone_is_told_how_to_fetch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    origin = _behind_main(tmp_path)
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "--quiet", "--depth", "1", "--branch", "canary", origin.as_uri(), str(clone)],
        check=True, capture_output=True,
    )  # fmt: skip
    assert main(["plan", str(clone / "ml"), "--base", "origin/main"]) == 2
    err = capsys.readouterr().err
    assert "unknown revision `origin/main` (fetch it first: `git fetch origin main`)" in err
    git(clone, "fetch", "--quiet", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    assert main(["plan", str(clone / "ml"), "--base", "origin/main"]) == 2
    assert "this clone is shallow (`git fetch --unshallow`" in capsys.readouterr().err
