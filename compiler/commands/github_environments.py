"""`charter github environments [PATH] [--environment NAME]`: what the specs say about approvals is what GitHub
enforces (compiler.integrations.github.environments). The deploy jobs run it before they touch a cluster.

Exit codes: 0 every GitHub environment enforces what its Environment says; 1 one does not, or GitHub could not
say (fail closed); 2 not in GitHub Actions, or the specs cannot be read, or no Environment of that name.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from compiler.commands.common import project_directory
from compiler.core import exit_codes
from compiler.reporters import choices

PREFIX = "charter github environments"


def add_environments_parser(sub: Any) -> None:
    command = sub.add_parser(
        "environments",
        help="verify that each Environment's GitHub environment enforces its approvals and branches",
        description=(
            "Inside GitHub Actions: for each Environment spec (or the one named by --environment), ask GitHub "
            "whether its GitHub environment exists, requires at least `approvals` reviewers (and prevents "
            "self-review from 2), and, for tier production, deploys only from the default branch. Needs "
            "`permissions: actions: read`."
        ),
    )
    command.add_argument("path", nargs="?", default=".", metavar="PATH", help="the project directory (default: .)")
    command.add_argument("--environment", metavar="NAME", help="only this Environment (a deploy job's own)")
    command.add_argument("--format", choices=choices(), default="text", help="how findings are printed")
    command.set_defaults(handler=run_environments)


def run_environments(args: argparse.Namespace) -> int:
    from compiler.core.diagnostics import exit_code
    from compiler.integrations.github.client import Environment, NotInActions, Settings, connect
    from compiler.integrations.github.environments import verify, wanted
    from compiler.stages import check_path

    path = project_directory(args.path, PREFIX)
    if path is None:
        return exit_codes.USAGE
    try:
        environment = Environment.from_environ()
    except NotInActions as error:
        print(f"{PREFIX}: not running in GitHub Actions: {error}", file=sys.stderr)
        return exit_codes.USAGE
    checked = check_path(path)
    asked = wanted(checked.specs, args.environment)
    if args.environment is not None and not asked:
        print(f"{PREFIX}: no Environment named `{args.environment}` in {args.path}", file=sys.stderr)
        return exit_codes.USAGE
    repo: Any = connect(environment, Settings(retries=3, backoff=1.0)).get_repo(environment.repository)  # type: ignore[attr-defined]
    findings = verify(asked, repo, lambda error: environment.scrub(describe(error)))
    _print(findings, checked, args.format)
    for want in asked:
        if not any(f.file == want.spec.file for f in findings):
            print(f"{PREFIX}: `{want.github_environment}` enforces what Environment `{want.spec.name}` says")
    return exit_code(findings)


def _print(findings: list[Any], checked: Any, form: str) -> None:
    from compiler.reporters import render
    from compiler.reporters.findings import Report

    if findings:
        print(
            render(form, Report(tuple(sorted(findings, key=lambda f: f.sort_key())), sources=checked.sources)), end=""
        )


def describe(error: Exception) -> str:
    """GitHub's failure in a sentence, never with the token."""
    from github import GithubException

    if isinstance(error, GithubException):
        data = error.data
        detail = data.get("message") if isinstance(data, dict) else None
        return f"GitHub answered HTTP {error.status}" + (f": {detail}" if detail else "")
    return f"{type(error).__name__}: {error}"
