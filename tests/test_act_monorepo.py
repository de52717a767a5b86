"""Issue 22, on act: a project in `ml/` of a monorepo, its workflows at the repository root, runs.

The credit-scoring example in `ml/` of the repository, with `outputs.workflows: ../.github/workflows`: `charter
build` writes its workflows to the root's `.github/workflows`, where GitHub reads them, and each step runs in
`ml/` (`defaults.run.working-directory`). The pull-request workflow, as GitHub would start it from the root, checks
the project, finds its generated files current, uploads its report and SARIF from `ml/` and reports on the pull
request; a broken spec in `ml/` is annotated at its path from the root.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from act_support import ROOT, TOKEN, Runner, change_model, environments_as_specified, git
from test_act import PR_WORKFLOW, github, pytestmark, python, runner
from test_github_report import FakeGitHub

from compiler.commands.cli import main

__all__ = ["github", "pytestmark", "python", "runner"]  # test_act's fixtures (GitHub stand-in, runner) and skips

AT_ROOT = "    workflows: ../.github/workflows   # GitHub Actions: train, evaluate, gate, deploy\n"
DEFAULT = "    workflows: .github/workflows   # GitHub Actions: train, evaluate, gate, deploy\n"


def _monorepo(runner: Runner) -> Path:
    """The example in `ml/` of a repository that holds other things too, its workflows moved to the root."""
    repo = runner.repository(ROOT / "examples" / "credit-scoring", "lending", home="ml")
    (repo / "README.md").write_text("# Acme lending\n", "utf-8")
    shutil.rmtree(repo / "ml" / ".github")
    settings = repo / "ml" / "charter.yaml"
    settings.write_text(settings.read_text("utf-8").replace(DEFAULT, AT_ROOT), "utf-8")
    main(["build", str(repo / "ml")])  # the first build after the move: the old workflows' records are dropped
    assert main(["build", str(repo / "ml"), "--check"]) == 0
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "the ML project's workflows at the repository root")
    runner.push(repo, "main")
    return repo


def test_the_pull_request_workflow_of_a_project_in_a_subdirectory_runs_from_the_root(
    runner: Runner, github: FakeGitHub
) -> None:
    environments_as_specified(github)
    repo = _monorepo(runner)
    assert (repo / PR_WORKFLOW).is_file()
    assert not (repo / "ml" / ".github").exists()
    change_model(repo, "clarify-scope", "from 500 to 75,000 EUR.", "from 500 to 50,000 EUR.", build=True, home="ml")
    pull = runner.pull_request(repo, "clarify-scope", 7)
    github.pulls[7] = {"head": pull.head, "base": pull.base}
    run = runner.run(repo, "pull_request", pull.event, PR_WORKFLOW)
    lines = run.step_lines("charter/charter check")
    assert run.code == 0, run.log
    assert "🏁  Job succeeded" in lines
    assert "| charter build --check: 10 generated files are current." in lines
    (check_run,) = github.check_runs.values()
    assert (check_run["head_sha"], check_run["conclusion"]) == (pull.head, "success")
    assert len(github.comments[7]) == 1
    # The actions were given the paths in ml/: the report and the SARIF the steps wrote there.
    assert (runner.artifacts / "charter-report" / "index.html").is_file()
    assert (runner.artifacts / "sarif-charter.json").is_file()


def test_a_broken_spec_in_the_subdirectory_is_annotated_at_its_path_from_the_root(
    runner: Runner, github: FakeGitHub
) -> None:
    environments_as_specified(github)
    repo = _monorepo(runner)
    change_model(repo, "typo", "      replicas: 2", "      replcas: 2", build=False, home="ml")
    spec = repo / "ml" / "models" / "credit-default.yaml"
    line = spec.read_text("utf-8").splitlines().index("      replcas: 2") + 1
    pull = runner.pull_request(repo, "typo", 8)
    github.comments[8] = []
    github.pulls[8] = {"head": pull.head, "base": pull.base}
    run = runner.run(repo, "pull_request", pull.event, PR_WORKFLOW)
    assert run.code != 0
    (check_run,) = github.check_runs.values()
    assert check_run["conclusion"] == "failure"
    (typo,) = [a for a in check_run["annotations"] if a["title"].startswith("CH200")]
    assert (typo["path"], typo["start_line"], typo["annotation_level"]) == (
        "ml/models/credit-default.yaml",
        line,
        "failure",
    )
    annotation = f"::error file=ml/models/credit-default.yaml,line={line},col=7,endLine={line},endColumn=14,title=CH200"
    assert any(annotation in entry for entry in run.step_lines("charter/charter check")), run.log
    assert TOKEN not in run.log
