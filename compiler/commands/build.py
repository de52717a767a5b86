"""`charter build [PATH]`: check, then render and write the workflows, manifests and model cards.

Exit codes: 0 written (or, with `--check`, every generated file current); 1 errors, or files that need a
build; 2 usage, or a write that stopped half-way (what was written is recorded by the next build).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from compiler.commands.common import project_directory
from compiler.commands.output import add_output_options, check_all, report
from compiler.core import exit_codes
from compiler.core.diagnostics import Diagnostic, exit_code, sort_diagnostics
from compiler.reporters import render
from compiler.reporters.build import BuildText, checked, written
from compiler.reporters.findings import Report

if TYPE_CHECKING:
    from compiler.stages import Checked


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    build = commands.add_parser("build", help="check, then render workflows, manifests and model cards")
    build.add_argument("path", nargs="?", default=".", metavar="PATH", help="the project directory")
    build.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a generated file is missing, stale or edited"
    )
    build.add_argument("--no-diff", action="store_true", help="with --check: list files without their diffs")
    add_output_options(build)


def run(args: argparse.Namespace) -> int:
    from compiler.core import installed, repofs
    from compiler.stages import apply, build, current_date, plan_writes

    root = project_directory(args.path, "charter")
    if root is None:
        return exit_codes.USAGE
    (checked_project,) = check_all(args, [args.path])
    result, outputs = build(checked_project, current_date(), installed.running(), root)
    if exit_code(result.diagnostics) or args.format:
        report(args, [result])
    else:  # the check's warnings are `charter check`'s to show; the build's own are shown here
        _report_pin_findings(args, result)
    if exit_code(result.diagnostics):
        print("charter build: nothing written: fix the errors above first", file=sys.stderr)
        return exit_codes.FINDINGS
    build_plan = plan_writes(result, outputs, root)
    if build_plan.findings:
        _report_build_findings(args, result, build_plan.findings)
    if args.check:
        return _print(checked(_display_root(root), build_plan, diffs=not args.no_diff))
    try:
        apply(root, outputs, build_plan)
    except repofs.Refused as refused:  # a link appeared between the plan and the write
        print(f"charter build: {refused.relative}: not written: {refused.reason}", file=sys.stderr)
        return exit_codes.FINDINGS
    except OSError as error:  # a full disk, a read-only file system: what was written is recorded next time
        where = f"{error.filename}: " if error.filename else ""
        print(
            f"charter build: stopped: {where}{error.strerror or error}; files already written keep their new "
            "bytes, and the next `charter build` records them (`build --check` lists what is not recorded)",
            file=sys.stderr,
        )
        return exit_codes.USAGE
    return _print(written(_display_root(root), len(outputs), build_plan))


def _print(text: BuildText) -> int:
    sys.stdout.write(text.out)
    sys.stdout.flush()
    sys.stderr.write(text.err)
    sys.stdout.write(text.summary)
    return exit_codes.FINDINGS if text.failed else exit_codes.OK


def _report_pin_findings(args: argparse.Namespace, result: Checked) -> None:
    """The build's own warnings on stderr: CH440 (another Charter renders), CH442 (GitHub will not read)."""
    pins = tuple(finding for finding in result.diagnostics if finding.code in ("CH440", "CH442"))
    if pins:
        findings = Report(
            pins, files_checked=result.files, specs_checked=result.spec_count, sources=dict(result.sources), color=False
        )
        sys.stderr.write(render("github" if args.format == "github" else "text", findings))


def _report_build_findings(args: argparse.Namespace, result: Checked, findings: list[Diagnostic]) -> None:
    from compiler.core.sources import display_path

    located = [finding.with_changes(file=display_path(result.root / finding.file)) for finding in findings]
    refused = Report(tuple(sort_diagnostics(located)), files_checked=0, specs_checked=0, sources={}, color=False)
    sys.stderr.write(render(args.format if args.format in ("text", "github") else "text", refused))


def _display_root(root: Path) -> str:
    from compiler.core.sources import display_path

    shown = display_path(root)
    return "" if shown in ("", ".") else shown.rstrip("/") + "/"
