"""A GitHub REST API stand-in on 127.0.0.1, for the real PyGithub client to talk real HTTP to.

It serves, under an Enterprise-style `/api/v3` prefix, with the request paths and JSON shapes of GitHub's REST
documentation: check runs (create, update), issue comments (list with Link pagination, create, update), a pull
request and its reviews, `GET /user` (403 "Resource not accessible by integration" for an installation token, as
GitHub answers GITHUB_TOKEN), team memberships (`/orgs/{org}/teams/{team_slug}/memberships/{username}`), a
collaborator's permission (`/repos/{owner}/{repo}/collaborators/{username}/permission`), the repository,
workflow runs (`/actions/runs/{run_id}`) and their artifacts (`/actions/runs/{run_id}/artifacts`, with the
`digest` upload-artifact v4 records), deployment environments (`/environments/{name}` with their protection
rules and branch policy, `/environments/{name}/deployment-branch-policies`), and an artifact's archive
(`/actions/artifacts/{artifact_id}/zip`: a 302 to a storage address outside the API, which refuses a request
carrying the token, as a signed URL's storage does; 410 once expired). It answers with rate limits and 5xx when
told to (`faults`). Every request is recorded, so the tests assert exactly what was sent.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "ghs_t0pS3cretT0kenThatMustNeverBePrinted"
OWNER_REPO = "acme/lending"
PREFIX = "/api/v3"
REPO = f"{PREFIX}/repos/{OWNER_REPO}"
ACTIONS_BOT = "github-actions[bot]"

Answer = tuple[int, dict[str, str], Any]


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


def user_json(login: str) -> dict[str, Any]:
    return {"login": login, "id": zlib.crc32(login.encode()), "type": "Bot" if login.endswith("[bot]") else "User"}


class FakeGitHub:
    """The REST endpoints Charter uses, in memory, with scripted failures."""

    def __init__(self, page_size: int = 2) -> None:
        self.page_size = page_size
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.check_runs: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {7: []}
        self.pulls: dict[int, dict[str, str]] = {7: {"head": "0" * 40, "base": "1" * 40, "author": "mallory"}}
        self.reviews: dict[int, list[dict[str, Any]]] = {7: []}
        self.teams: dict[str, dict[str, str]] = {}  # "org/slug" -> login -> state (active, pending)
        self.permissions: dict[str, str] = {}  # login -> role: admin, maintain, write, triage, read; else none
        self.token_user: str | None = None  # None: an installation token, which GET /user refuses
        self.default_branch = "main"
        self.runs: dict[int, dict[str, Any]] = {}
        self.artifacts: dict[int, list[dict[str, Any]]] = {}
        self.archives: dict[int, bytes] = {}  # artifact id -> its zip; missing: expired
        self.environments: dict[str, dict[str, Any]] = {}  # name -> GET /environments/{name}'s JSON
        self.branch_policies: dict[str, list[dict[str, Any]]] = {}  # name -> its custom deployment branch policies
        self.lock = threading.Lock()
        self.next_id = 1000
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Answer]]] = [
            ("GET", re.compile(rf"{PREFIX}/user"), self._user),
            ("GET", re.compile(REPO), self._repo),
            ("POST", re.compile(rf"{REPO}/check-runs"), self._create_run),
            ("GET|PATCH", re.compile(rf"{REPO}/check-runs/(\d+)"), self._check_run),
            ("GET", re.compile(rf"{REPO}/pulls/(\d+)"), self._pull),
            ("GET", re.compile(rf"{REPO}/pulls/(\d+)/reviews"), self._reviews),
            ("GET", re.compile(rf"{REPO}/issues/(\d+)/comments"), self._list_comments),
            ("POST", re.compile(rf"{REPO}/issues/(\d+)/comments"), self._create_comment),
            ("PATCH", re.compile(rf"{REPO}/issues/comments/(\d+)"), self._edit_comment),
            ("GET", re.compile(rf"{PREFIX}/orgs/([^/]+)/teams/([^/]+)/memberships/([^/]+)"), self._membership),
            ("GET", re.compile(rf"{REPO}/collaborators/([^/]+)/permission"), self._permission),
            ("GET", re.compile(rf"{REPO}/actions/runs/(\d+)"), self._run),
            ("GET", re.compile(rf"{REPO}/actions/runs/(\d+)/artifacts"), self._run_artifacts),
            ("GET", re.compile(rf"{REPO}/actions/artifacts/(\d+)/zip"), self._archive),
            ("GET", re.compile(rf"{REPO}/environments/([^/]+)"), self._environment),
            ("GET", re.compile(rf"{REPO}/environments/([^/]+)/deployment-branch-policies"), self._branch_policies),
        ]
        server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        server.daemon_threads = True
        server.block_on_close = False  # keep-alive connections of the client must not hold up teardown
        self.server = server
        self.port = server.server_address[1]
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PREFIX}"

    @property
    def token_login(self) -> str:
        """Who the token writes comments as: the user, or the Actions app's bot for an installation token."""
        return self.token_user or ACTIONS_BOT

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests]

    # --- what the tests set up -----------------------------------------------------------------------

    def comment(self, user: str, body: str, issue: int = 7) -> None:
        self.next_id += 1
        self.comments[issue].append(self._comment_json(self.next_id, issue, user, body))

    def review(self, user: str, state: str, commit_id: str, pull: int = 7) -> None:
        """A submitted review, as `GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews` lists it."""
        self.next_id += 1
        self.reviews[pull].append(
            {
                "id": self.next_id,
                "node_id": f"PRR_{self.next_id}",
                "user": user_json(user),
                "body": "",
                "state": state,
                "html_url": f"https://github.example/{OWNER_REPO}/pull/{pull}#pullrequestreview-{self.next_id}",
                "pull_request_url": self.url(f"{REPO}/pulls/{pull}"),
                "author_association": "MEMBER",
                "submitted_at": f"2026-12-07T08:{len(self.reviews[pull]):02}:00Z",
                "commit_id": commit_id,
            }
        )

    def workflow_run(self, run_id: int, path: str, *, head_sha: str, **fields: Any) -> dict[str, Any]:
        """A run of a workflow file; `fields` override head_branch (main), event (push), status and the rest."""
        run = {
            "id": run_id,
            "name": path.rsplit("/", 1)[-1],
            "node_id": f"WFR_{run_id}",
            "head_branch": self.default_branch,
            "head_sha": head_sha,
            "path": path,
            "run_number": 12,
            "run_attempt": 1,
            "event": "push",
            "status": "completed",
            "conclusion": "success",
            "workflow_id": 161335,
            "url": self.url(f"{REPO}/actions/runs/{run_id}"),
            "html_url": f"https://github.example/{OWNER_REPO}/actions/runs/{run_id}",
            "artifacts_url": self.url(f"{REPO}/actions/runs/{run_id}/artifacts"),
            "created_at": "2026-12-07T07:00:00Z",
            "updated_at": "2026-12-07T07:20:00Z",
            **fields,
        }
        self.runs[run_id] = run
        self.artifacts.setdefault(run_id, [])
        return run

    def artifact(self, run_id: int, name: str, digest: str, archive: bytes | None = None) -> dict[str, Any]:
        self.next_id += 1
        if archive is not None:
            self.archives[self.next_id] = archive
        run = self.runs[run_id]
        item = {
            "id": self.next_id,
            "node_id": f"MDg6QXJ0aWZhY3Q{self.next_id}",
            "name": name,
            "size_in_bytes": 2048,
            "url": self.url(f"{REPO}/actions/artifacts/{self.next_id}"),
            "archive_download_url": self.url(f"{REPO}/actions/artifacts/{self.next_id}/zip"),
            "expired": False,
            "digest": digest,
            "created_at": "2026-12-07T07:10:00Z",
            "updated_at": "2026-12-07T07:10:00Z",
            "expires_at": "2027-03-07T07:10:00Z",
            "workflow_run": {
                "id": run_id,
                "repository_id": 1296269,
                "head_repository_id": 1296269,
                "head_branch": run["head_branch"],
                "head_sha": run["head_sha"],
            },
        }
        self.artifacts[run_id].append(item)
        return item

    def environment(
        self,
        name: str,
        reviewers: tuple[str, ...] = (),
        *,
        prevent_self_review: bool = False,
        branches: str | tuple[str, ...] | None = None,
    ) -> dict[str, Any]:
        """A deployment environment as `GET /repos/{owner}/{repo}/environments/{name}` shows it. `reviewers`: logins,
        or `org/slug` for a team (none: no required_reviewers rule); `branches`: None (no restriction), "protected"
        (protected branches only), or the names of custom branch policies (`tag:v*` for a tag policy)."""
        self.next_id += 1
        rules: list[dict[str, Any]] = []
        if reviewers:
            listed = [
                {"type": "Team", "reviewer": {"id": zlib.crc32(r.encode()), "slug": r.split("/")[1], "name": r}}
                if "/" in r
                else {"type": "User", "reviewer": user_json(r)}
                for r in reviewers
            ]
            rules.append(
                {
                    "id": self.next_id,
                    "node_id": f"GA_{self.next_id}",
                    "prevent_self_review": prevent_self_review,
                    "type": "required_reviewers",
                    "reviewers": listed,
                }
            )
        policy = None
        if branches is not None:
            custom = branches != "protected"
            policy = {"protected_branches": not custom, "custom_branch_policies": custom}
            rules.append({"id": self.next_id + 1, "node_id": f"GA_{self.next_id + 1}", "type": "branch_policy"})
            self.branch_policies[name] = [
                {
                    "id": 361471 + i,
                    "node_id": f"MDE2OkdhdGVCcmFuY2hQb2xpY3kzNjE0NzE{i}",
                    "name": item.split(":", 1)[-1],
                    "type": "tag" if item.startswith("tag:") else "branch",
                }
                for i, item in enumerate(branches if custom else ())
            ]
        self.environments[name] = {
            "id": 161088068 + self.next_id,
            "node_id": f"MDExOkVudmlyb25tZW50{self.next_id}",
            "name": name,
            "url": self.url(f"{REPO}/environments/{name}"),
            "html_url": f"https://github.example/{OWNER_REPO}/deployments/activity_log?environments_filter={name}",
            "created_at": "2026-11-01T10:00:00Z",
            "updated_at": "2026-12-01T10:00:00Z",
            "protection_rules": rules,
            "deployment_branch_policy": policy,
        }
        return self.environments[name]

    # --- the server ----------------------------------------------------------------------------------

    def _comment_json(self, comment_id: int, issue: int, user: str, body: str) -> dict[str, Any]:
        return {
            "id": comment_id,
            "url": self.url(f"{REPO}/issues/comments/{comment_id}"),
            "html_url": f"https://github.example/{OWNER_REPO}/pull/{issue}#issuecomment-{comment_id}",
            "issue_url": self.url(f"{REPO}/issues/{issue}"),
            "body": body,
            "user": user_json(user),
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
                binary = isinstance(payload, bytes)
                data = payload if binary else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/zip" if binary else "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _answer(self, method: str, target: str, body: Any, auth: str) -> Answer:
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and re.fullmatch(fault.path, path):
                fault.times -= 1
                return fault.status, fault.headers, fault.body
        if match := re.fullmatch(r"/storage/artifacts/(\d+)\.zip", path):
            if auth:  # a signed URL's storage refuses other credentials; and the token must not travel there
                return 400, {}, {"message": "Authorization header is not allowed with a signed URL"}
            return 200, {}, self.archives[int(match.group(1))]
        if auth not in (f"token {TOKEN}", f"Bearer {TOKEN}"):
            # A careless server that echoes credentials: the client must not print them.
            return 401, {}, {"message": f"Bad credentials: {auth}"}
        for methods, pattern, serve in self.routes:
            match = pattern.fullmatch(path)
            if match and method in methods.split("|"):
                return serve(*match.groups(), method=method, body=body, query=query, path=path)
        return 404, {}, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}

    def _page(self, items: list[Any], path: str, query: dict[str, list[str]]) -> tuple[dict[str, str], list[Any]]:
        size = min(int(query.get("per_page", ["30"])[0]), self.page_size)
        page = int(query.get("page", ["1"])[0])
        pages = max(1, -(-len(items) // size))
        headers = {}
        if page < pages:
            headers["Link"] = (
                f'<{self.url(path)}?per_page={size}&page={page + 1}>; rel="next", '
                f'<{self.url(path)}?per_page={size}&page={pages}>; rel="last"'
            )
        return headers, items[(page - 1) * size : page * size]

    def _user(self, **_: Any) -> Answer:
        if self.token_user is None:
            return 403, {}, {"message": "Resource not accessible by integration", "status": "403"}
        return 200, {}, user_json(self.token_user)

    def _repo(self, **_: Any) -> Answer:
        owner, name = OWNER_REPO.split("/")
        return (
            200,
            {},
            {
                "id": 1296269,
                "name": name,
                "full_name": OWNER_REPO,
                "owner": user_json(owner),
                "url": self.url(REPO),
                "default_branch": self.default_branch,
            },
        )

    def _create_run(self, *, body: Any, **_: Any) -> Answer:
        self.next_id += 1
        run = {**body, "id": self.next_id, "url": self.url(f"{REPO}/check-runs/{self.next_id}")}
        run["output"] = dict(body.get("output", {}))
        run["annotations"] = list(run["output"].pop("annotations", []))
        self.check_runs[self.next_id] = run
        return 201, {}, self._run_json(run)

    def _check_run(self, run_id: str, *, method: str, body: Any, **_: Any) -> Answer:
        run = self.check_runs[int(run_id)]
        if method == "PATCH":
            output = dict(body.pop("output", {}))
            run["annotations"] += output.pop("annotations", [])  # GitHub appends them
            run["output"] = output
            run.update(body)
        return 200, {}, self._run_json(run)

    def _pull(self, number: str, **_: Any) -> Answer:
        pull = self.pulls[int(number)]
        return (
            200,
            {},
            {
                "number": int(number),
                "state": "open",
                "url": self.url(f"{REPO}/pulls/{number}"),
                "issue_url": self.url(f"{REPO}/issues/{number}"),
                "user": user_json(pull.get("author", "mallory")),
                "head": {"sha": pull["head"], "ref": "feature"},
                "base": {"sha": pull["base"], "ref": self.default_branch},
            },
        )

    def _reviews(self, number: str, *, path: str, query: dict[str, list[str]], **_: Any) -> Answer:
        headers, items = self._page(self.reviews[int(number)], path, query)
        return 200, headers, items

    def _list_comments(self, number: str, *, path: str, query: dict[str, list[str]], **_: Any) -> Answer:
        headers, items = self._page(self.comments[int(number)], path, query)
        return 200, headers, items

    def _create_comment(self, number: str, *, body: Any, **_: Any) -> Answer:
        self.next_id += 1
        created = self._comment_json(self.next_id, int(number), self.token_login, body["body"])
        self.comments[int(number)].append(created)
        return 201, {}, created

    def _edit_comment(self, comment_id: str, *, body: Any, **_: Any) -> Answer:
        for items in self.comments.values():
            for item in items:
                if item["id"] == int(comment_id):
                    item["body"] = body["body"]
                    return 200, {}, item
        return 404, {}, {"message": "Not Found"}

    def _membership(self, org: str, slug: str, login: str, **_: Any) -> Answer:
        state = self.teams.get(f"{org}/{slug}".lower(), {}).get(login.lower())
        if state is None:
            return 404, {}, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
        url = self.url(f"{PREFIX}/orgs/{org}/teams/{slug}/memberships/{login}")
        return 200, {}, {"url": url, "role": "member", "state": state}

    def _permission(self, login: str, **_: Any) -> Answer:
        """The legacy base role in `permission` (admin, write, read, none), the role itself in `role_name`."""
        role = self.permissions.get(login.lower(), "none")  # not a collaborator: `none`, as GitHub answers
        legacy = {"triage": "read", "maintain": "write"}.get(role, role)
        return 200, {}, {"permission": legacy, "role_name": role, "user": user_json(login)}

    def _run(self, run_id: str, **_: Any) -> Answer:
        run = self.runs.get(int(run_id))
        return (200, {}, run) if run else (404, {}, {"message": "Not Found"})

    def _run_artifacts(self, run_id: str, *, path: str, query: dict[str, list[str]], **_: Any) -> Answer:
        if int(run_id) not in self.runs:
            return 404, {}, {"message": "Not Found"}
        items = self.artifacts[int(run_id)]
        headers, page = self._page(items, path, query)
        return 200, headers, {"total_count": len(items), "artifacts": page}

    def _archive(self, artifact_id: str, **_: Any) -> Answer:
        if int(artifact_id) not in self.archives:
            return 410, {}, {"message": "Artifact has expired", "documentation_url": "https://docs.github.com/rest"}
        return 302, {"Location": self.url(f"/storage/artifacts/{artifact_id}.zip?sig=signed")}, {}

    def _environment(self, name: str, **_: Any) -> Answer:
        found = self.environments.get(unquote(name))
        return (200, {}, found) if found else (404, {}, {"message": "Not Found"})

    def _branch_policies(self, name: str, *, path: str, query: dict[str, list[str]], **_: Any) -> Answer:
        if unquote(name) not in self.environments:
            return 404, {}, {"message": "Not Found"}
        items = self.branch_policies.get(unquote(name), [])
        return 200, {}, {"total_count": len(items), "branch_policies": items}

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


Served = TypeVar("Served", bound=FakeGitHub)


@contextmanager
def serving(server: Served) -> Iterator[Served]:
    """The stand-in answering on 127.0.0.1 for the length of the block (a test fixture's body), then stopped."""
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
        server.thread.join(timeout=5)
