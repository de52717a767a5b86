"""Approvals verified through GitHub's API: who approved the pull request's head, and whether they own what changed.

A need (`compiler.plan.approvals.ApprovalNeeded`) names owners: GitHub logins (`alice`) or teams (`acme/model-risk`),
and a mode: `any` (one approving owner settles it) or `all` (every owner must approve). What counts as an approval
is GitHub's own rule, made stricter where the change under review could game it:

- A reviewer's standing is their latest review that decides (APPROVED, CHANGES_REQUESTED or DISMISSED); a later
  COMMENTED review does not withdraw an approval, as on GitHub. It counts only when it is APPROVED.
- It counts only for the commit it was submitted on (`commit_id`): a push after the approval makes it stale, even
  where the repository does not dismiss stale approvals, since the pushed commit is what Charter judged.
- The pull request's author never approves their own change (GitHub refuses such a review; a co-author's token is
  not the author, and is an owner like any other).
- A team is satisfied by an approving reviewer whose membership in it is `active`
  (`GET /orgs/{org}/teams/{team_slug}/memberships/{username}`; 404 is not a member). Logins, organisations and
  team slugs compare without case, as GitHub does.

- A need of mode `admins` (the base revision names no owner for what changed) is satisfied by an approving
  reviewer whose permission on the repository is `admin`
  (`GET /repos/{owner}/{repo}/collaborators/{username}/permission`; 404 is no permission): the people who set
  the branch protection this check runs under, and nobody the change itself names.

Anything GitHub cannot answer (down, rate limited, a token without `members: read`) raises `Unverifiable`: the
caller settles nothing, so the governance finding stays an error (fail closed).

This layer does not import the plan (`tests/test_layout.py`): needs are read through `Need` and the caller says
how a settled need is built (`compiler.plan.approvals.Approval`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

_DECIDING = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})


class Need(Protocol):
    @property
    def owners(self) -> tuple[str, ...]: ...

    @property
    def mode(self) -> str: ...


N = TypeVar("N", bound=Need)
A = TypeVar("A")


class Unverifiable(Exception):
    """GitHub could not say who approved: nothing is settled."""


@dataclass(frozen=True)
class Reviewed:
    """The approving reviewers of one commit of a pull request, lower-cased, the author left out."""

    head_sha: str
    author: str
    approvers: frozenset[str]


def approvers(reviews: Iterable[Any], head_sha: str, author: str) -> Reviewed:
    """Whose deciding review is APPROVED on `head_sha`, from PyGithub `PullRequestReview`s in GitHub's order."""
    standing: dict[str, tuple[str, str]] = {}
    for review in reviews:
        user = review.user
        state = (review.state or "").upper()
        if user is None or state not in _DECIDING:
            continue  # COMMENTED and PENDING do not change where a reviewer stands; a deleted user is nobody
        standing[str(user.login).lower()] = (state, review.commit_id or "")
    author = author.lower()
    approving = {
        login
        for login, (state, commit) in standing.items()
        if state == "APPROVED" and commit == head_sha and login != author
    }
    return Reviewed(head_sha, author, frozenset(approving))


class _Teams:
    """Team membership and repository admins, asked once per team (or repository) and reviewer."""

    def __init__(self, requester: Any, repository: str = "") -> None:
        self.requester, self.repository = requester, repository
        self.known: dict[tuple[str, str], bool] = {}

    def admin(self, login: str) -> bool:
        """Whether `login` holds the `admin` permission on the repository."""
        key = ("/repos/" + self.repository.lower(), login.lower())
        if key not in self.known:
            from urllib.parse import quote

            owner, name = self.repository.split("/", 1)
            path = f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}/collaborators/{quote(login, safe='')}"
            data = self._get(path + "/permission")
            self.known[key] = isinstance(data, dict) and data.get("permission") == "admin"
        return self.known[key]

    def member(self, team: str, login: str) -> bool:
        key = (team.lower(), login.lower())
        if key not in self.known:
            self.known[key] = self._ask(*key)
        return self.known[key]

    def _ask(self, team: str, login: str) -> bool:
        from urllib.parse import quote

        org, slug = team.split("/", 1)
        data = self._get(
            f"/orgs/{quote(org, safe='')}/teams/{quote(slug, safe='')}/memberships/{quote(login, safe='')}"
        )
        return isinstance(data, dict) and data.get("state") == "active"

    def _get(self, path: str) -> Any:
        """GitHub's answer, or None for 404 (not a member, no such team, no such collaborator)."""
        from github import GithubException

        try:
            _, data = self.requester.requestJsonAndCheck("GET", path)
        except GithubException as error:
            if error.status == 404:
                return None
            raise
        return data


def _satisfying(owner: str, reviewed: Reviewed, teams: _Teams) -> list[str]:
    """The approving reviewers who stand for `owner`: the login itself, or the team's active members.

    `@alice` and `@acme/model-risk`, as CODEOWNERS writes them, are `alice` and `acme/model-risk`.
    """
    owner = owner.removeprefix("@")
    if "/" not in owner:
        login = owner.lower()
        return [login] if login in reviewed.approvers else []
    return [login for login in sorted(reviewed.approvers) if teams.member(owner, login)]


def settled_by(need: Need, reviewed: Reviewed, teams: _Teams) -> tuple[str, ...]:
    """The logins that settle one need, or () when it is not settled."""
    if need.mode == "admins":
        return tuple(login for login in sorted(reviewed.approvers) if teams.admin(login))
    found = {owner: _satisfying(owner, reviewed, teams) for owner in need.owners}
    if need.mode == "all":
        if not need.owners or not all(found.values()):
            return ()
        # One approver per owner is enough to name; an approver standing for two owners is named once.
        return tuple(sorted({logins[0] for logins in found.values()}))
    return tuple(sorted({login for logins in found.values() for login in logins}))


def verify(
    needed: Sequence[N],
    pull: Any,
    client: Any,
    approval: Callable[[N, tuple[str, ...]], A],
    *,
    head_sha: str,
    repository: str = "",
) -> list[A]:
    """Each need with the logins whose approvals of `head_sha` settle it (reviews and teams read from GitHub).

    `pull` is PyGithub's `PullRequest`, `client` the `Github` it came from, `approval` how a settled need is made
    (`Approval`), `repository` (`owner/name`) whose admins approve a need of mode `admins`. Raises
    `Unverifiable` when GitHub cannot answer, never a partial answer.
    """
    import requests
    from github import GithubException

    if not needed:
        return []
    try:
        author = pull.user.login if pull.user is not None else ""  # a deleted account: nobody to leave out
        reviewed = approvers(pull.get_reviews(), head_sha, author)
        teams = _Teams(client.requester, repository)
        return [approval(need, settled_by(need, reviewed, teams)) for need in needed]
    except (GithubException, requests.exceptions.RequestException) as error:
        raise Unverifiable(error) from error
