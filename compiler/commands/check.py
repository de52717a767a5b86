"""`charter check [PATH...]`: every finding of each project; writes nothing.

Exit codes: 0 no error finding, 1 errors, 2 usage (a path that does not exist, an unknown revision).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from compiler.commands.output import add_output_options, check_all, report
from compiler.core import exit_codes
from compiler.core.diagnostics import exit_code, sort_diagnostics

if TYPE_CHECKING:
    from compiler.stages import Checked


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    check = commands.add_parser("check", help="load, validate, resolve and evaluate policies; writes nothing")
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="project directories or files")
    add_output_options(check)
    check.add_argument(
        "--no-cache",
        action="store_true",
        help="check every file afresh, ignoring and leaving alone the results kept in .charter/cache/",
    )
    check.add_argument(
        "--changed-since",
        metavar="REV",
        help="report only on what changed since REV and what refers to it (the check itself runs in full)",
    )


def run(args: argparse.Namespace) -> int:
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"charter: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return exit_codes.USAGE
    # --changed-since reads the whole project's graph, which a cached check does not build.
    results = check_all(args, args.paths, cached=not (args.no_cache or args.changed_since))
    if args.changed_since:
        from compiler.integrations.gitops.git import GitError
        from compiler.integrations.gitops.scope import restrict_to_changes

        try:
            results = [_judged_by_base(restrict_to_changes(result, args.changed_since), args) for result in results]
        except GitError as error:
            print(f"charter check: {error}", file=sys.stderr)
            return exit_codes.USAGE
    results = [_with_registry(result) for result in results]
    report(args, results)
    return exit_code([d for result in results for d in result.diagnostics])


def _with_registry(result: Checked) -> Checked:
    """With MLFLOW_TRACKING_URI (in CI): what each environment serves is the registered version with its evidence."""
    from dataclasses import replace

    from compiler.integrations.mlflow.served import served_findings

    found = served_findings(result)
    return replace(result, diagnostics=sort_diagnostics([*result.diagnostics, *found])) if found else result


def _judged_by_base(result: Checked, args: argparse.Namespace) -> Checked:
    """The base decides: the change since REV is also judged by REV's governance (`compiler.plan.offline`)."""
    from dataclasses import replace

    from compiler.plan.offline import base_decides
    from compiler.stages import current_date

    governance = base_decides(result.root, args.changed_since, current_date())
    return replace(result, diagnostics=sort_diagnostics([*result.diagnostics, *governance]))
