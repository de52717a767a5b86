"""What `charter github report` sends: a check run with annotations, and one summary comment.

The check run carries every finding as an annotation on its line. The
Checks API takes 50 annotations a request, so the run is created with the
first 50 and updated with each next 50 (GitHub appends them); the last
update completes it with its conclusion. The comment on the pull request
holds the plan; it is found again by a hidden marker and edited in place,
so a pull request has one Charter comment however often the job runs.

The marker alone proves nothing: anyone can write it in a comment of their own. Charter's comment is the one
carrying the marker **and** written by the identity of the token Charter runs with (`token_identity`); a
comment by anyone else is never edited, whatever it says.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from compiler import __version__
from compiler.core.diagnostics import Diagnostic, sort_diagnostics
from compiler.core.markdown import code
from compiler.core.markdown import text as md
from compiler.reporters import markdown as markdown_report
from compiler.reporters.github import annotation
from compiler.reporters.text import plural

ANNOTATIONS_PER_REQUEST = 50
MARKER = "<!-- charter-report -->"
SUMMARY_LIMIT = 65_000  # the Checks API takes 65,535 characters of summary
MESSAGE_LIMIT = 60_000


# The bot GitHub Actions' GITHUB_TOKEN writes as: the `github-actions` app's bot user.
ACTIONS_APP = "github-actions"


def marker(name: str) -> str:
    return MARKER if name == "charter" else f"<!-- charter-report: {name} -->"


@dataclass(frozen=True)
class Content:
    name: str
    title: str
    summary: str
    conclusion: str  # success | failure
    annotations: list[dict[str, Any]]
    comment: str


def unplanned(content: Content, reason: str) -> Content:
    """A failed check run for a pull request whose plan could not be made: the findings alone never pass it."""
    title = f"No plan: {reason}"[:255]
    summary = f"**Charter could not plan this pull request:** {md(reason)}\n\n{content.summary}"[:SUMMARY_LIMIT]
    return replace(content, title=title, summary=summary, conclusion="failure")


# --- annotations ---------------------------------------------------------------------------


def to_annotations(diagnostics: Iterable[Diagnostic], repo_root: Path, cwd: Path | None = None) -> list[dict[str, Any]]:
    """Findings as Checks API annotations, paths relative to the repository; errors first."""
    cwd = cwd or Path.cwd()
    root = repo_root.resolve()
    out = []
    ordered = sorted(sort_diagnostics(diagnostics), key=lambda d: (d.suppressed, d.severity.rank))
    for d in ordered:
        if not d.file:
            continue
        path = Path(d.file)
        try:
            relative = (path if path.is_absolute() else cwd / path).resolve().relative_to(root).as_posix()
        except ValueError:
            continue  # a built-in policy pack outside the repository: in the summary only
        out.append(annotation(d, relative, MESSAGE_LIMIT))
    return out


# --- the check run ---------------------------------------------------------------------------


def publish_check_run(repo: Any, head_sha: str, content: Content, *, details_url: str | None = None) -> tuple[Any, int]:
    """Create the check run with all annotations, 50 a request; returns it and the number of requests."""
    batches = [
        content.annotations[i : i + ANNOTATIONS_PER_REQUEST]
        for i in range(0, len(content.annotations), ANNOTATIONS_PER_REQUEST)
    ] or [[]]
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    extra = {"details_url": details_url} if details_url else {}
    if len(batches) == 1:
        run = repo.create_check_run(
            content.name,
            head_sha,
            status="completed",
            conclusion=content.conclusion,
            started_at=now,
            completed_at=now,
            output=_output(content, batches[0]),
            **extra,
        )
        return run, 1
    run = repo.create_check_run(
        content.name, head_sha, status="in_progress", started_at=now, output=_output(content, batches[0]), **extra
    )
    for batch in batches[1:-1]:
        run.edit(output=_output(content, batch))
    run.edit(
        status="completed",
        conclusion=content.conclusion,
        completed_at=datetime.datetime.now(datetime.UTC).replace(microsecond=0),
        output=_output(content, batches[-1]),
    )
    return run, len(batches)


def _output(content: Content, batch: Sequence[dict[str, Any]]) -> dict[str, Any]:
    output: dict[str, Any] = {"title": content.title, "summary": content.summary}
    if batch:
        output["annotations"] = list(batch)
    return output


# --- the comment ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who the token writes as: a login, and whether GitHub shows it as a bot (type `Bot`)."""

    login: str
    bot: bool

    def wrote(self, comment: Any) -> bool:
        user = comment.user
        if user is None:
            return False  # a deleted account ("ghost") is nobody's comment to edit
        same = str(user.login).lower() == self.login.lower()
        return same and (not self.bot or user.type == "Bot")


def token_identity(client: Any, app: str = ACTIONS_APP) -> Identity:
    """The identity the token writes comments as.

    A user's token (a personal access token, an OAuth token) answers `GET /user` with its login. An installation
    token (GitHub Actions' GITHUB_TOKEN, a GitHub App's) cannot: GitHub answers 403 "Resource not accessible by
    integration", and an installation token cannot read its app either (`GET /app` takes the app's JWT). What it
    writes is signed by the app's bot user, `<app slug>[bot]` with type `Bot`: `github-actions[bot]` for
    GITHUB_TOKEN, or the slug given with `--app` for another app. A `[bot]` login cannot be a user's (brackets are
    not allowed in user names), so a person cannot pass for it. Any other failure is raised: with no identity,
    no comment is edited.
    """
    from github import GithubException, RateLimitExceededException

    try:
        _, data = client.requester.requestJsonAndCheck("GET", "/user")
    except RateLimitExceededException:
        raise
    except GithubException as error:
        if error.status == 403:
            return Identity(f"{app}[bot]", True)
        raise
    if not isinstance(data, dict) or not isinstance(data.get("login"), str):
        raise ValueError("GET /user answered without a login")
    return Identity(data["login"], data.get("type") == "Bot")


def upsert_comment(issue: Any, body: str, tag: str, author: Identity) -> tuple[str, int]:
    """Edit the comment by `author` that carries `tag`, or create it.

    Any other comment by the same identity with the tag gets the same body: GITHUB_TOKEN is shared by every
    workflow of the repository, so a workflow a pull request adds could post a second "Charter" comment as
    `github-actions[bot]`; it then says what Charter says. Returns created, updated or unchanged, and how many
    comments by others carried the tag (left alone).
    """
    ignored = 0
    outcome = None
    for comment in issue.get_comments():
        if tag not in (comment.body or ""):
            continue
        if not author.wrote(comment):
            ignored += 1
        elif comment.body == body:
            outcome = outcome or "unchanged"
        else:
            comment.edit(body)
            outcome = outcome or "updated"
    if outcome is None:
        issue.create_comment(body)
        outcome = "created"
    return outcome, ignored


# --- approvals --------------------------------------------------------------------------------


class _Need(Protocol):
    @property
    def findings(self) -> tuple[Diagnostic, ...]: ...

    @property
    def owners(self) -> tuple[str, ...]: ...

    @property
    def reason(self) -> str: ...

    @property
    def mode(self) -> str: ...


class _Approval(Protocol):
    """`compiler.plan.approvals.Approval`, read without importing the plan (a layer above)."""

    @property
    def needed(self) -> _Need: ...

    @property
    def by(self) -> tuple[str, ...]: ...


def approvals_section(approvals: Sequence[_Approval], note: str | None) -> list[str]:
    """Which approvals the change needs, who gave each, which are missing; logins as code, so nobody is pinged."""
    if not approvals:
        return []
    missing = sum(1 for approval in approvals if not approval.by)
    head = f"**Approvals:** {len(approvals) - missing} of {len(approvals)} given"
    lines = ["", head + (f"; {missing} missing." if missing else "."), ""]
    if note:
        lines += [f"_Approvals could not be verified: {md(note)}. The findings that need them stay errors._", ""]
    lines += ["| | needed for | from | approved by |", "| --- | --- | --- | --- |"]
    for approval in approvals:  # one row per group of owners, listing every finding its review settles
        need = approval.needed
        joined = " and " if need.mode == "all" else " or "
        owners = joined.join(code(owner) for owner in need.owners) or "a repository admin"
        places = "<br>".join(
            f"{d.code} {code(f'{d.file}:{d.line}' if d.line else d.file or '-')}" for d in need.findings
        )
        given = ", ".join(code(login) for login in approval.by) or "**missing**"
        icon = "✅" if approval.by else "❌"
        lines.append(f"| {icon} | {places}: {md(need.reason)} | {owners} | {given} |")
    return lines


# --- what to say ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanText:
    """What the plan adds to the report: its Markdown (or why there is none), breaking changes, approvals."""

    markdown: str | None
    note: str | None
    breaking: str | None
    approvals: Sequence[str] = ()


def content(
    name: str,
    diagnostics: Sequence[Diagnostic],
    *,
    files: int,
    specs: int,
    failed: bool,
    annotations_: list[dict[str, Any]],
    plan: PlanText,
    commit: str | None,
) -> Content:
    breaking, approvals = plan.breaking, plan.approvals
    tally, waived = markdown_report.tally(diagnostics)
    title = tally if diagnostics else "All checks passed"
    if breaking:
        title += f"; breaking changes: {breaking}"
    lines = [
        f"**{tally}**{f' ({waived} waived)' if waived else ''} in {plural(files, 'file')}, {plural(specs, 'spec')}."
    ]
    if breaking:
        lines.append(f"\n**Breaking changes:** {breaking}; the pull request comment has the plan.")
    if len(annotations_) < len(diagnostics):
        lines.append(f"\n{len(diagnostics) - len(annotations_)} findings are outside the repository (listed below).")
    lines += [*approvals, ""]
    used = sum(len(line) + 1 for line in lines)
    lines += markdown_report.findings_table(diagnostics, budget=SUMMARY_LIMIT - 500 - used)
    if not diagnostics:
        lines = ["**All checks passed**" + f" in {plural(files, 'file')}, {plural(specs, 'spec')}.", *approvals]
    summary = "\n".join(lines)
    conclusion = "failure" if failed else "success"
    icon = "❌" if failed else "✅"
    body = [
        marker(name),
        f"## {icon} Charter: {md(name)}" if name != "charter" else f"## {icon} Charter",
        "",
        f"**Check:** {tally}{f' ({waived} waived)' if waived else ''} in {plural(files, 'file')}.",
        "",
    ]
    if plan.markdown is not None:
        body.append(plan.markdown.rstrip())
    else:
        body.append(f"_No plan: {md(plan.note or 'no base revision')}_")
    body += approvals
    short = commit[:7] if commit else "?"
    body += ["", f"<sub>charter {md(__version__)} · commit {code(short)}</sub>", ""]
    return Content(name, title[:255], summary[:SUMMARY_LIMIT], conclusion, annotations_, "\n".join(body))
