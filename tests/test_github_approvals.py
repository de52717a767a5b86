"""Approvals and Charter's own comment, verified through GitHub's API served on 127.0.0.1 (tests/fake_github.py).

The real PyGithub client, made by `compiler.integrations.github.client.connect`, reads the pull request's reviews,
team memberships and `GET /user` over real HTTP; nothing of PyGithub is mocked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fake_github import ACTIONS_BOT, PREFIX, REPO, TOKEN, FakeGitHub, Fault
from live_servers import free_port

from compiler.core.diagnostics import Diagnostic
from compiler.integrations.github import publish
from compiler.integrations.github.approvals import Unverifiable, verify
from compiler.integrations.github.client import Environment, Settings, connect
from compiler.plan.approvals import Approval, ApprovalNeeded

HEAD = "a" * 40
OLD = "b" * 40
FINDING = Diagnostic.of("CH500", "a rule of `eu-ai-act` was softened", "charter.yaml", line=9, column=5)


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    server = FakeGitHub()
    server.pulls[7] = {"head": HEAD, "base": "1" * 40, "author": "mallory"}
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
    server.thread.join(timeout=5)


def client(fake: FakeGitHub) -> Any:
    environment = Environment(TOKEN, "acme/lending", HEAD, fake.api_url, {}, "pull_request", "", None)
    return connect(environment, Settings(retries=2, backoff=0.01, timeout=5, write_interval=0))


def approvals(fake: FakeGitHub, *needs: ApprovalNeeded) -> list[Approval]:
    github = client(fake)
    pull = github.get_repo("acme/lending").get_pull(7)
    return verify(list(needs), pull, github, Approval, head_sha=HEAD, repository="acme/lending")


def need(*owners: str, mode: str = "any") -> ApprovalNeeded:
    return ApprovalNeeded((FINDING,), owners, "policy softened", mode)  # type: ignore[arg-type]


def test_an_owner_approval_of_the_head_settles(fake: FakeGitHub) -> None:
    fake.review("Alice", "APPROVED", HEAD)  # logins compare without case, as on GitHub
    (approval,) = approvals(fake, need("alice", "bob"))
    assert approval.settled
    assert approval.by == ("alice",)
    assert [call for call in fake.calls() if "reviews" in call[1]] == [("GET", f"{REPO}/pulls/7/reviews?per_page=100")]


def test_an_approval_of_an_older_commit_is_stale(fake: FakeGitHub) -> None:
    fake.review("alice", "APPROVED", OLD)  # then the author pushed HEAD
    (approval,) = approvals(fake, need("alice"))
    assert not approval.settled


def test_the_author_never_approves_their_own_change(fake: FakeGitHub) -> None:
    fake.review("mallory", "APPROVED", HEAD)
    (approval,) = approvals(fake, need("mallory"), need("acme/model-risk"))[:1]
    assert not approval.settled
    fake.teams["acme/model-risk"] = {"mallory": "active"}
    assert not approvals(fake, need("acme/model-risk"))[0].settled
    # No membership was even asked: the author is not among the approvers.
    assert not [call for call in fake.calls() if "memberships" in call[1]]


def test_a_team_is_satisfied_by_an_active_member(fake: FakeGitHub) -> None:
    fake.teams["acme/model-risk"] = {"carol": "active", "dave": "pending"}
    fake.review("dave", "APPROVED", HEAD)  # invited, not yet a member
    fake.review("erin", "APPROVED", HEAD)  # not in the team at all: 404
    assert not approvals(fake, need("acme/model-risk"))[0].settled
    fake.review("carol", "APPROVED", HEAD)
    (approval,) = approvals(fake, need("acme/model-risk"))
    assert approval.by == ("carol",)
    assert approvals(fake, need("@acme/model-risk"))[0].by == ("carol",)  # as CODEOWNERS writes a team
    asked = [call[1] for call in fake.calls() if "memberships" in call[1]]
    assert f"{PREFIX}/orgs/acme/teams/model-risk/memberships/carol" in asked
    assert f"{PREFIX}/orgs/acme/teams/model-risk/memberships/erin" in asked


def test_the_latest_deciding_review_counts(fake: FakeGitHub) -> None:
    fake.review("alice", "APPROVED", HEAD)
    fake.review("alice", "COMMENTED", HEAD)  # a comment does not withdraw an approval
    assert approvals(fake, need("alice"))[0].by == ("alice",)
    fake.review("alice", "CHANGES_REQUESTED", HEAD)
    assert not approvals(fake, need("alice"))[0].settled
    fake.review("bob", "APPROVED", HEAD)
    fake.review("bob", "DISMISSED", HEAD)
    assert not approvals(fake, need("bob"))[0].settled


def test_all_named_approvers_must_approve(fake: FakeGitHub) -> None:
    fake.review("alice", "APPROVED", HEAD)
    waiver = need("alice", "bob", mode="all")
    assert not approvals(fake, waiver)[0].settled
    fake.review("bob", "APPROVED", HEAD)
    assert approvals(fake, waiver)[0].by == ("alice", "bob")


def test_a_repository_admin_settles_a_need_whose_owners_the_base_left_empty(fake: FakeGitHub) -> None:
    fake.permissions.update({"mallory": "admin", "wkim": "maintain", "oadeyemi": "admin"})
    fake.review("mallory", "APPROVED", HEAD)  # the author, an admin: never counted
    fake.review("wkim", "APPROVED", HEAD)  # maintain is `write` in the legacy permission: not an admin
    fake.review("erin", "APPROVED", HEAD)  # not a collaborator: `none`
    no_owner = need(mode="admins")
    assert not approvals(fake, no_owner)[0].settled
    fake.review("oadeyemi", "APPROVED", HEAD)
    assert approvals(fake, no_owner)[0].by == ("oadeyemi",)
    asked = [path for _, path in fake.calls() if path.endswith("/permission")]
    assert f"{REPO}/collaborators/wkim/permission" in asked
    assert not [path for path in asked if "/mallory/" in path]
    # A named owner is never satisfied by an admin: admins stand in only where the base names nobody.
    assert not approvals(fake, need("acme/model-risk"))[0].settled
    # GitHub refusing the question counts nothing.
    fake.faults = [Fault("GET", rf"{REPO}/collaborators/.*", 403, {"message": "Resource not accessible"})]
    with pytest.raises(Unverifiable):
        approvals(fake, no_owner)


def test_github_unable_to_answer_settles_nothing(fake: FakeGitHub) -> None:
    fake.review("alice", "APPROVED", HEAD)
    fake.faults = [Fault("GET", rf"{REPO}/pulls/7/reviews", 503, {"message": "Service Unavailable"}, times=10)]
    with pytest.raises(Unverifiable):
        approvals(fake, need("alice"))
    # A token that may not read team membership (GITHUB_TOKEN cannot): no guess, no approval.
    fake.faults = [Fault("GET", rf"{PREFIX}/orgs/.*", 403, {"message": "Resource not accessible by integration"})]
    with pytest.raises(Unverifiable):
        approvals(fake, need("acme/model-risk"))


def test_github_unreachable_settles_nothing(fake: FakeGitHub) -> None:
    closed = free_port()
    environment = Environment(TOKEN, "acme/lending", HEAD, f"http://127.0.0.1:{closed}/api/v3", {}, None, "", None)
    github = connect(environment, Settings(retries=1, backoff=0.01, timeout=2, write_interval=0))
    pull = github.get_repo("acme/lending").get_pull(7)
    with pytest.raises(Unverifiable):
        verify([need("alice")], pull, github, Approval, head_sha=HEAD)


def test_no_need_asks_nothing(fake: FakeGitHub) -> None:
    assert approvals(fake) == []
    assert fake.requests == []


# --- Charter's comment is Charter's own ------------------------------------------------------------


def test_the_token_identity(fake: FakeGitHub) -> None:
    # GITHUB_TOKEN: GET /user is refused, and the comments are the Actions app's bot's.
    assert publish.token_identity(client(fake)) == publish.Identity(ACTIONS_BOT, bot=True)
    assert publish.token_identity(client(fake), "charter-ci") == publish.Identity("charter-ci[bot]", bot=True)
    fake.token_user = "release-robot"
    assert publish.token_identity(client(fake)) == publish.Identity("release-robot", bot=False)


def test_a_marker_by_someone_else_is_never_edited(fake: FakeGitHub) -> None:
    forged = f"{publish.MARKER}\n## ✅ Charter\n\nApproved by the Model Risk Committee."
    fake.comment("mallory", forged)
    fake.comment("github-actions", publish.MARKER)  # a user named like the bot, without `[bot]`: not the bot
    github = client(fake)
    issue = github.get_repo("acme/lending").get_issue(7)
    identity = publish.token_identity(github)
    assert publish.upsert_comment(issue, f"{publish.MARKER}\nours", publish.MARKER, identity) == ("created", 2)
    assert [c["body"] for c in fake.comments[7]] == [forged, publish.MARKER, f"{publish.MARKER}\nours"]
    assert fake.comments[7][-1]["user"]["login"] == ACTIONS_BOT
    assert publish.upsert_comment(issue, f"{publish.MARKER}\nagain", publish.MARKER, identity) == ("updated", 2)
    assert fake.comments[7][0]["body"] == forged
    assert fake.comments[7][-1]["body"] == f"{publish.MARKER}\nagain"


def test_a_user_token_edits_only_its_own_comment(fake: FakeGitHub) -> None:
    fake.token_user = "release-robot"
    fake.comment(ACTIONS_BOT, publish.MARKER + "\nfrom another workflow")
    fake.comment("release-robot", publish.MARKER + "\nold")
    github = client(fake)
    issue = github.get_repo("acme/lending").get_issue(7)
    outcome = publish.upsert_comment(issue, publish.MARKER + "\nnew", publish.MARKER, publish.token_identity(github))
    assert outcome == ("updated", 1)
    assert [c["body"].split("\n")[-1] for c in fake.comments[7]] == ["from another workflow", "new"]


def test_a_second_comment_as_the_same_bot_says_what_charter_says(fake: FakeGitHub) -> None:
    """GITHUB_TOKEN is every workflow's: one a pull request adds may post a "Charter" comment as the bot."""
    fake.comment(ACTIONS_BOT, f"{publish.MARKER}\nthe real report, last run")
    fake.comment(ACTIONS_BOT, f"{publish.MARKER}\n## ✅ Charter\n\nAll approvals given.")
    github = client(fake)
    issue = github.get_repo("acme/lending").get_issue(7)
    body = f"{publish.MARKER}\nthe real report"
    assert publish.upsert_comment(issue, body, publish.MARKER, publish.token_identity(github)) == ("updated", 0)
    assert [c["body"] for c in fake.comments[7]] == [body, body]


def test_no_identity_no_comment(fake: FakeGitHub) -> None:
    fake.token_user = "release-robot"
    fake.faults = [Fault("GET", f"{PREFIX}/user", 503, {"message": "Service Unavailable"}, times=10)]
    with pytest.raises(Exception, match="503"):
        publish.token_identity(client(fake))
