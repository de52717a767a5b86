"""`charter github report [PATH]`: registered by `compiler.commands.cli`.

Runs inside GitHub Actions: reads GITHUB_TOKEN, GITHUB_REPOSITORY,
GITHUB_SHA, GITHUB_EVENT_PATH and GITHUB_API_URL (GitHub Enterprise).
Checks the project, plans the pull request against its base, and publishes
one check run (every finding as an annotation) and one summary comment.

Exit codes are the findings', whether or not GitHub could be reached: 0
nothing blocks; 1 an error finding, or a breaking change at or above
`--fail-on`; 2 usage (not in GitHub Actions, no such directory), or a pull
request whose plan cannot be made (its base cannot be read, or the plan
against it fails): the check run then fails, since a plain check would pass
what the plan blocks.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from compiler.commands.common import project_directory
from compiler.core import exit_codes

PREFIX = "charter github report"


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register `github report` on the `charter` subparsers; `run` returns the exit code."""
    github: argparse.ArgumentParser = commands.add_parser("github", help="publish results to a pull request")
    github.set_defaults(run=run)
    sub = github.add_subparsers(dest="github_command", metavar="COMMAND", required=True)
    report = sub.add_parser(
        "report",
        help="a check run with every finding as an annotation, and one summary comment with the plan",
        description=(
            "Inside GitHub Actions: check PATH, plan the pull request against its base, create a check run on "
            "the head commit with every finding as an annotation, and create or update one summary comment on "
            "the pull request. Needs `permissions: checks: write, pull-requests: write`."
        ),
    )
    report.add_argument("path", nargs="?", default=".", metavar="PATH", help="the project directory (default: .)")
    report.add_argument("--base", metavar="REV", help="plan against REV (default: the pull request's base commit)")
    report.add_argument("--pr", type=int, metavar="NUMBER", help="the pull request (default: from the event)")
    report.add_argument("--sha", metavar="SHA", help="commit for the check run (default: the pull request's head)")
    report.add_argument("--name", default="charter", help="the check run's name (default: charter)")
    report.add_argument(
        "--fail-on",
        choices=("error", "warning", "never"),
        default="error",
        help="breaking changes of this severity or worse fail the check (default: error)",
    )
    report.add_argument("--no-comment", action="store_true", help="publish the check run only")
    report.add_argument(
        "--app",
        default="github-actions",
        metavar="SLUG",
        help="the GitHub App whose installation token runs the report: its bot `SLUG[bot]` writes the comment "
        "(default: github-actions, the app of GITHUB_TOKEN); ignored for a user's token",
    )
    report.add_argument("--dry-run", action="store_true", help="print the summary and the comment; send nothing")
    report.add_argument("--retries", type=int, default=5, metavar="N", help="retries on rate limits and 5xx")
    report.add_argument("--backoff", type=float, default=1.0, metavar="SECONDS", help="first retry delay; doubles")
    report.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="per request")
    report.add_argument(
        "--write-interval", type=float, default=1.0, metavar="SECONDS", help="pause between writes (GitHub asks 1s)"
    )
    report.add_argument(
        "--environments",
        action="store_true",
        help="also verify that each Environment's GitHub environment enforces its approvals and branches "
        "(CH445-CH448; needs `permissions: actions: read`)",
    )
    report.set_defaults(handler=run_report)
    from compiler.commands.github_environments import add_environments_parser

    add_environments_parser(sub)
    return github


def run(args: argparse.Namespace) -> int:
    """The subcommand the arguments name."""
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


def _pull_request(event: Mapping[str, Any]) -> tuple[int | None, str | None, str | None]:
    """(number, head sha, base sha) from a pull_request(_target) or issue_comment event."""
    pull = event.get("pull_request")
    if isinstance(pull, dict):
        head, base = pull.get("head"), pull.get("base")
        head_sha = head.get("sha") if isinstance(head, dict) else None
        base_sha = base.get("sha") if isinstance(base, dict) else None
        number = pull.get("number", event.get("number"))
        return (
            number if isinstance(number, int) else None,
            head_sha if isinstance(head_sha, str) else None,
            base_sha if isinstance(base_sha, str) else None,
        )
    issue = event.get("issue")
    if isinstance(issue, dict) and "pull_request" in issue and isinstance(issue.get("number"), int):
        return issue["number"], None, None
    return None, None, None


def run_report(args: argparse.Namespace) -> int:
    from compiler.integrations.github.client import Environment, NotInActions, Settings

    path = project_directory(args.path, PREFIX)
    if path is None:
        return exit_codes.USAGE
    try:
        environment = Environment.from_environ()
    except NotInActions as error:
        if not args.dry_run:
            print(f"{PREFIX}: not running in GitHub Actions: {error}", file=sys.stderr)
            return exit_codes.USAGE
        environment = Environment("", "owner/repo", None, "https://api.github.com", {}, None, "", None)
    settings = Settings(
        retries=max(args.retries, 0),
        backoff=max(args.backoff, 0.0),
        timeout=max(args.timeout, 1.0),
        write_interval=max(args.write_interval, 0.0),
    )
    return _Report(args, path, environment, settings).run()


def _plan_text(plan: Any, note: str | None, approvals: list[str]) -> Any:
    """What the plan adds to the check run and the comment: its Markdown, its breaking changes, the approvals."""
    from compiler.core.diagnostics import Severity
    from compiler.integrations.github import publish

    if plan is None:
        return publish.PlanText(None, note, None, approvals)
    from compiler.plan.report import render_markdown

    # The report shows the approvals itself, once, with who gave them: the plan leaves its own table out.
    markdown = render_markdown(plan, limit=publish.SUMMARY_LIMIT - 5_000, heading="###", approvals=not approvals)
    counts = {s: sum(1 for c in plan.breaking if c.severity is s) for s in Severity}
    breaking = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n) or None
    return publish.PlanText(markdown, note, breaking, approvals)


def evidence_claims(plan: Any, project: Path, root: Path) -> list[Any]:
    """The head's evidence records that the base does not hold as they are, with the workflow that may make them.

    A record the base already holds was judged when it entered the default branch; the workflow comes from the
    base's `outputs.workflows`, so the pull request cannot name another.
    """
    from compiler.core import repofs
    from compiler.integrations.github.evidence_origin import Claim, workflow_path
    from compiler.stages import MAX_FILE_BYTES, gate_workflow

    held = {r.path: r.evidence for entry in plan.base.result.evidence.values() for r in entry.records.values()}
    base_project = plan.base.result.project
    workflows = base_project.spec.outputs.workflows if base_project is not None else ".github/workflows"
    try:
        prefix = project.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        prefix = "."
    sources = plan.head.result.input
    claims = []
    for entry in plan.head.result.evidence.values():
        for gate, record in sorted(entry.records.items()):
            if held.get(record.path) == record.evidence:
                continue
            try:
                text = sources.read(sources.inside(record.path), MAX_FILE_BYTES).decode("utf-8")
            except (repofs.Refused, repofs.TooLarge, OSError, UnicodeDecodeError):
                text = ""  # read once already; if it changed under us, the finding goes at the record's top
            workflow = workflow_path(prefix, workflows, gate_workflow(entry.model, gate))
            claims.append(Claim(record.evidence, record.file, text, workflow))
    return claims


def plan_findings(plan: Any) -> list[Any]:
    """The plan's breaking changes, then the findings of its approval needs it does not list among them."""
    if plan is None:
        return []
    found = list(plan.breaking)
    listed = set(found)
    for need in plan.approvals_needed:
        found += [finding for finding in need.findings if finding not in listed]
    return found


class _Report:
    def __init__(self, args: argparse.Namespace, path: Path, environment: Any, settings: Any) -> None:
        self.args, self.path, self.env, self.settings = args, path, environment, settings
        self.client: Any = None
        self.repo: Any = None

    def say(self, message: str, *, error: bool = False) -> None:
        print(f"{PREFIX}: {self.env.scrub(message)}", file=sys.stderr if error else sys.stdout)

    def github(self) -> Any:
        if self.repo is None:
            from compiler.integrations.github.client import connect

            self.client = connect(self.env, self.settings)
            self.repo = self.client.get_repo(self.env.repository)
        return self.repo

    def run(self) -> int:
        from compiler.core.diagnostics import exit_code
        from compiler.integrations.github import publish
        from compiler.integrations.gitops.git import GitError, Repo
        from compiler.stages import check_path

        number, head_sha, base_sha = _pull_request(self.env.event)
        number = self.args.pr or number
        plan, plan_note, head_sha, unplanned = self.plan(number, head_sha, base_sha)
        result = plan.head.result if plan is not None else check_path(self.path)
        code = plan.exit_code() if plan is not None else exit_code(result.diagnostics)
        if unplanned:
            code = exit_codes.USAGE
        try:
            root = Repo.discover(self.path).root
        except GitError:
            root = Path.cwd()
        approvals, approvals_note = self.approvals(plan, number, head_sha)
        if plan is not None and approvals:
            from compiler.plan.approvals import settle

            plan = settle(plan, approvals)  # an approved governance change is information naming who approved
            code = plan.exit_code()
        unconfirmed = self.evidence_origins(plan, root)  # a record GitHub does not confirm is not evidence
        unconfirmed += self.environments(result)  # approvals the specs promise that GitHub does not enforce
        diagnostics = [*result.diagnostics, *unconfirmed]
        code = code or exit_code(unconfirmed)
        # The plan's findings go on their lines too: a governance change, an approval it needs, who gave it.
        annotations = publish.to_annotations([*diagnostics, *plan_findings(plan)], root)
        content = publish.content(
            self.args.name,
            diagnostics,
            files=result.files,
            specs=result.spec_count,
            failed=bool(code),
            annotations_=annotations,
            plan=_plan_text(plan, plan_note, publish.approvals_section(approvals, approvals_note)),
            commit=head_sha,
        )
        if unplanned:
            content = publish.unplanned(content, plan_note)
        if self.args.dry_run:
            print(f"# check run `{content.name}`: {content.conclusion}, {len(annotations)} annotations")
            print(f"# {content.title}\n\n{content.summary}\n")
            print(content.comment)
            return code
        self.publish(content, head_sha, number)
        return code

    def plan(self, number: int | None, head_sha: str | None, base_sha: str | None) -> tuple[Any, str, str | None, bool]:
        """The plan against the pull request's base, why there is none, the commit for the check run, and whether
        a plan was promised and not made. A pull request is judged by its plan (the base's governance, breaking
        changes): without it a plain check would pass what the plan blocks, so the check run then fails."""
        from compiler.integrations.gitops.git import GitError

        note = "no base revision (not a pull request, and no --base)"
        if number is not None and not self.args.dry_run and (head_sha is None or base_sha is None):
            try:
                pull = self.github().get_pull(number)
                head_sha, base_sha = head_sha or pull.head.sha, base_sha or pull.base.sha
            except Exception as error:  # noqa: BLE001 - reported; the check run fails without the base
                note = f"cannot read pull request #{number}: {self.describe(error)}"
                self.say(note, error=True)
        base = self.args.base or base_sha
        plan = None
        if base:
            from compiler.plan.make import make_plan

            try:
                plan = make_plan(self.path, base, fail_on=self.args.fail_on)
            except GitError as error:
                note = f"cannot plan against `{base}`: {error}"
                self.say(note, error=True)
        promised = bool(base) or (number is not None and not self.args.dry_run)
        return plan, note, self.args.sha or head_sha or self.env.sha, plan is None and promised

    def evidence_origins(self, plan: Any, root: Path) -> list[Any]:
        """Findings for the evidence records the pull request adds or changes that GitHub does not confirm."""
        from compiler.core.diagnostics import Diagnostic
        from compiler.integrations.github.evidence_origin import verify_origins

        claims = evidence_claims(plan, self.path, root) if plan is not None else []
        if not claims:
            return []
        if self.args.dry_run:
            message = "not confirmed: a dry run asks GitHub nothing, and an unconfirmed record is not evidence"
            return [Diagnostic.of("CH853", message, claim.file, line=1, column=1) for claim in claims]
        from compiler.evidence.record import differs_from_report
        from compiler.integrations.github.evidence_origin import Download

        download = Download(self.env.token, self.settings.timeout)
        return verify_origins(claims, self.github(), download, differs_from_report)

    def environments(self, result: Any) -> list[Any]:
        """With --environments: findings for each Environment whose GitHub environment enforces less than it says."""
        if not getattr(self.args, "environments", False) or self.args.dry_run:
            return []
        from compiler.integrations.github.environments import verify, wanted

        return verify(wanted(result.specs), self.github(), self.describe)

    def approvals(self, plan: Any, number: int | None, head_sha: str | None) -> tuple[list[Any], str | None]:
        """The approvals the plan needs, as GitHub's reviews settle them; none settled when GitHub cannot say."""
        from compiler.plan.approvals import Approval

        needed = list(plan.approvals_needed) if plan is not None else []
        if not needed:
            return [], None
        unsettled = [Approval(need) for need in needed]
        if self.args.dry_run:
            return unsettled, "a dry run asks GitHub nothing"
        if number is None or head_sha is None:
            return unsettled, "no pull request to read reviews from"
        from compiler.integrations.github.approvals import Unverifiable, verify

        try:
            pull = self.github().get_pull(number)
            found = verify(needed, pull, self.client, Approval, head_sha=head_sha, repository=self.env.repository)
            return found, None
        except Unverifiable as error:
            cause = error.__cause__ if isinstance(error.__cause__, Exception) else error
            note = f"cannot read the reviews of #{number}: {self.describe(cause)}"
        except Exception as error:  # noqa: BLE001 - fail closed: nothing is settled, and the reason is shown
            note = f"cannot read the reviews of #{number}: {self.describe(error)}"
        self.say(note + "; no approval is counted", error=True)
        return unsettled, note

    def publish(self, content: Any, head_sha: str | None, number: int | None) -> None:
        from compiler.integrations.github import publish

        if head_sha is None:
            self.say("no commit to attach the check run to (GITHUB_SHA is not set, no --sha)", error=True)
        else:
            try:
                details = (
                    f"{self.env.server_url}/{self.env.repository}/actions/runs/{self.env.run_id}"
                    if self.env.run_id
                    else None
                )
                _, requests = publish.publish_check_run(self.github(), head_sha, content, details_url=details)
                self.say(
                    f"check run `{content.name}` on {head_sha[:7]}: {content.conclusion}, "
                    f"{len(content.annotations)} annotations in {requests} requests"
                )
            except Exception as error:  # noqa: BLE001 - GitHub's failures never change the exit code
                self.say(f"no check run: {self.describe(error)}; the exit code is the findings'", error=True)
        if number is None or self.args.no_comment:
            return
        try:
            issue = self.github().get_issue(number)
            identity = publish.token_identity(self.client, self.args.app)
            tag = publish.marker(content.name)
            outcome, ignored = publish.upsert_comment(issue, content.comment, tag, identity)
            self.say(f"summary comment {outcome} on #{number} as {identity.login}")
            if ignored:
                self.say(f"left alone {ignored} comment(s) carrying Charter's marker not written by {identity.login}")
        except Exception as error:  # noqa: BLE001 - as above
            self.say(f"no summary comment: {self.describe(error)}; the exit code is the findings'", error=True)

    def describe(self, error: Exception) -> str:
        import requests
        from github import GithubException, RateLimitExceededException

        if isinstance(error, RateLimitExceededException):
            return f"GitHub's rate limit is exhausted (HTTP {error.status}); try again after it resets"
        if isinstance(error, GithubException):
            data = error.data
            detail = data.get("message") if isinstance(data, dict) else None
            detail = f": {detail}" if detail else ""
            if error.status >= 500:
                return f"GitHub is unavailable at {self.env.api_url} (HTTP {error.status}{detail}), after retries"
            if error.status == 401:
                return f"GitHub refused the token (HTTP 401{detail})"
            if error.status in (403, 404):
                return (
                    f"GitHub refused the request (HTTP {error.status}{detail}); the job needs "
                    "`permissions: {checks: write, pull-requests: write}`"
                )
            return f"GitHub answered HTTP {error.status}{detail}"
        if isinstance(error, requests.exceptions.RequestException):
            reason = str(error)
            for known in ("Connection refused", "Name or service not known", "timed out", "Network is unreachable"):
                if known in reason:
                    reason = known
                    break
            else:
                reason = type(error).__name__
            return f"GitHub is unreachable at {self.env.api_url} ({reason})"
        return f"{type(error).__name__}: {error}"
