"""`charter github report` against a GitHub API served on 127.0.0.1 by the test.

The real PyGithub client talks real HTTP to `FakeGitHub`, which implements
the endpoints the report uses (check runs create/update, issue comments
list with Link pagination/create/update, pull request get) under an
Enterprise-style `/api/v3` prefix, and answers with rate limits and 5xx
when told to. Every request is recorded, so the tests assert exactly what
was sent.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from test_plan_fixtures import TODAY, commit, edit, git, make_repo, write

from compiler.commands.github import add_github_parser
from compiler.integrations.github.client import Environment, NotInActions

TOKEN = "ghs_t0pS3cretT0kenThatMustNeverBePrinted"
OWNER_REPO = "acme/lending"
PREFIX = "/api/v3"
REPO = f"{PREFIX}/repos/{OWNER_REPO}"
FAST = ["--backoff", "0.01", "--write-interval", "0", "--timeout", "5", "--retries", "4"]


@dataclass
class Fault:
    method: str
    path: str  # a regular expression, matched against the path without the query
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1


@dataclass
class Recorded:
    method: str
    path: str  # with the query
    body: Any
    authorization: str


class FakeGitHub:
    """The REST endpoints the report uses, in memory, with scripted failures."""

    def __init__(self, page_size: int = 2) -> None:
        self.page_size = page_size
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.check_runs: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {7: []}
        self.pulls = {7: {"head": "0" * 40, "base": "1" * 40}}
        self.lock = threading.Lock()
        self.next_id = 1000
        server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        server.daemon_threads = True
        server.block_on_close = False  # keep-alive connections of the client must not hold up teardown
        self.server = server
        self.port = server.server_address[1]
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PREFIX}"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests]

    def comment(self, user: str, body: str, issue: int = 7) -> None:
        self.next_id += 1
        self.comments[issue].append(self._comment_json(self.next_id, issue, user, body))

    def _comment_json(self, comment_id: int, issue: int, user: str, body: str) -> dict[str, Any]:
        return {
            "id": comment_id,
            "url": self.url(f"{REPO}/issues/comments/{comment_id}"),
            "html_url": f"https://github.example/{OWNER_REPO}/pull/{issue}#issuecomment-{comment_id}",
            "issue_url": self.url(f"{REPO}/issues/{issue}"),
            "body": body,
            "user": {"login": user, "id": 1, "type": "Bot" if user.endswith("[bot]") else "User"},
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PATCH(self) -> None:
                self._serve("PATCH")

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                auth = self.headers.get("Authorization", "")
                with fake.lock:
                    fake.requests.append(Recorded(method, self.path, copy.deepcopy(body), auth))
                    status, headers, payload = fake._answer(method, self.path, body, auth)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _answer(self, method: str, target: str, body: Any, auth: str) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and re.fullmatch(fault.path, path):
                fault.times -= 1
                return fault.status, fault.headers, fault.body
        if auth not in (f"token {TOKEN}", f"Bearer {TOKEN}"):
            # A careless server that echoes credentials: the client must not print them.
            return 401, {}, {"message": f"Bad credentials: {auth}"}
        if method == "POST" and path == f"{REPO}/check-runs":
            self.next_id += 1
            run = {**body, "id": self.next_id, "url": self.url(f"{REPO}/check-runs/{self.next_id}")}
            run["output"] = dict(body.get("output", {}))
            run["annotations"] = list(run["output"].pop("annotations", []))
            self.check_runs[self.next_id] = run
            return 201, {}, self._run_json(run)
        if match := re.fullmatch(rf"{REPO}/check-runs/(\d+)", path):
            run = self.check_runs[int(match.group(1))]
            if method == "PATCH":
                output = dict(body.pop("output", {}))
                run["annotations"] += output.pop("annotations", [])  # GitHub appends them
                run["output"] = output
                run.update(body)
            return 200, {}, self._run_json(run)
        if method == "GET" and (match := re.fullmatch(rf"{REPO}/pulls/(\d+)", path)):
            number = int(match.group(1))
            shas = self.pulls[number]
            return (
                200,
                {},
                {
                    "number": number,
                    "state": "open",
                    "url": self.url(f"{REPO}/pulls/{number}"),
                    "issue_url": self.url(f"{REPO}/issues/{number}"),
                    "head": {"sha": shas["head"], "ref": "feature"},
                    "base": {"sha": shas["base"], "ref": "main"},
                },
            )
        if match := re.fullmatch(rf"{REPO}/issues/(\d+)/comments", path):
            number = int(match.group(1))
            if method == "POST":
                self.next_id += 1
                created = self._comment_json(self.next_id, number, "github-actions[bot]", body["body"])
                self.comments[number].append(created)
                return 201, {}, created
            size = min(int(query.get("per_page", ["30"])[0]), self.page_size)
            page = int(query.get("page", ["1"])[0])
            items = self.comments[number]
            pages = max(1, -(-len(items) // size))
            headers = {}
            links = []
            if page < pages:
                links.append(f'<{self.url(path)}?per_page={size}&page={page + 1}>; rel="next"')
                links.append(f'<{self.url(path)}?per_page={size}&page={pages}>; rel="last"')
            if links:
                headers["Link"] = ", ".join(links)
            return 200, headers, items[(page - 1) * size : page * size]
        if method == "PATCH" and (match := re.fullmatch(rf"{REPO}/issues/comments/(\d+)", path)):
            for items in self.comments.values():
                for item in items:
                    if item["id"] == int(match.group(1)):
                        item["body"] = body["body"]
                        return 200, {}, item
        return 404, {}, {"message": "Not Found"}

    def _run_json(self, run: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": run["id"],
            "url": run["url"],
            "name": run.get("name"),
            "head_sha": run.get("head_sha"),
            "status": run.get("status"),
            "conclusion": run.get("conclusion"),
            "output": {**run.get("output", {}), "annotations_count": len(run["annotations"])},
        }


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    server = FakeGitHub()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
    server.thread.join(timeout=5)


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


def report(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="charter")
    add_github_parser(parser.add_subparsers(dest="command"))
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
        ("GET", f"{REPO}/issues/7/comments?per_page=100"),
        ("GET", f"{REPO}/issues/7/comments?page=2&per_page=2"),
        ("POST", f"{REPO}/issues/7/comments"),
    ]
    assert all(r.authorization == f"token {TOKEN}" for r in fake.requests)
    # The check run: on the pull request's head, 63 annotations in 2 requests of at most 50.
    (run,) = fake.check_runs.values()
    create, update = fake.requests[0].body, fake.requests[1].body
    assert create["name"] == "charter"
    assert create["head_sha"] == job.head
    assert create["status"] == "in_progress"
    assert create["details_url"] == "https://github.example/acme/lending/actions/runs/42"
    assert len(create["output"]["annotations"]) == 50
    assert len(update["output"]["annotations"]) == 13
    assert update["status"] == "completed"
    assert update["conclusion"] == "failure"
    assert len(run["annotations"]) == 63
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
    assert levels.count("warning") == 61  # 60 comment-only files and the monitoring recommendation
    assert levels.count("notice") == 1  # the waived finding
    assert {a["path"] for a in run["annotations"] if a["start_line"] == 1} >= {"ml/notes/note-00.yaml"}
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
    assert "summary comment created on #7" in out.out
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
        ("GET", f"{REPO}/issues/7/comments?per_page=100"),
        ("GET", f"{REPO}/issues/7/comments?page=2&per_page=2"),
        ("PATCH", f"{REPO}/issues/comments/{ours['id']}"),
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
    ]
    assert "summary comment unchanged on #7" in capsys.readouterr().out


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
        ("GET", f"{REPO}/issues/7/comments?per_page=100"),  # 429
        ("GET", f"{REPO}/issues/7/comments?per_page=100"),
        ("POST", f"{REPO}/issues/7/comments"),  # 403 primary rate limit, until the reset
        ("POST", f"{REPO}/issues/7/comments"),  # 503
        ("POST", f"{REPO}/issues/7/comments"),
    ]
    assert len(fake.check_runs[1001]["annotations"]) == 63
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


def test_github_unreachable(job: Job, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{port}/api/v3")
    started = time.monotonic()
    assert report("ml", *FAST) == 1
    assert time.monotonic() - started < 30
    err = capsys.readouterr().err
    assert f"no check run: GitHub is unreachable at http://127.0.0.1:{port}/api/v3 (Connection refused)" in err
    assert "no summary comment: GitHub is unreachable" in err


def test_a_long_rate_limit_is_not_waited_for(job: Job, fake: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
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
    started = time.monotonic()
    assert report("ml", *FAST) == 1
    assert time.monotonic() - started < 30
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
    assert out.startswith("# check run `charter`: failure, 63 annotations")
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
        f"cannot plan against `{missing}`: unknown revision `{missing}` "
        f"(fetch it first, for example `git fetch origin {missing}`)"
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
