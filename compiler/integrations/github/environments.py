"""What the Environment specs say about approvals, verified against what GitHub enforces.

An Environment names the GitHub environment whose protection rules hold its approvals
(`spec.githubEnvironment`, `spec.approvals`). The deploy jobs run in it, so GitHub pauses them until a reviewer
approves: that is the only approval a deployment gets. A spec that says `approvals: 2` over a GitHub environment
with no required reviewers is a promise nobody keeps, so `charter github report --environments` and the deploy
jobs (`charter github environments --environment NAME`) ask GitHub:

- `GET /repos/{owner}/{repo}/environments/{name}`: the environment exists (404: CH445); with `approvals` >= 1 its
  `protection_rules` hold a `required_reviewers` rule listing at least `approvals` reviewers (users or teams), and
  with `approvals` >= 2 that rule sets `prevent_self_review` (CH446). GitHub lets any one listed reviewer approve
  a job: the four eyes `approvals: 2` stands for are who started the deployment and a reviewer who is not them.
- For a `tier: production` Environment, `deployment_branch_policy` lets only the default branch deploy (CH447):
  `protected_branches: true`, or custom policies (`GET .../environments/{name}/deployment-branch-policies`) that
  name only the default branch (`GET /repos/{owner}/{repo}` says which it is).

What GitHub cannot answer is CH448, an error: an approval nobody could verify is not one (fail closed).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from compiler.core.diagnostics import Diagnostic
from compiler.core.models.environment import Environment
from compiler.core.specs import Spec

HINT = (
    "in the repository's Settings > Environments, give `{env}` required reviewers (at least {approvals}, with "
    "'Prevent self-review' when two or more are required) and, for production, deployment branches limited to "
    "the default branch; or change the Environment spec to say what GitHub enforces"
)


@dataclass(frozen=True)
class Wanted:
    """One Environment spec: the GitHub environment it names and what that must enforce."""

    spec: Spec
    github_environment: str
    approvals: int
    production: bool

    def finding(self, code: str, message: str, field: str) -> Diagnostic:
        hint = HINT.format(env=self.github_environment, approvals=max(self.approvals, 1))
        return self.spec.finding(code, message, ["spec", field], hint=hint)


def wanted(specs: Iterable[Spec], only: str | None = None) -> list[Wanted]:
    """The Environment specs among `specs` (only the one named `only`, when given), by name."""
    found = []
    for spec in sorted(specs, key=lambda s: s.name):
        if isinstance(spec.model, Environment) and only in (None, spec.name):
            body = spec.model.spec
            found.append(Wanted(spec, body.github_environment, body.approvals, body.tier == "production"))
    return found


Describe = Callable[[Exception], str]


def verify(environments: Sequence[Wanted], repo: Any, describe: Describe) -> list[Diagnostic]:
    """Findings for every Environment whose GitHub environment does not enforce what the spec says."""
    findings: list[Diagnostic] = []
    default_branch: str | None = None
    for want in environments:
        label = f"Environment `{want.spec.name}`: GitHub environment `{want.github_environment}`"
        try:
            answer = _get(repo, f"/environments/{_quoted(want.github_environment)}")
            if answer is None:
                findings.append(
                    want.finding("CH445", f"{label} does not exist in {repo.full_name}", "githubEnvironment")
                )
                continue
            findings += _reviewers(want, label, answer)
            if want.production:
                if default_branch is None:
                    default_branch = str(repo.default_branch)
                findings += _branches(want, label, answer, repo, default_branch)
        except Exception as error:  # noqa: BLE001 - fail closed: what cannot be verified is not enforced
            message = f"{label} cannot be verified: {describe(error)}; the job needs `permissions: actions: read`"
            findings.append(want.finding("CH448", message, "githubEnvironment"))
    return findings


def _quoted(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def _get(repo: Any, path: str) -> dict[str, Any] | None:
    """GitHub's JSON for a path under the repository; None for 404."""
    from github import GithubException

    try:
        _, data = repo.requester.requestJsonAndCheck("GET", f"{repo.url}{path}")
    except GithubException as error:
        if error.status == 404:
            return None
        raise
    if not isinstance(data, dict):
        raise ValueError(f"GitHub answered {type(data).__name__} for {path}, not an object")
    return data


def _reviewers(want: Wanted, label: str, answer: dict[str, Any]) -> list[Diagnostic]:
    if want.approvals == 0:
        return []
    rules = [r for r in answer.get("protection_rules") or [] if isinstance(r, dict)]
    rule = next((r for r in rules if r.get("type") == "required_reviewers"), None)
    says = f"the spec says `approvals: {want.approvals}`"
    if rule is None:
        return [want.finding("CH446", f"{label} requires no reviewers; {says}", "approvals")]
    listed = [r for r in rule.get("reviewers") or [] if isinstance(r, dict)]
    if len(listed) < want.approvals:
        count = f"{len(listed)} reviewer{'' if len(listed) == 1 else 's'}"
        return [want.finding("CH446", f"{label} lists {count}; {says}", "approvals")]
    if want.approvals >= 2 and rule.get("prevent_self_review") is not True:
        message = (
            f"{label} lets who started a deployment approve it (prevent_self_review is off), so one person "
            f"deploys alone; {says}"
        )
        return [want.finding("CH446", message, "approvals")]
    return []


def _branches(want: Wanted, label: str, answer: dict[str, Any], repo: Any, default: str) -> list[Diagnostic]:
    policy = answer.get("deployment_branch_policy")
    only = f"a production Environment deploys only from the default branch `{default}`"
    if not isinstance(policy, dict):
        return [want.finding("CH447", f"{label} lets every branch deploy; {only}", "tier")]
    if policy.get("protected_branches") is True:
        return []
    if policy.get("custom_branch_policies") is not True:
        return [want.finding("CH447", f"{label} lets every branch deploy; {only}", "tier")]
    listed = _get(repo, f"/environments/{_quoted(want.github_environment)}/deployment-branch-policies?per_page=100")
    policies = [p for p in (listed or {}).get("branch_policies") or [] if isinstance(p, dict)]
    names = sorted(f"{p.get('type', 'branch')} `{p.get('name')}`" for p in policies)
    if names == [f"branch `{default}`"]:
        return []
    allowed = ", ".join(names) or "nothing"
    return [want.finding("CH447", f"{label} lets {allowed} deploy; {only}", "tier")]
