"""Evidence origin: a record added in a pull request is evidence only when GitHub confirms the run that made it.

`charter evidence record --artifact NAME --artifact-digest DIGEST` writes where a record came from (the run, its
workflow file and ref, the report's artifact and digest); `charter github report` asks the GitHub API stand-in on
127.0.0.1 (tests/fake_github.py) about that run and its artifacts, through the real PyGithub client.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_github import OWNER_REPO, REPO, TOKEN, FakeGitHub, Fault, serving
from test_gates_support import CREDIT
from test_plan_fixtures import commit, git

from compiler.commands import github
from compiler.commands.cli import main
from compiler.gates.data import synthetic

RECORD = "evidence/credit-default/3.2.0/eval.json"
WORKFLOW = ".github/workflows/model-credit-default.yml"
RUN = 4242
FAST = ["--backoff", "0.01", "--write-interval", "0", "--timeout", "5", "--retries", "2", "--no-comment"]


@dataclass
class PullRequest:
    repo: Path
    record: dict[str, Any]  # the genuine record, as the workflow on the default branch wrote it
    measured_at: str  # the commit the run built


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with serving(FakeGitHub()) as server:
        yield server


@pytest.fixture(scope="module")
def predictions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("predictions")
    return synthetic.write(synthetic.predictions(20_000, seed=5, separation=1.8), folder / "predictions.parquet")


def zipped(name: str, data: bytes) -> bytes:
    """An artifact's archive as upload-artifact makes it: one file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def pull(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeGitHub, predictions: Path) -> PullRequest:
    """The credit example on `main`; its pipeline ran there, and the pull request proposes the eval record.

    The record is made as the generated workflow makes it: the eval gate's report, uploaded as the artifact
    `eval-gate` (its archive's digest is upload-artifact's `artifact-digest`), then `charter evidence record`.
    """
    repo = tmp_path / "repo"
    shutil.copytree(CREDIT, repo, ignore=shutil.ignore_patterns(".charter", "eval.json"))
    git(repo, "init", "--quiet", "--initial-branch=main")
    base = commit(repo, "the credit model, its data evidence")
    monkeypatch.setenv("CHARTER_TODAY", "2026-12-07")
    monkeypatch.setenv("GITHUB_SHA", base)
    report_file = tmp_path / "eval-gate.json"
    gate = ["gate", "eval", str(repo), "--model", "credit-default", "--predictions", str(predictions)]
    assert main([*gate, "--report", str(report_file), "--summary", str(tmp_path / "summary.md")]) == 0
    archive = zipped("eval-gate.json", report_file.read_bytes())
    digest = "sha256:" + hashlib.sha256(archive).hexdigest()
    monkeypatch.setenv("GITHUB_RUN_ID", str(RUN))
    monkeypatch.setenv("GITHUB_WORKFLOW_REF", f"{OWNER_REPO}/{WORKFLOW}@refs/heads/main")
    record = ["evidence", "record", "--project", str(repo), str(report_file), "--artifact", "eval-gate"]
    assert main([*record, "--artifact-digest", digest.removeprefix("sha256:")]) == 0
    genuine = json.loads((repo / RECORD).read_text("utf-8"))
    assert genuine["origin"]["artifactDigest"] == digest
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7, "head": {"sha": "e" * 40}, "base": {"sha": base}}}))
    monkeypatch.chdir(repo)
    for name, value in {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": OWNER_REPO,
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_API_URL": fake.api_url,
    }.items():
        monkeypatch.setenv(name, value)
    fake.workflow_run(RUN, WORKFLOW, head_sha=base)
    fake.artifact(RUN, "data-gate", "sha256:" + "da" * 32)
    fake.artifact(RUN, "eval-gate", digest, archive)
    return PullRequest(repo, genuine, base)


def propose(pull: PullRequest, record: dict[str, Any]) -> str:
    """The record as the pull request commits it; returns its text."""
    text = json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (pull.repo / RECORD).write_text(text, "utf-8")
    return text


def report() -> int:
    parser = argparse.ArgumentParser(prog="charter")
    github.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["github", "report", ".", *FAST])
    code: int = args.run(args)
    return code


def origin_findings(fake: FakeGitHub) -> list[tuple[str, int, int, str]]:
    (run,) = fake.check_runs.values()
    return [
        (a["title"].split()[0], a["start_line"], a["start_column"], a["message"])
        for a in run["annotations"]
        if a["title"].startswith("CH85")
    ]


def position(text: str, key: str, indent: int = 2) -> tuple[int, int]:
    """Where the value of a top-level key (indent 2) or of one of `origin`'s (indent 4) starts."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith(" " * indent + f'"{key}":'):
            return number, indent + len(key) + 5
    raise AssertionError(key)


def test_genuine_evidence_is_accepted(pull: PullRequest, fake: FakeGitHub) -> None:
    propose(pull, pull.record)
    assert report() == 0
    assert origin_findings(fake) == []
    asked = [path for method, path in fake.calls() if method == "GET"]
    assert f"{REPO}/actions/runs/{RUN}" in asked
    assert f"{REPO}/actions/runs/{RUN}/artifacts?per_page=100" in asked
    # A record the base already holds is not asked about again.
    git(pull.repo, "add", "--all")
    base = commit(pull.repo, "merged")
    event = json.loads(Path(pull.repo.parent / "event.json").read_text())
    event["pull_request"]["base"]["sha"] = base
    (pull.repo.parent / "event.json").write_text(json.dumps(event))
    fake.requests.clear()
    assert report() == 0
    assert not [path for _, path in fake.calls() if "/actions/" in path]


def test_a_record_made_by_hand_is_not_evidence(pull: PullRequest, fake: FakeGitHub) -> None:
    record = {key: value for key, value in pull.record.items() if key != "origin"}
    propose(pull, record)
    assert report() == 1
    assert origin_findings(fake) == [
        ("CH850", 1, 1, "the evidence record names no workflow run it came from: it is not evidence")
    ]


@pytest.mark.parametrize(
    ("forge", "expected"),
    [
        (  # a run of another workflow: the pull-request workflow runs the author's code
            {"workflow": ".github/workflows/charter-pull-request.yml"},
            (
                "CH851",
                "workflow",
                "made by `.github/workflows/charter-pull-request.yml`, "
                "not by the model's generated workflow `.github/workflows/model-credit-default.yml`",
            ),
        ),
        (
            {"ref": "refs/heads/feature"},
            ("CH851", "ref", "made at `refs/heads/feature`, not on the default branch `main`"),
        ),
        ({"runId": 99}, ("CH851", "runId", "GitHub knows no workflow run 99 in this repository")),
        (  # a real run, of another record's artifact: the values were made up
            {"artifactDigest": "sha256:" + "0f" * 32},
            (
                "CH852",
                "artifactDigest",
                f"run {RUN} uploaded no artifact `eval-gate` with this digest: the record is not from its report",
            ),
        ),
    ],
)
def test_forged_evidence_is_rejected(
    pull: PullRequest, fake: FakeGitHub, forge: dict[str, Any], expected: tuple[str, str, str]
) -> None:
    record = {**pull.record, "origin": {**pull.record["origin"], **forge}}
    text = propose(pull, record)
    assert report() == 1
    code, key, message = expected
    assert origin_findings(fake) == [(code, *position(text, key, indent=4), message)]


def test_the_run_must_be_the_default_branch_push_at_the_recorded_commit(pull: PullRequest, fake: FakeGitHub) -> None:
    text = propose(pull, pull.record)
    fake.runs[RUN]["event"] = "pull_request"  # a pull request's run: its author's code
    assert report() == 1
    line, column = position(text, "runId", indent=4)
    message = f"run {RUN} was triggered by `pull_request`, not push or a schedule"
    assert origin_findings(fake) == [("CH851", line, column, message)]
    fake.runs[RUN].update(event="push", head_branch="feature")
    fake.check_runs.clear()
    assert report() == 1
    assert origin_findings(fake)[0][3] == f"run {RUN} ran on `feature`, not the default branch"
    fake.runs[RUN].update(head_branch="main", head_sha="c" * 40)  # the run measured another commit
    fake.check_runs.clear()
    assert report() == 1
    line, column = position(text, "commit")
    message = f"run {RUN} judged commit cccccccccccc, the record says {pull.measured_at}"
    assert origin_findings(fake) == [("CH851", line, column, message)]


def test_an_edited_value_is_caught_in_the_run_s_own_report(pull: PullRequest, fake: FakeGitHub) -> None:
    """A genuine run cited for a value it did not measure: the record is rebuilt from the artifact's report."""
    record = json.loads(json.dumps(pull.record))
    # Edited consistently (the measurement and the check that repeats it, both passing): the record agrees with
    # itself and with today's bounds, so only the run's own report can tell.
    record["metrics"][0]["value"] = 0.99
    for check in record["checks"]:
        if check["id"] == f"metrics[0].{record['metrics'][0]['metric']}":
            check["value"] = 0.99
    text = propose(pull, record)
    assert report() == 1
    line, column = position(text, "checks")  # the first field that differs from the report
    message = f"`checks` is not what the report in artifact `eval-gate` of run {RUN} says: the record was edited"
    assert origin_findings(fake) == [("CH854", line, column, message)]
    # The archive came from the storage GitHub redirected to, without the token.
    storage = [r for r in fake.requests if r.path.startswith("/storage/")]
    assert [(r.method, r.authorization) for r in storage] == [("GET", "")]


def test_an_edited_verdict_is_caught(pull: PullRequest, fake: FakeGitHub) -> None:
    """A verdict that does not follow from the record's own values is not evidence before GitHub is asked."""
    record = {**pull.record, "verdict": "fail" if pull.record["verdict"] == "pass" else "pass"}
    text = propose(pull, record)
    assert report() == 1
    # A verdict that does not follow from the measurements is caught by the check itself (CH820, at the
    # verdict): the record is not evidence, and there is nothing left for GitHub to confirm.
    (run,) = fake.check_runs.values()
    found = [(a["title"].split()[0], a["start_line"]) for a in run["annotations"] if a["path"] == RECORD]
    assert found == [("CH820", position(text, "verdict")[0])]


def test_an_expired_artifact_cannot_vouch(pull: PullRequest, fake: FakeGitHub) -> None:
    text = propose(pull, pull.record)
    fake.archives.clear()
    assert report() == 1
    message = f"the report in artifact `eval-gate` of run {RUN}: the artifact has expired"
    assert origin_findings(fake) == [("CH853", *position(text, "origin"), message)]


def test_github_unreachable_fails_closed(pull: PullRequest, fake: FakeGitHub) -> None:
    text = propose(pull, pull.record)
    fake.faults = [Fault("GET", rf"{REPO}/actions/runs/\d+", 503, {"message": "Service Unavailable"}, times=10)]
    assert report() == 1
    line, column = position(text, "origin")
    message = "GitHub could not confirm where the record came from (HTTP 503): it is not evidence"
    assert origin_findings(fake) == [("CH853", line, column, message)]


def test_record_writes_the_origin_inside_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "credit"
    shutil.copytree(CREDIT, project, ignore=shutil.ignore_patterns("evidence", ".charter"))
    predictions = synthetic.write(synthetic.predictions(5_000, seed=5, separation=1.8), tmp_path / "p.parquet")
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
    argv = ["gate", "eval", str(project), "--model", "credit-default", "--predictions", str(predictions)]
    assert main([*argv, "--report", str(tmp_path / "eval.json"), "--summary", str(tmp_path / "s.md")]) in (0, 1)
    record = ["evidence", "record", "--project", str(project), str(tmp_path / "eval.json")]
    # Outside GitHub Actions there is no run to name.
    assert main([*record, "--artifact", "eval-gate", "--artifact-digest", "d1" * 32]) == 2
    assert "GITHUB_RUN_ID and GITHUB_WORKFLOW_REF are not set" in capsys.readouterr().err
    monkeypatch.setenv("GITHUB_RUN_ID", str(RUN))
    monkeypatch.setenv("GITHUB_WORKFLOW_REF", f"{OWNER_REPO}/{WORKFLOW}@refs/heads/main")
    assert main([*record, "--artifact", "eval-gate", "--artifact-digest", "d1" * 32]) == 0
    written = json.loads((project / RECORD).read_text("utf-8"))
    assert written["origin"] == {
        "runId": RUN,
        "workflow": WORKFLOW,
        "ref": "refs/heads/main",
        "artifact": "eval-gate",
        "artifactDigest": "sha256:" + "d1" * 32,
    }
    assert main([*record, "--artifact", "eval-gate"]) == 2
    assert "--artifact and --artifact-digest go together" in capsys.readouterr().err
    # An upload step that gave no digest: refused here rather than committed and refused in the pull request.
    assert main([*record, "--artifact", "eval-gate", "--artifact-digest", ""]) == 2
    assert "--artifact-digest is empty: the upload step gave no `artifact-digest` output" in capsys.readouterr().err
