"""`.pre-commit-hooks.yaml`: pre-commit runs Charter's hooks on a temporary git repository.

The published hooks are `language: python`: pre-commit installs Charter
into a virtualenv of its own, from PyPI. Here the same hooks (id, entry,
file types, pass_filenames, as read from the manifest) run as
`language: system` hooks of a `repo: local` config, against the Charter of
this virtualenv, so the test needs no network and takes seconds.
`make test` and CI (or `CHARTER_NETWORK_TESTS=1`) also run `pre-commit try-repo` on a copy of this
repository, which builds the published hook's virtualenv from PyPI into an empty cache (about a
minute), and commit a deletion through it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from checkout import copy_checkout
from test_plan_fixtures import commit, git

from compiler.scaffold.project import scaffold

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / ".pre-commit-hooks.yaml"


def hooks() -> list[dict[str, object]]:
    from pre_commit.clientlib import load_manifest

    loaded: list[dict[str, object]] = load_manifest(str(MANIFEST))
    return loaded


def test_the_manifest_is_valid() -> None:
    by_id = {hook["id"]: hook for hook in hooks()}
    assert set(by_id) == {"charter-check", "charter-build-check"}
    assert by_id["charter-check"]["entry"] == "charter check"
    assert by_id["charter-build-check"]["entry"] == "charter build --check"
    for hook in by_id.values():
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False  # a contract change can break a model in another file
        assert hook["always_run"] is True  # a commit that only deletes files stages none to hand a hook


def _declared(hook: dict[str, object]) -> dict[str, object]:
    """The keys the manifest file itself sets (load_manifest adds every default)."""
    (raw,) = [h for h in yaml.safe_load(MANIFEST.read_text("utf-8")) if h["id"] == hook["id"]]
    return {key: hook[key] for key in raw}


def run_pre_commit(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home"),
        "GIT_CONFIG_GLOBAL": str(repo.parent / ".gitconfig-tests"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args, "--color", "never"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=300,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scaffolded project with its generated files, committed, and the hooks configured."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    scaffold(repo, name="churn")
    charter_yaml = repo / "charter.yaml"
    # The spec glob `**/*.yaml` would read pre-commit's own config as a spec.
    charter_yaml.write_text(
        charter_yaml.read_text("utf-8").replace(
            '  specs:\n    - "**/*.yaml"\n',
            '  specs:\n    - "**/*.yaml"\n  exclude:\n    - ".pre-commit-config.yaml"\n',
        ),
        "utf-8",
    )
    # Each hook as the manifest declares it (types, always_run, pass_filenames...), run by this virtualenv's Charter.
    local = [{**_declared(hook), "language": "system"} for hook in hooks()]
    config = {"repos": [{"repo": "local", "hooks": local}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")
    built = subprocess.run(
        [sys.executable, "-m", "compiler", "build", "."], cwd=repo, capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stdout + built.stderr
    commit(repo, "churn project")
    return repo


def test_hooks_pass_on_a_clean_project(project: Path) -> None:
    done = run_pre_commit(project, "run", "--all-files")
    assert done.returncode == 0, done.stdout
    assert "charter check" in done.stdout
    assert "charter build --check" in done.stdout
    assert done.stdout.count("Passed") == 2


def test_charter_check_fails_a_broken_spec(project: Path) -> None:
    model = project / "models" / "model.yaml"
    model.write_text(model.read_text("utf-8").replace("suite: churn-eval", "suite: churn-evaluation"), "utf-8")
    git(project, "add", "models/model.yaml")
    done = run_pre_commit(project, "run")
    assert done.returncode == 1
    assert "- hook id: charter-check" in done.stdout
    assert "error[CH401] no EvaluationSuite named `churn-evaluation`" in done.stdout
    assert "models/model.yaml:" in done.stdout


def test_charter_build_check_fails_a_hand_edit(project: Path) -> None:
    card = project / "docs" / "models" / "churn.md"
    card.write_text(card.read_text("utf-8") + "\nA line written by hand.\n", "utf-8")
    git(project, "add", "docs/models/churn.md")
    done = run_pre_commit(project, "run")
    assert done.returncode == 1
    assert "- hook id: charter-build-check" in done.stdout
    assert "docs/models/churn.md: edited by hand" in done.stdout
    assert "charter check" in done.stdout
    assert "Skipped" not in done.stdout


def test_hooks_run_on_every_commit_and_pass_when_nothing_is_wrong(project: Path) -> None:
    (project / "notes.txt").write_text("hello\n", "utf-8")
    git(project, "add", "notes.txt")
    done = run_pre_commit(project, "run")
    assert done.returncode == 0, done.stdout
    assert "Skipped" not in done.stdout
    assert done.stdout.count("Passed") == 2


def test_a_commit_that_only_deletes_a_spec_is_checked(project: Path) -> None:
    """Before, both hooks printed "(no files to check)Skipped" and the commit passed a broken tree."""
    git(project, "rm", "--quiet", "suites/evaluation.yaml")
    done = run_pre_commit(project, "run")
    assert done.returncode == 1, done.stdout
    assert "- hook id: charter-check" in done.stdout
    assert "error[CH401] no EvaluationSuite named `churn-eval`" in done.stdout
    assert "Skipped" not in done.stdout


def test_a_commit_that_only_deletes_a_generated_file_is_checked(project: Path) -> None:
    git(project, "rm", "--quiet", "docs/models/churn.md")
    done = run_pre_commit(project, "run")
    assert done.returncode == 1, done.stdout
    assert "- hook id: charter-build-check" in done.stdout
    assert "docs/models/churn.md: missing" in done.stdout


# `make test` and CI run it (about a minute); a quick local run may leave it out.
FROM_AN_EMPTY_CACHE = any(os.environ.get(name) for name in ("CHARTER_NETWORK_TESTS", "CHARTER_REQUIRE_ORACLES", "CI"))


@pytest.mark.skipif(not FROM_AN_EMPTY_CACHE, reason="installs Charter's dependencies from PyPI (about a minute)")
def test_try_repo_installs_the_published_hooks(project: Path, tmp_path: Path) -> None:
    source = copy_checkout(tmp_path / "charter-source")
    git(source, "init", "--quiet", "--initial-branch=main")
    commit(source, "charter")
    done = run_pre_commit(project, "try-repo", str(source), "charter-check", "--all-files")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "charter check" in done.stdout
    # The published hook, installed from an empty cache, runs on a commit that only deletes a spec.
    git(project, "rm", "--quiet", "suites/evaluation.yaml")
    done = run_pre_commit(project, "try-repo", str(source), "charter-check")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "error[CH401] no EvaluationSuite named `churn-eval`" in done.stdout
