"""`charter plan [PATH] --base REV [--head REV]`: registered by `compiler.commands.cli`.

Exit codes: 0 nothing blocks; 1 the head revision has an error finding, or a
breaking change at or above `--fail-on` (default: error); 2 usage or git
failure (not a repository, an unknown revision).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from compiler.commands.common import emit, project_directory
from compiler.core import exit_codes


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register `plan` on the `charter` subparsers; `run` returns the exit code."""
    plan: argparse.ArgumentParser = commands.add_parser(
        "plan",
        help="what a change does between two revisions",
        description=(
            "Compare the specs at --base with --head (default: the working tree): specs added, removed and "
            "changed, findings new, fixed and still there, generated files that change (as a diff), and "
            "breaking changes with their severity and the people they concern. Reads git objects; checks "
            "nothing out."
        ),
    )
    plan.add_argument("path", nargs="?", default=".", metavar="PATH", help="the project directory (default: .)")
    plan.add_argument("--base", required=True, metavar="REV", help="the revision to compare with (HEAD~1, main...)")
    plan.add_argument("--head", metavar="REV", help="the revision to compare (default: the working tree)")
    plan.add_argument(
        "--tip",
        action="store_true",
        help="compare with --base itself; by default with the merge base of --base and --head (HEAD for the "
        "working tree), so that what --base gained since the branch left it is not counted as the change",
    )
    plan.add_argument("--format", "-f", choices=_formats(), default="text", help="output format")
    plan.add_argument("--output", "-o", metavar="FILE", help="write the plan to FILE instead of stdout")
    plan.add_argument(
        "--fail-on",
        choices=("error", "warning", "never"),
        default="error",
        help="exit 1 on breaking changes of this severity or worse (default: error)",
    )
    plan.add_argument("--no-diff", action="store_true", help="list generated files without their diffs")
    plan.set_defaults(run=run)
    return plan


def run(args: argparse.Namespace) -> int:
    from compiler.integrations.gitops.git import GitError, Repo
    from compiler.plan.make import make_plan
    from compiler.plan.report import render

    path = project_directory(args.path, "charter plan")
    if path is None:
        return exit_codes.USAGE
    try:
        base = args.base if args.tip else Repo.discover(path).merge_base(args.base, args.head or "HEAD")
        plan = make_plan(path, base, args.head, fail_on=args.fail_on)
        if not args.tip:
            plan.base_rev = f"merge base with {args.base}"
    except GitError as error:
        print(f"charter plan: {error}", file=sys.stderr)
        return exit_codes.USAGE
    text = render(plan, args.format, diffs=not args.no_diff)
    emit(text, args.output)
    return plan.exit_code()


def _formats() -> list[str]:
    """The plan's own formats (text, JSON, Markdown) and, for its findings, every other format of the registry."""
    from compiler.plan.formats import OWN_FORMATS
    from compiler.reporters import choices

    return choices(OWN_FORMATS)
