"""Issue 22: what the specs say about approvals is what GitHub enforces.

The credit-scoring example says staging needs 1 approval and production 2, production promoted from staging
and deployed from main only. `charter github environments` (the deploy jobs) and `charter github report
--environments` ask GitHub's API (tests/fake_github.py, real HTTP to the real PyGithub client) for each
Environment's GitHub environment; every mismatch is an error at the field of the spec it contradicts.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_github import OWNER_REPO, REPO, TOKEN, FakeGitHub, Fault, serving

from compiler.commands.cli import main

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = "environments/production.yaml"
STAGING = "environments/staging.yaml"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with serving(FakeGitHub()) as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeGitHub) -> Path:
    root = tmp_path / "credit-scoring"
    shutil.copytree(ROOT / "examples" / "credit-scoring", root)
    monkeypatch.chdir(root)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", OWNER_REPO)
    monkeypatch.setenv("GITHUB_API_URL", fake.api_url)
    monkeypatch.delenv("GITHUB_EVENT_PATH", raising=False)
    return root


def as_configured(fake: FakeGitHub) -> None:
    """What the example's comments ask for: staging 1 reviewer; production 2, no self-review, main only; and the
    environment the model trains in (Kubeflow Pipelines' secrets), which no approval guards."""
    fake.environment("staging", ("alice",))
    fake.environment("production", ("acme/model-risk", "bob"), prevent_self_review=True, branches=("main",))
    fake.environment("training", ())


def environments(*argv: str) -> int:
    return main(["github", "environments", ".", "--format", "github", *argv])


FOUND = re.compile(r"::error file=([^,]+),line=(\d+),col=(\d+),endLine=\d+,endColumn=(\d+),title=(CH\d+) [^:]*::(.*)")


def findings(out: str) -> list[str]:
    """Each `::error` workflow command as `file:line:column-end code message`, without its hint."""
    found = [FOUND.match(line) for line in out.splitlines() if line.startswith("::")]
    return [f"{m[1]}:{m[2]}:{m[3]}-{m[4]} {m[5]} {m[6].split('%0AHint:')[0]}" if m else "unparsed" for m in found]


def test_environments_that_enforce_what_the_specs_say(
    project: Path, fake: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    as_configured(fake)
    assert environments() == 0
    out = capsys.readouterr().out
    assert "`production` enforces what Environment `production` says" in out
    assert "`staging` enforces what Environment `staging` says" in out
    assert fake.calls() == [
        ("GET", f"{REPO}/environments/production"),
        ("GET", REPO),  # which branch is the default
        ("GET", f"{REPO}/environments/production/deployment-branch-policies?per_page=100"),
        ("GET", f"{REPO}/environments/staging"),
        ("GET", f"{REPO}/environments/training"),
    ]
    assert all(r.authorization == f"token {TOKEN}" for r in fake.requests)


def test_a_deploy_job_asks_for_its_own_environment_only(
    project: Path, fake: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.environment("staging", ("alice",))
    assert environments("--environment", "staging") == 0
    assert fake.calls() == [("GET", f"{REPO}/environments/staging")]
    assert environments("--environment", "qa") == 2
    assert "no Environment named `qa`" in capsys.readouterr().err


def test_a_missing_environment_is_an_error_at_its_name(
    project: Path, fake: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.environment("staging", ("alice",))
    fake.environment("training", ())
    assert environments() == 1
    assert findings(capsys.readouterr().out) == [
        f"{PRODUCTION}:14:22-32 CH445 Environment `production`: "
        f"GitHub environment `production` does not exist in {OWNER_REPO}"
    ]


@pytest.mark.parametrize(
    ("reviewers", "self_review", "message"),
    [
        ((), False, "requires no reviewers; the spec says `approvals: 2`"),
        (("bob",), True, "lists 1 reviewer; the spec says `approvals: 2`"),
        (
            ("acme/model-risk", "bob"),
            False,
            "lets who started a deployment approve it (prevent_self_review is off), so one person deploys alone; "
            "the spec says `approvals: 2`",
        ),
    ],
)
def test_fewer_approvals_than_the_spec_says(
    project: Path,
    fake: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
    reviewers: tuple[str, ...],
    self_review: bool,
    message: str,
) -> None:
    fake.environment("staging", ("alice",))
    fake.environment("production", reviewers, prevent_self_review=self_review, branches="protected")
    assert environments("--environment", "production") == 1
    assert findings(capsys.readouterr().out) == [
        f"{PRODUCTION}:15:14-15 CH446 Environment `production`: GitHub environment `production` {message}"
    ]


@pytest.mark.parametrize(
    ("branches", "allowed"),
    [
        (None, "every branch"),
        (("main", "release/*"), "branch `main`, branch `release/*`"),
        (("tag:v*",), "tag `v*`"),
        ((), "nothing"),
    ],
)
def test_production_deploys_only_from_the_default_branch(
    project: Path,
    fake: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
    branches: tuple[str, ...] | None,
    allowed: str,
) -> None:
    fake.environment("production", ("acme/model-risk", "bob"), prevent_self_review=True, branches=branches)
    assert environments("--environment", "production") == 1
    assert findings(capsys.readouterr().out) == [
        f"{PRODUCTION}:10:9-19 CH447 Environment `production`: "
        f"GitHub environment `production` lets {allowed} deploy; a production Environment deploys only from "
        "the default branch `main`"
    ]


def test_protected_branches_only_and_another_default_branch(
    project: Path, fake: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.default_branch = "trunk"
    fake.environment("production", ("acme/model-risk", "bob"), prevent_self_review=True, branches="protected")
    assert environments("--environment", "production") == 0
    fake.environment("production", ("acme/model-risk", "bob"), prevent_self_review=True, branches=("main",))
    assert environments("--environment", "production") == 1
    assert "lets branch `main` deploy; a production Environment deploys only from the default branch `trunk`" in (
        capsys.readouterr().out
    )


def test_what_github_does_not_answer_is_not_an_approval(
    project: Path, fake: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    """A token without `actions: read`: GitHub's 403. Fail closed, and the token is never printed."""
    fake.faults.append(
        Fault(
            "GET", f"{REPO}/environments/staging", 403, {"message": f"Resource not accessible by integration {TOKEN}"}
        )
    )
    assert environments("--environment", "staging") == 1
    out = capsys.readouterr().out
    assert findings(out) == [
        f"{STAGING}:15:22-29 CH448 Environment `staging`: GitHub "
        "environment `staging` cannot be verified: GitHub answered HTTP 403: Resource not accessible by "
        "integration ***; the job needs `permissions: actions: read`"
    ]
    assert TOKEN not in out


def test_outside_github_actions_is_a_usage_error(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    assert environments() == 2
    assert "not running in GitHub Actions: GITHUB_TOKEN is not set" in capsys.readouterr().err


def test_the_pull_request_report_verifies_the_environments(
    project: Path, fake: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    """`charter github report --environments`: the mismatch is a finding of the check run, and fails it."""
    fake.environment("staging", ("alice",))
    fake.environment("production", ("bob",), prevent_self_review=True, branches=("main",))
    code = main(["github", "report", ".", "--environments", "--sha", "f" * 40, "--no-comment", "--retries", "0"])
    assert code == 1
    (run,) = fake.check_runs.values()
    (annotation,) = [a for a in run["annotations"] if a["title"].startswith("CH446")]
    assert annotation["path"] == PRODUCTION
    assert annotation["start_line"] == 15
    assert "lists 1 reviewer; the spec says `approvals: 2`" in annotation["message"]
    capsys.readouterr()
