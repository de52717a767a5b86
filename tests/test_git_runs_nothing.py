"""Git runs nothing from the checkout (issue 30, item 2).

A pull request controls every file of the checkout, and a developer's clone may carry anything in its
`.git/config`. Here every command git can be told to run is planted, three ways: in the checkout's own
`.git/config` and hooks, in `.gitattributes` (filters and textconv by path), and in a bare repository the
pull request commits inside the project (`ml/HEAD`, `ml/objects/`, `ml/refs/`, `ml/config`, `ml/hooks/`),
which git started in `ml/` would take for the repository. Each planted command touches a marker file outside
the repository. A control test proves the plants are live (plain git runs them); then `charter check
--changed-since`, `charter plan` and `charter github report --dry-run` run, and no marker may appear.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from test_plan_fixtures import TODAY, commit, edit, git, make_repo, write

from compiler.commands.cli import main
from compiler.integrations.gitops.git import GitError, Repo

# Every hook git may run on the commands a reader could be tempted to use.
HOOKS = ("post-checkout", "post-index-change", "reference-transaction", "pre-auto-gc", "fsmonitor-watchman")
# key -> what the planted command is called with (the marker's name, after where it was planted).
PLANTED = {
    "core.fsmonitor": "fsmonitor",
    "core.pager": "pager",
    "pager.diff": "pager-diff",
    "core.sshCommand": "ssh",
    "core.askPass": "askpass",
    "core.alternateRefsCommand": "alternate-refs",
    "credential.helper": "credential",
    "diff.external": "external-diff",
    "diff.planted.textconv": "textconv",
    "diff.planted.command": "diff-driver",
    "filter.planted.clean": "clean",
    "filter.planted.smudge": "smudge",
    "filter.processed.process": "process",
    "uploadpack.packObjectsHook": "pack-objects",
}
ATTRIBUTES = "*.yaml filter=planted diff=planted\n*.md filter=processed diff=planted\n* diff=planted\n"


class Planted:
    def __init__(self, root: Path) -> None:
        self.markers = root / "markers"
        self.markers.mkdir()
        self.script = root / "plant"
        # Filters pass the content through, so that git goes on as far as it would.
        self.script.write_text(f'#!/bin/sh\ntouch "{self.markers}/$1"\nexec cat\n', "utf-8")
        self.script.chmod(0o755)
        # A transport's command: git talks to it, so it leaves at once rather than echo git's side back.
        self.quits = root / "plant-and-quit"
        self.quits.write_text(f'#!/bin/sh\ntouch "{self.markers}/$1"\nexit 1\n', "utf-8")
        self.quits.chmod(0o755)

    def command(self, where: str, what: str) -> str:
        return f"{self.script} {where}-{what}"

    def config(self, where: str) -> str:
        lines = []
        for key, what in PLANTED.items():
            section, _, name = key.rpartition(".")
            head, _, sub = section.partition(".")
            value = self.command(where, what)
            value = f"!{value}" if key == "credential.helper" else value
            lines.append(f'[{head} "{sub}"]' if sub else f"[{head}]")
            lines.append(f'\t{name} = "{value}"')
        return "\n".join(lines) + "\n"

    def hooks(self, folder: Path, where: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for hook in HOOKS:
            path = folder / hook
            path.write_text(f"#!/bin/sh\n{self.command(where, hook)} </dev/null >/dev/null\n", "utf-8")
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)

    def ran(self) -> list[str]:
        return sorted(os.listdir(self.markers))


@pytest.fixture(params=["embedded repository", "embedded bare repository", "checkout only"])
def hostile(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, str, Planted]:
    """The lending project in `ml/`; a pull request that raises the canary and commits attributes, and a bare
    repository holding the base's objects (as a pull request can); the checkout's own config and hooks planted
    too. Returns (repo, base commit, plants)."""
    repo = make_repo(tmp_path / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    planted = Planted(tmp_path)
    edit(repo, "ml/models/scorer.yaml", "trafficPercent: 10", "trafficPercent: 30")
    write(repo, {".gitattributes": ATTRIBUTES, "ml/.gitattributes": ATTRIBUTES})
    if request.param.startswith("embedded"):
        shutil.copytree(repo / ".git" / "objects", repo / "ml" / "objects")
        embedded = "[core]\n\trepositoryformatversion = 0\n"
        if request.param == "embedded repository":  # ml/ is its own work tree; else a bare repository
            embedded += "\tbare = false\n\tworktree = .\n"
        write(
            repo,
            {
                "ml/HEAD": "ref: refs/heads/main\n",
                "ml/refs/heads/main": f"{base}\n",
                "ml/config": embedded + planted.config("embedded"),
            },
        )
        planted.hooks(repo / "ml" / "hooks", "embedded")
    commit(repo, "raise the canary; plant commands")
    # The checkout's own config and hooks: last, so that the set-up's own git commands run none of them.
    with (repo / ".git" / "config").open("a", encoding="utf-8") as config:
        config.write(planted.config("checkout"))
        config.write(f"[core]\n\thooksPath = {tmp_path / 'hooks'}\n")
    planted.hooks(tmp_path / "hooks", "checkout-hooks-path")
    planted.hooks(repo / ".git" / "hooks", "checkout-hooks")
    # Touched after the commit: git must hash them again, through the clean filter, to compare them.
    for name in ("ml/models/scorer.yaml", "ml/charter.yaml", "README.md"):
        os.utime(repo / name, (1, 1))
    monkeypatch.chdir(repo)
    monkeypatch.setenv("CHARTER_TODAY", TODAY.isoformat())
    for name in ("GITHUB_ACTIONS", "GITHUB_EVENT_PATH", "GITHUB_TOKEN", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    return repo, base, planted


def test_the_plants_are_live(hostile: tuple[Path, str, Planted]) -> None:
    """The control: plain git, started where Charter used to start it, runs what was planted."""
    repo, base, planted = hostile
    config = repo / "ml" / "config"
    embedded = config.exists() and "worktree = ." in config.read_text("utf-8")
    if embedded:  # a bare one makes git refuse what needs a work tree, and the report planned nothing
        git(repo / "ml", "status", "--porcelain")
    git(repo, "status", "--porcelain")
    git(repo, "diff", base)
    git(repo, "diff", "--no-ext-diff", base)
    expected = {
        *(["embedded-fsmonitor"] if embedded else []),  # the repository the pull request committed in ml/
        "checkout-fsmonitor",
        "checkout-clean",  # .gitattributes: filter=planted on *.yaml
        "checkout-process",  # filter=processed on *.md
        "checkout-diff-driver",  # diff=planted
        "checkout-textconv",  # diff=planted, with --no-ext-diff
        "checkout-hooks-path-post-index-change",
    }
    assert expected <= set(planted.ran()), planted.ran()


def test_check_changed_since_runs_nothing(
    hostile: tuple[Path, str, Planted], capsys: pytest.CaptureFixture[str]
) -> None:
    _, base, planted = hostile
    code = main(["check", "ml", "--changed-since", base])
    assert planted.ran() == []
    assert code == 1
    out = capsys.readouterr().out
    assert "ml/models/scorer.yaml:" in out


def test_plan_runs_nothing(hostile: tuple[Path, str, Planted], capsys: pytest.CaptureFixture[str]) -> None:
    _, base, planted = hostile
    code = main(["plan", "ml", "--base", base])
    assert planted.ran() == []
    assert code == 1
    out = capsys.readouterr().out
    assert "canary traffic raised" in out


def test_github_report_plans_and_runs_nothing(
    hostile: tuple[Path, str, Planted], capsys: pytest.CaptureFixture[str]
) -> None:
    """With the bare repository in `ml/`, the report used to fail to plan and pass as a plain check."""
    _, base, planted = hostile
    code = main(["github", "report", "ml", "--base", base, "--dry-run"])
    assert planted.ran() == []
    assert code == 1
    out = capsys.readouterr().out
    assert out.startswith("# check run `charter`: failure")
    assert "canary traffic raised" in out
    assert "No plan" not in out


@pytest.mark.skipif(os.geteuid() != 0, reason="planting a folder of another user needs root")
def test_a_git_folder_of_another_user_above_the_project_is_not_read(tmp_path: Path) -> None:
    """Pinning the repository skips git's ownership check, so Charter makes its own: a `.git` that someone
    else planted above a folder that is not in a repository (`/tmp/.git`) is refused, not read."""
    project = tmp_path / "shared" / "project"
    project.mkdir(parents=True)
    planted = tmp_path / "shared" / ".git"
    git(tmp_path / "shared", "init", "--quiet")
    os.chown(planted, 65534, 65534)
    with pytest.raises(GitError, match=r"\.git belongs to another user \(uid 65534\); Charter does not read it"):
        Repo.discover(project)
    os.chown(tmp_path / "shared", 65534, 65534)  # the folder's owner planted it: theirs to use
    assert Repo.discover(tmp_path / "shared").root == tmp_path / "shared"


def test_a_partial_clone_fetches_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A blob the clone left out would be fetched from the promisor remote, whose URL (here an `ext::`
    command) the config chooses. Charter allows no transport: the plan says what is missing, nothing runs."""
    server = make_repo(tmp_path / "server")
    git(server, "config", "uploadpack.allowFilter", "true")
    edit(server, "ml/models/scorer.yaml", "trafficPercent: 10", "trafficPercent: 30")
    commit(server, "raise the canary")
    missing = git(server, "rev-parse", "HEAD~1:ml/models/scorer.yaml").strip()
    clone = tmp_path / "clone"
    git(
        tmp_path,
        "-c",
        "protocol.file.allow=always",
        "clone",
        "--quiet",
        "--filter=blob:none",
        server.as_uri(),
        str(clone),
    )
    planted = Planted(tmp_path)
    git(clone, "config", "remote.origin.url", f"ext::{planted.quits} checkout-lazy-fetch %S")
    git(clone, "config", "protocol.ext.allow", "always")
    monkeypatch.chdir(clone)
    code = main(["plan", "ml", "--base", "HEAD~1"])
    assert planted.ran() == []
    assert code == 2
    assert capsys.readouterr().err == (
        f"charter plan: could not fetch {missing} from promisor remote; Charter fetches nothing: "
        "clone or fetch without `--filter` (a partial clone leaves blobs out)\n"
    )
