"""`charter github report` against a GitHub API served on 127.0.0.1 by the test.

The real PyGithub client talks real HTTP to `FakeGitHub` (tests/fake_github.py), which implements the endpoints
the report uses under an Enterprise-style `/api/v3` prefix, and answers with rate limits and 5xx when told to.
Every request is recorded, so the tests assert exactly what was sent.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_github import ACTIONS_BOT, OWNER_REPO, PREFIX, REPO, TOKEN, FakeGitHub, Fault, serving
from live_servers import free_port
from test_plan_fixtures import TODAY, commit, edit, git, make_repo, write

from compiler.commands import github
from compiler.integrations.github.client import Environment, NotInActions

FAST = ["--backoff", "0.01", "--write-interval", "0", "--timeout", "5", "--retries", "4"]


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with serving(FakeGitHub()) as server:
        yield server


@dataclass
class Job:
    repo: Path
    head: str
    base: str
    event: Path


@pytest.fixture
def job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeGitHub) -> Job:
    """A pull request that raises the canary (an error finding) and adds 60 files with a warning each."""
    repo = make_repo(tmp_path / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    edit(repo, "ml/models/scorer.yaml", "trafficPercent: 10", "trafficPercent: 30")
    write(repo, {f"ml/notes/note-{i:02}.yaml": f"# note {i}: nothing but a comment\n" for i in range(60)})
    head = commit(repo, "raise the canary")
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps({"number": 7, "pull_request": {"number": 7, "head": {"sha": head}, "base": {"sha": base}}}),
        "utf-8",
    )
    monkeypatch.chdir(repo)
    monkeypatch.setenv("CHARTER_TODAY", TODAY.isoformat())
    for name, value in {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": OWNER_REPO,
        "GITHUB_SHA": "f" * 40,  # the merge commit; the check run goes on the pull request's head
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_API_URL": fake.api_url,
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_RUN_ID": "42",
    }.items():
        monkeypatch.setenv(name, value)
    return Job(repo, head, base, event)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every wait the client asks for (urllib3's and PyGithub's retries sleep through time.sleep): what a test
    bounds instead of the wall clock, which a loaded machine stretches."""
    asked: list[float] = []
    real_sleep = time.sleep
    client = threading.get_ident()

    def record(seconds: float) -> None:
        if threading.get_ident() != client:  # a server thread of another fixture (the patch is process-wide)
            real_sleep(seconds)
            return
        asked.append(seconds)
        real_sleep(min(seconds, 0.05))

    monkeypatch.setattr(time, "sleep", record)
    return asked


def report(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="charter")
    github.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["github", "report", *argv])
    code: int = args.run(args)
    return code


def test_a_pull_request_report(job: Job, fake: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    fake.comment("someone", "LGTM")
    fake.comment("someone-else", "what about the canary?")
    fake.comment("reviewer", "<!-- not ours --> a quoted review")
    assert report("ml", *FAST) == 1  # the canary error fails the check
    out = capsys.readouterr()
    assert fake.calls() == [
        ("POST", f"{REPO}/check-runs"),
        ("PATCH", f"{REPO}/check-runs/1004"),
        ("GET", f"{PREFIX}/user"),  # who the token writes as: 403 for GITHUB_TOKEN, so github-actions[bot]
        ("GET", f"{REPO}/issues/7/comments?per_page=100"),
        ("GET", f"{REPO}/issues/7/comments?page=2&per_page=2"),
        ("POST", f"{REPO}/issues/7/comments"),
    ]
    assert all(r.authorization == f"token {TOKEN}" for r in fake.requests)
    # The check run: on the pull request's head, 64 annotations in 2 requests of at most 50.
    (run,) = fake.check_runs.values()
    create, update = fake.requests[0].body, fake.requests[1].body
    assert create["name"] == "charter"
    assert create["head_sha"] == job.head
    assert create["status"] == "in_progress"
    assert create["details_url"] == "https://github.example/acme/lending/actions/runs/42"
    assert len(create["output"]["annotations"]) == 50
    assert len(update["output"]["annotations"]) == 14
    assert update["status"] == "completed"
    assert update["conclusion"] == "failure"
    assert len(run["annotations"]) == 64
    first = run["annotations"][0]
    assert first == {
        "path": "ml/models/scorer.yaml",
        "start_line": 32,
        "end_line": 32,
        "annotation_level": "failure",
        "message": "Canaries of lending models take at most 20% of traffic.",
        "title": first["title"],
        "start_column": 5,
        "end_column": 5,
        "raw_details": "policy: lending-rules / small-canary",
    }
    assert first["title"].startswith("CH500 ")
    levels = [a["annotation_level"] for a in run["annotations"]]
    assert levels.count("failure") == 1
    # 60 comment-only files, the monitoring recommendation, and the plan's breaking change at its line
    assert levels.count("warning") == 62
    assert levels.count("notice") == 1  # the waived finding
    assert {a["path"] for a in run["annotations"] if a["start_line"] == 1} >= {"ml/notes/note-00.yaml"}
    assert {
        "path": "ml/models/scorer.yaml",
        "start_line": 37,
        "end_line": 37,
        "annotation_level": "warning",
        "message": "canary traffic raised in `production`: 10% -> 30%",
        "title": "CH626 Canary traffic was raised or the canary removed",
        "start_column": 25,
        "end_column": 26,
    } in run["annotations"]
    assert create["output"]["title"] == update["output"]["title"]
    assert "1 error, 61 warnings, 0 infos" in update["output"]["summary"]
    # The comment: the marker, the check's tally and the plan, with the breaking change and the diff.
    body = fake.comments[7][-1]["body"]
    assert body.startswith("<!-- charter-report -->\n## ❌ Charter\n")
    assert "model-canary-raised" not in body or "canary traffic raised in `production`: 10% -&gt; 30%" in body
    assert "canary traffic raised in `production`" in body
    assert "+    canaryTrafficPercent: 30" in body
    assert len(fake.comments[7]) == 4
    assert "check run `charter` on" in out.out
    assert f"summary comment created on #7 as {ACTIONS_BOT}" in out.out
    assert TOKEN not in out.out + out.err


def test_a_second_run_updates_the_comment(job: Job, fake: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    fake.comment("someone", "LGTM")
    fake.comment("someone-else", "ok")
    fake.comment("reviewer", "nit")
    assert report("ml", *FAST) == 1
    ours = fake.comments[7][-1]
    fake.comment("someone", "a later remark")  # ours is now on page 2 of 3
    # The author fixes the canary: the comment is edited in place.
    edit(job.repo, "ml/models/scorer.yaml", "trafficPercent: 30", "trafficPercent: 15")
    head = commit(job.repo, "a smaller canary")
    job.event.write_text(
        json.dumps({"pull_request": {"number": 7, "head": {"sha": head}, "base": {"sha": job.base}}}), "utf-8"
    )
    fake.requests.clear()
    assert report("ml", *FAST) == 0
    assert fake.calls() == [
        ("POST", f"{REPO}/check-runs"),
        ("PATCH", f"{REPO}/check-runs/1007"),
        ("GET", f"{PREFIX}/user"),
        ("GET", f"{REPO}/issues/7/comments?per_page=100"),
        ("GET", f"{REPO}/issues/7/comments?page=2&per_page=2"),
        ("PATCH", f"{REPO}/issues/comments/{ours['id']}"),
        ("GET", f"{REPO}/issues/7/comments?page=3&per_page=2"),  # every comment is read: see the next test
    ]
    assert len(fake.comments[7]) == 5
    assert [c["body"].count("<!-- charter-report -->") for c in fake.comments[7]] == [0, 0, 0, 1, 0]
    assert ours["body"].startswith("<!-- charter-report -->\n## ✅ Charter\n")
    assert "10% -&gt; 15%" in ours["body"]
    assert fake.requests[1].body["conclusion"] == "success"
    # A third run with nothing new sends no comment write at all.
    fake.requests.clear()
    assert report("ml", *FAST) == 0
    assert [c for c in fake.calls() if "comments" in c[1]] == [
        ("GET", f"{REPO}/issues/7/comments?per_page=100"),
        ("GET", f"{REPO}/issues/7/comments?page=2&per_page=2"),
        ("GET", f"{REPO}/issues/7/comments?page=3&per_page=2"),
    ]
    assert f"summary comment unchanged on #7 as {ACTIONS_BOT}" in capsys.readouterr().out


def test_rate_limits_and_server_errors_are_retried(job: Job, fake: FakeGitHub) -> None:
    reset = str(int(time.time()))
    fake.faults = [
        Fault(
            "POST",
            f"{REPO}/check-runs",
            403,
            {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."},
            {"Retry-After": "0"},
        ),
        Fault("PATCH", rf"{REPO}/check-runs/\d+", 502, {"message": "Bad Gateway"}),
        Fault("GET", f"{REPO}/issues/7/comments", 429, {"message": "Too Many Requests"}, {"Retry-After": "0"}),
        Fault(
            "POST",
            f"{REPO}/issues/7/comments",
            403,
            {"message": "API rate limit exceeded for installation ID 1."},
            {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
        ),
        Fault("POST", f"{REPO}/issues/7/comments", 503, {"message": "Service Unavailable"}),
    ]
    assert report("ml", *FAST) == 1
    assert fake.calls() == [
        ("POST", f"{REPO}/check-runs"),  # 403 secondary rate limit
        ("POST", f"{REPO}/check-runs"),
        ("PATCH", f"{REPO}/check-runs/1001"),  # 502
        ("PATCH", f"{REPO}/check-runs/1001"),
        ("GET", f"{PREFIX}/user"),
        ("GET", f"{REPO}/issues/7/comments?per_page=100"),  # 429
        ("GET", f"{REPO}/issues/7/comments?per_page=100"),
        ("POST", f"{REPO}/issues/7/comments"),  # 403 primary rate limit, until the reset
        ("POST", f"{REPO}/issues/7/comments"),  # 503
        ("POST", f"{REPO}/issues/7/comments"),
    ]
    assert len(fake.check_runs[1001]["annotations"]) == 64
    assert len(fake.comments[7]) == 1


def test_github_down_leaves_the_exit_code_to_the_findings(
    job: Job, fake: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.faults = [Fault(m, ".*", 503, {"message": "Service Unavailable"}, times=100) for m in ("GET", "POST", "PATCH")]
    assert report("ml", *FAST) == 1
    err = capsys.readouterr().err
    assert "no check run: GitHub is unavailable at" in err
    assert "(HTTP 503: Service Unavailable), after retries; the exit code is the findings'" in err
    assert "no summary comment: GitHub is unavailable" in err
    assert fake.calls().count(("POST", f"{REPO}/check-runs")) == 5  # the first try and 4 retries
    # Fixed findings: the exit code follows them, GitHub still down.
    edit(job.repo, "ml/models/scorer.yaml", "trafficPercent: 30", "trafficPercent: 15")
    assert report("ml", *FAST) == 0


def test_github_unreachable(
    job: Job, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], sleeps: list[float]
) -> None:
    port = free_port()
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{port}/api/v3")
    assert report("ml", *FAST) == 1
    assert sum(sleeps) < 5  # the retries' backoff only: nothing waits on a closed port
    err = capsys.readouterr().err
    assert f"no check run: GitHub is unreachable at http://127.0.0.1:{port}/api/v3 (Connection refused)" in err
    assert "no summary comment: GitHub is unreachable" in err


def test_a_long_rate_limit_is_not_waited_for(
    job: Job, fake: FakeGitHub, capsys: pytest.CaptureFixture[str], sleeps: list[float]
) -> None:
    later = str(int(time.time()) + 3600)
    fake.faults = [
        Fault(
            "POST",
            f"{REPO}/check-runs",
            403,
            {"message": "API rate limit exceeded for installation ID 1."},
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": later},
        )
    ]
    assert report("ml", *FAST) == 1
    assert sum(sleeps) < 5  # the hour until the reset is never slept
    assert "no check run: GitHub's rate limit is exhausted (HTTP 403)" in capsys.readouterr().err
    assert len(fake.comments[7]) == 1  # the comment went through


def test_the_token_is_never_printed(
    job: Job, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.faults = [Fault("POST", f"{REPO}/check-runs", 422, {"message": f"Validation failed for token {TOKEN}"})]
    assert report("ml", *FAST) == 1
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN + "x")  # a wrong token: the server echoes it back
    assert report("ml", *FAST) == 1
    out = capsys.readouterr()
    assert "GitHub answered HTTP 422: Validation failed for token ***" in out.err
    assert "GitHub refused the token (HTTP 401: Bad credentials: token ***)" in out.err
    assert TOKEN not in out.out + out.err


def test_pull_request_from_the_api(job: Job, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """No pull request in the event (a workflow_dispatch, say): --pr reads it from the API."""
    job.event.write_text("{}", "utf-8")
    fake.pulls[7] = {"head": job.head, "base": job.base}
    assert report("ml", "--pr", "7", *FAST) == 1
    assert fake.calls()[0] == ("GET", f"{REPO}/pulls/7")
    assert fake.requests[1].body["head_sha"] == job.head
    assert "canary traffic raised" in fake.comments[7][0]["body"]


def test_a_push_gets_a_check_run_only(job: Job, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    job.event.write_text(json.dumps({"ref": "refs/heads/main"}), "utf-8")
    monkeypatch.setenv("GITHUB_SHA", job.head)
    assert report("ml", *FAST) == 1
    assert [c[0] for c in fake.calls()] == ["POST", "PATCH"]
    assert fake.requests[0].body["head_sha"] == job.head


def test_a_clean_check_run_is_one_request(job: Job, fake: FakeGitHub) -> None:
    git(job.repo, "rm", "--quiet", "-r", "ml/notes")
    edit(job.repo, "ml/models/scorer.yaml", "trafficPercent: 30", "trafficPercent: 10")
    assert report("ml", "--no-comment", *FAST) == 0
    assert fake.calls() == [("POST", f"{REPO}/check-runs")]
    body = fake.requests[0].body
    assert (body["status"], body["conclusion"]) == ("completed", "success")
    assert len(body["output"]["annotations"]) == 2


def test_dry_run_sends_nothing(job: Job, fake: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    assert report("ml", "--dry-run") == 1
    assert fake.requests == []
    out = capsys.readouterr().out
    assert out.startswith("# check run `charter`: failure, 64 annotations")
    assert "<!-- charter-report -->" in out


def test_not_in_github_actions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    assert report(str(tmp_path)) == 2
    assert "not running in GitHub Actions: GITHUB_TOKEN and GITHUB_REPOSITORY are not set" in capsys.readouterr().err
    with pytest.raises(NotInActions, match="not owner/name"):
        Environment.from_environ({"GITHUB_TOKEN": "x", "GITHUB_REPOSITORY": "nope"})
    assert report(str(tmp_path / "missing")) == 2


def test_enterprise_and_defaults() -> None:
    env = Environment.from_environ(
        {"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "o/r", "GITHUB_API_URL": "https://ghe.example/api/v3/"}
    )
    assert env.api_url == "https://ghe.example/api/v3"
    assert Environment.from_environ({"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "o/r"}).api_url == (
        "https://api.github.com"
    )


def needing_approval(monkeypatch: pytest.MonkeyPatch, *owners: str) -> None:
    """The plan asks the canary's error to be approved by `owners` (what the base's governance owners ask)."""
    from compiler.core.diagnostics import Severity
    from compiler.plan import make
    from compiler.plan.approvals import ApprovalNeeded

    real = make.make_plan

    def plan_with_need(*args: Any, **kwargs: Any) -> Any:
        plan = real(*args, **kwargs)
        finding = next(d for d in plan.head.result.diagnostics if d.severity is Severity.ERROR and not d.suppressed)
        plan.approvals_needed.append(ApprovalNeeded((finding,), owners, "canary raised in production"))
        return plan

    monkeypatch.setattr(make, "make_plan", plan_with_need)


def test_the_report_says_who_approved_and_what_is_missing(
    job: Job, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    needing_approval(monkeypatch, "alice", "acme/model-risk")
    fake.pulls[7] = {"head": job.head, "base": job.base, "author": "mallory"}
    fake.review("mallory", "APPROVED", job.head)
    fake.review("alice", "APPROVED", "9" * 40)  # stale: an older commit
    assert report("ml", *FAST) == 1
    body = fake.comments[7][-1]["body"]
    need = "CH500 `ml/models/scorer.yaml:32`: canary raised in production | `alice` or `acme/model-risk`"
    row = f"| ❌ | {need} | **missing** |"
    assert "**Approvals:** 0 of 1 given; 1 missing." in body
    assert row in body
    (run,) = fake.check_runs.values()
    assert row in run["output"]["summary"]
    # Approved on the head by an owner: named in both.
    fake.review("alice", "APPROVED", job.head)
    assert report("ml", *FAST) == 1  # the plan settles the finding; until then it stays an error (closed)
    body = fake.comments[7][-1]["body"]
    assert "**Approvals:** 1 of 1 given." in body
    assert f"| ✅ | {need} | `alice` |" in body
    assert f"| ✅ | {need} | `alice` |" in fake.check_runs[max(fake.check_runs)]["output"]["summary"]


def test_approvals_unverifiable_fail_closed(
    job: Job, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    needing_approval(monkeypatch, "alice")
    fake.pulls[7] = {"head": job.head, "base": job.base, "author": "mallory"}
    fake.review("alice", "APPROVED", job.head)
    fake.faults = [Fault("GET", rf"{REPO}/pulls/7/reviews", 502, {"message": "Bad Gateway"}, times=100)]
    assert report("ml", *FAST) == 1
    err = capsys.readouterr().err
    assert "cannot read the reviews of #7: GitHub is unavailable at" in err
    assert "no approval is counted" in err
    body = fake.comments[7][-1]["body"]
    assert "_Approvals could not be verified: cannot read the reviews of #7: GitHub is unavailable" in body
    assert "| ❌ | CH500 `ml/models/scorer.yaml:32`: canary raised in production | `alice` | **missing** |" in body


def test_a_forged_charter_comment_is_left_alone(job: Job, fake: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    forged = "<!-- charter-report -->\n## ✅ Charter\n\nAll governance approvals given."
    fake.comment("mallory", forged)
    assert report("ml", *FAST) == 1
    assert [c["body"] == forged for c in fake.comments[7]] == [True, False]
    assert fake.comments[7][1]["user"]["login"] == ACTIONS_BOT
    assert fake.comments[7][1]["body"].startswith("<!-- charter-report -->\n## ❌ Charter\n")
    out = capsys.readouterr().out
    assert "summary comment created on #7 as github-actions[bot]" in out
    assert "left alone 1 comment(s) carrying Charter's marker not written by github-actions[bot]" in out


def test_a_plan_that_cannot_be_made_fails_the_check_run(
    job: Job, fake: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    """A clean head whose base is not in the checkout: a plain check would pass it, the report must not."""
    git(job.repo, "rm", "--quiet", "-r", "ml/notes")
    edit(job.repo, "ml/models/scorer.yaml", "trafficPercent: 30", "trafficPercent: 10")
    missing = "1" * 40
    job.event.write_text(
        json.dumps({"number": 7, "pull_request": {"number": 7, "head": {"sha": job.head}, "base": {"sha": missing}}}),
        "utf-8",
    )
    assert report("ml", *FAST) == 2
    reason = (
        f"cannot plan against `{missing}`: unknown revision `{missing}` (fetch it first: `git fetch origin {missing}`)"
    )
    assert f"charter github report: {reason}" in capsys.readouterr().err
    body = fake.requests[0].body
    assert (body["status"], body["conclusion"]) == ("completed", "failure")
    assert body["output"]["title"] == f"No plan: {reason}"
    assert body["output"]["summary"].startswith("**Charter could not plan this pull request:** cannot plan against")
    comment = fake.comments[7][0]["body"]
    assert "## ❌ Charter" in comment
    assert "_No plan: cannot plan against" in comment


def test_a_pull_request_that_cannot_be_read_fails_the_check_run(
    job: Job, fake: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    """No base in the event and GitHub does not give it: no plan, so no passing check either."""
    git(job.repo, "rm", "--quiet", "-r", "ml/notes")
    edit(job.repo, "ml/models/scorer.yaml", "trafficPercent: 30", "trafficPercent: 10")
    job.event.write_text("{}", "utf-8")
    fake.faults = [Fault("GET", f"{REPO}/pulls/7", 503, {"message": "Service Unavailable"}, times=100)]
    assert report("ml", "--pr", "7", "--no-comment", *FAST) == 2
    unavailable = f"GitHub is unavailable at {fake.api_url} (HTTP 503: Service Unavailable), after retries"
    reason = f"cannot read pull request #7: {unavailable}"
    assert f"charter github report: {reason}" in capsys.readouterr().err
    created = next(request.body for request in fake.requests if request.method == "POST")
    assert (created["status"], created["conclusion"]) == ("completed", "failure")
    assert created["output"]["title"] == f"No plan: {reason}"
