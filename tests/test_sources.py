"""The one door: `check(sources) -> Checked`, with sources from a directory, git objects or editor buffers.

A revision and unsaved buffers are read by the same rules as the working tree (same globs, same refusals,
same display paths), `Checked` is frozen, and `plan` writes nothing: not even a temporary directory.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_plan_fixtures import TODAY, commit, edit, make_repo

from compiler.core import repofs
from compiler.core.sources import GitTree, Kind, Sources
from compiler.integrations.gitops.git import Repo
from compiler.integrations.gitops.snapshot import at_revision, at_worktree
from compiler.stages import check, check_path
from compiler.stages.read.discovery import _glob_match, _parts

ROOT = Path(__file__).resolve().parent.parent
PROD = "ml/environments/production.yaml"


def findings(checked: object) -> list[tuple[str, str, int, int, str]]:
    return [(d.file, d.code, d.line, d.column, d.message) for d in checked.diagnostics]  # type: ignore[attr-defined]


# --- globs: what `Path.glob` matches, on paths from any backend ------------------------------------------

NAMES = st.sampled_from(["a.yaml", "b.yml", "c.json", "models", "x", "deep.yaml"])
GLOBS = st.sampled_from(
    ["**/*.yaml", "*.yaml", "models/*.yaml", "**/models/*.yml", "x/**/*.yaml", "*/*.y*ml", "models/**", "**/?.yaml"]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(NAMES, min_size=1, max_size=4), min_size=1, max_size=8), GLOBS)
def test_globs_match_what_path_glob_matches(
    tmp_path_factory: pytest.TempPathFactory, paths: list[list[str]], glob: str
) -> None:
    root = tmp_path_factory.mktemp("glob")
    files = set()
    for parts in paths:
        target = root.joinpath(*parts)
        if any(p.is_file() for p in [*target.parents, target] if p != root and root in p.parents) or target.is_dir():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("", "utf-8")
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    expected = {p.relative_to(root).as_posix() for p in root.glob(glob) if p.is_file()}
    assert {f for f in files if _glob_match(PurePosixPath(f).parts, _parts(glob))} == expected


# --- a revision reads like the working tree, from git objects ----------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def test_a_revision_and_the_working_tree_give_the_same_findings(repo: Path) -> None:
    edit(repo, PROD, "approvals: 2", "approvals: 0")
    commit(repo, "no approvals")
    here = check_path(repo / "ml", today=TODAY)
    there = at_revision(repo / "ml", "HEAD", TODAY).result
    assert findings(there) == findings(here)
    assert any(code == "CH" + code[2:] for _, code, *_ in findings(here))
    assert [p.name for p in there.policies] == [p.name for p in here.policies]
    assert there.input.label != "working tree"


def test_a_symbolic_link_in_a_revision_is_refused_not_read(repo: Path) -> None:
    secret = repo.parent / "secret.txt"
    secret.write_text("TOKEN=hunter2\n", "utf-8")
    os.symlink(secret, repo / "ml" / "models" / "leak.yaml")
    commit(repo, "a link")
    result = at_revision(repo / "ml", "HEAD", TODAY).result
    refused = [d for d in result.diagnostics if d.file.endswith("models/leak.yaml")]
    assert [(d.code, d.message) for d in refused] == [
        ("CH120", "not read: `leak.yaml` is a symbolic link; Charter does not follow links")
    ]
    assert all("hunter2" not in text for text in result.sources.values())


def test_git_tree_kinds_and_links_on_the_way(repo: Path) -> None:
    git = Repo.discover(repo)
    os.symlink("ml", repo / "linked")
    commit(repo, "a linked folder")
    tree = GitTree(git.entries(git.resolve("HEAD")), git)
    assert tree.kind("ml") is Kind.DIRECTORY
    assert tree.kind("linked") is Kind.LINK
    assert tree.kind("ml/charter.yaml") is Kind.FILE
    assert tree.kind("nothing-here") is None
    with pytest.raises(Exception, match="`linked` is a symbolic link"):
        tree.read("linked/charter.yaml", 1000)
    # Sized before it is read: over the cap is refused, and the first bytes come however large the blob.
    with pytest.raises(repofs.TooLarge):
        tree.read("ml/charter.yaml", 10)
    assert tree.head("ml/charter.yaml", 11) == b"apiVersion:"
    assert tree.read("ml/charter.yaml", 100_000).startswith(b"apiVersion: charter/v1alpha1\n")


# --- editor buffers through the same door --------------------------------------------------------------------


def test_unsaved_buffers_are_checked_and_nothing_is_written(repo: Path) -> None:
    sources = Sources.from_path(repo / "ml")
    before = check(sources, TODAY)
    path = PROD
    text = (repo / path).read_text("utf-8").replace("approvals: 2", "approvals: many")
    edited = check(sources.with_buffers({path: text.encode()}), TODAY)
    new = sorted((file.rsplit("/", 2)[-2:], code) for file, code, *_ in set(findings(edited)) - set(findings(before)))
    # The buffer's own error, and only it: the model that refers to the environment now invalid waits for it
    # (one mistake, one finding), with no second finding of its own.
    assert new == [(["environments", "production.yaml"], "CH202")]
    assert (repo / path).read_text("utf-8") != text
    added = check(sources.with_buffers({"ml/models/new.yaml": b"kind: [\n"}), TODAY)
    assert [code for file, code, *_ in findings(added) if file.endswith("models/new.yaml")] == ["CH100"]


def test_checked_is_frozen(repo: Path) -> None:
    checked = check_path(repo / "ml", today=TODAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        checked.diagnostics = []  # type: ignore[misc]


# --- plan: no temporary directory ---------------------------------------------------------------------------


def test_plan_creates_no_temporary_directory(repo: Path, tmp_path: Path) -> None:
    edit(repo, PROD, "approvals: 2", "approvals: 1")
    commit(repo, "fewer approvals")
    empty = tmp_path / "tmp"
    empty.mkdir()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "charter"), "plan", str(repo / "ml"), "--base", "HEAD~1"],
        env={**os.environ, "TMPDIR": str(empty), "CHARTER_TODAY": TODAY.isoformat()},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "environment-approvals-reduced" in done.stdout
    assert list(empty.iterdir()) == []


def test_worktree_snapshot_and_revision_list_the_same_policies(repo: Path) -> None:
    here = at_worktree(repo / "ml", TODAY, outputs=False)
    there = at_revision(repo / "ml", "HEAD", TODAY, outputs=False)
    assert sorted((s.kind, s.name, s.file) for s in here.specs) == sorted((s.kind, s.name, s.file) for s in there.specs)


def test_an_unmatched_spec_larger_than_the_cap_is_reported_from_its_head(tmp_path: Path) -> None:
    """Only the head of a file no glob matches is read, however large it is: a warning, never an internal error."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "examples" / "demand-forecast", project)
    big = project / "models" / "big.yml"
    big.write_text("apiVersion: charter/v1alpha1\nkind: Model\n" + "# padding\n" * 1_200_000, "utf-8")
    assert big.stat().st_size > 10 * 1024 * 1024
    found = [(d.code, d.file.rsplit("/", 2)[-2:], d.line, d.column) for d in check_path(project).diagnostics]
    assert ("CH412", ["models", "big.yml"], 2, 1) in found
    assert [code for code, *_ in found if code == "CH900"] == []
