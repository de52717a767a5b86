"""The `charter` command line.

Exit codes (`compiler.core.exit_codes`): 0 no error, 1 errors, 2 usage or internal failure.
"""

from __future__ import annotations

import argparse
import io
import os
import posixpath
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from compiler import __version__
from compiler.commands.common import emit, project_directory
from compiler.core import exit_codes
from compiler.core.diagnostics import Diagnostic, exit_code, sort_diagnostics
from compiler.reporters import Report, formats

if TYPE_CHECKING:
    from rich.console import Console

    from compiler.reporters.rules import RuleHelp
    from compiler.stages.emit import Plan
    from compiler.stages.pipeline import Checked
    from compiler.stages.render import Output


def main(argv: Sequence[str] | None = None) -> int:
    _utf8_output()
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return exit_codes.USAGE
    try:
        result: int = args.run(args)
        return result
    except KeyboardInterrupt:
        print("charter: interrupted", file=sys.stderr)
        return exit_codes.USAGE
    except BrokenPipeError:
        return exit_codes.USAGE
    except Exception as error:
        print(f"charter: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        print("charter: please report this at https://github.com/charter-dev/charter/issues", file=sys.stderr)
        if os.environ.get("CHARTER_DEBUG"):
            raise
        return exit_codes.USAGE


def _utf8_output() -> None:
    """UTF-8 on stdout and stderr whatever the locale: the same bytes on every machine, and a spec's non-ASCII
    text never ends a run with UnicodeEncodeError under a Latin-1 or ASCII locale (issue 22)."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if isinstance(stream, io.TextIOWrapper) and encoding != "utf8":
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")


class _Version(argparse.Action):
    """`charter --version`: the version, and the commit when the installation records one (read only when asked)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from compiler.core import installed

        print(installed.running().describe())  # on stdout, as argparse's own `version` action does
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="charter",
        description="Govern ML models like code: validate specs, enforce policies, render pipelines.",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and commit, then exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_check_and_build(commands)
    _add_tools(commands)

    from compiler.commands.contract import add_contract_parser
    from compiler.commands.evidence import add_evidence_parser
    from compiler.commands.gate import add_gate_parser
    from compiler.commands.github import add_github_parser
    from compiler.commands.lsp import add_lsp_parser
    from compiler.commands.model import add_model_parser
    from compiler.commands.plan import add_plan_parser
    from compiler.commands.report import add_report_parser

    add_plan_parser(commands)
    add_github_parser(commands)
    add_contract_parser(commands)
    add_evidence_parser(commands)
    add_model_parser(commands)
    add_report_parser(commands)
    add_gate_parser(commands)
    add_lsp_parser(commands)
    return parser


def _add_check_and_build(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    check = commands.add_parser("check", help="load, validate, resolve and evaluate policies; writes nothing")
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="project directories or files")
    _add_output_options(check)
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
    check.set_defaults(run=_run_check)
    build = commands.add_parser("build", help="check, then render workflows, manifests and model cards")
    build.add_argument("path", nargs="?", default=".", metavar="PATH", help="the project directory")
    build.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a generated file is missing, stale or edited"
    )
    build.add_argument("--no-diff", action="store_true", help="with --check: list files without their diffs")
    _add_output_options(build)
    build.set_defaults(run=_run_build)


def _add_tools(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    init = commands.add_parser("init", help="scaffold a working project")
    init.add_argument("directory", nargs="?", default=".", metavar="DIR")
    init.add_argument("--name", help="project name (default: the directory's name)")
    init.add_argument("--force", action="store_true", help="overwrite existing files")
    init.set_defaults(run=_run_init)

    schema = commands.add_parser("schema", help="write the JSON Schemas of every spec kind")
    schema.add_argument("--out", default="schemas", metavar="DIR", help="output directory (default: schemas)")
    schema.add_argument("--check", action="store_true", help="write nothing; exit 1 if DIR is stale")
    schema.set_defaults(run=_run_schema)

    explain = commands.add_parser("explain", help="what a diagnostic code means and how to fix it")
    explain.add_argument(
        "code",
        nargs="?",
        metavar="CODE",
        help="a code (CH200) or its name (unknown-field), a built-in policy, POLICY/RULE, or a rule's name",
    )
    explain.add_argument("--list", action="store_true", help="list every code")
    explain.add_argument(
        "--project",
        default=".",
        metavar="DIR",
        help="the project whose own policies are explained too (default: the current directory)",
    )
    explain.set_defaults(run=_run_explain)

    policy = commands.add_parser("policy", help="policy tools")
    policy_commands = policy.add_subparsers(dest="policy_command", metavar="COMMAND", required=True)
    policy_test = policy_commands.add_parser("test", help="run policy unit tests (cases as data)")
    policy_test.add_argument("directory", nargs="?", default="policies", metavar="DIR")
    policy_test.set_defaults(run=_run_policy_test)


def _add_output_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--format", "-f", choices=sorted(formats()), default=None, help="output format (default: text)"
    )
    command.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    command.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour in text output")


def _use_color(args: argparse.Namespace) -> bool:
    if args.color != "auto":
        return bool(args.color == "always")
    if args.output or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def _run_check(args: argparse.Namespace) -> int:
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"charter: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return exit_codes.USAGE
    # --changed-since reads the whole project's graph, which a cached check does not build.
    results = _check_all(args, args.paths, cached=not (args.no_cache or args.changed_since))
    if args.changed_since:
        from compiler.integrations.gitops.git import GitError
        from compiler.integrations.gitops.scope import restrict_to_changes

        try:
            results = [_judged_by_base(restrict_to_changes(result, args.changed_since), args) for result in results]
        except GitError as error:
            print(f"charter check: {error}", file=sys.stderr)
            return exit_codes.USAGE
    _report(args, results)
    return exit_code([d for result in results for d in result.diagnostics])


def _judged_by_base(result: Checked, args: argparse.Namespace) -> Checked:
    """The base decides: the change since REV is also judged by REV's governance (`compiler.plan.offline`)."""
    from dataclasses import replace

    from compiler.plan.offline import base_decides
    from compiler.stages.pipeline import current_date

    governance = base_decides(result.root, args.changed_since, current_date())
    return replace(result, diagnostics=sort_diagnostics([*result.diagnostics, *governance]))


def _check_all(args: argparse.Namespace, paths: Sequence[str], *, cached: bool = False) -> list[Checked]:
    from compiler.core.cache import DirectoryStore
    from compiler.stages.pipeline import check_path

    fmt = args.format or "text"
    with _progress(enabled=_use_color(args) and fmt == "text") as progress:
        return [
            check_path(
                Path(path), progress, cache=DirectoryStore(Path(path)) if cached and Path(path).is_dir() else None
            )
            for path in paths
        ]


def _report(args: argparse.Namespace, results: Sequence[Checked]) -> None:
    from compiler.reporters.rules import rule_help
    from compiler.stages.packs import builtin_packs

    fmt = args.format or "text"
    diagnostics: list[Diagnostic] = []
    sources: dict[str, str] = {}
    rules: dict[str, RuleHelp] = {}
    files = specs = 0
    for result in results:
        diagnostics.extend(result.diagnostics)
        sources.update(result.sources)
        rules.update(rule_help(result.policies, builtin_packs()))
        files += result.files
        specs += result.spec_count
    report = Report(
        tuple(sort_diagnostics(diagnostics)),
        files_checked=files,
        specs_checked=specs,
        sources=sources,
        color=_use_color(args) and fmt == "text",
        tool_version=__version__,
        rules=rules,
    )
    emit(formats()[fmt](report), args.output)


def _run_build(args: argparse.Namespace) -> int:
    from compiler.core import installed, repofs
    from compiler.stages import emit
    from compiler.stages.pipeline import build, current_date

    root = project_directory(args.path, "charter")
    if root is None:
        return exit_codes.USAGE
    (checked,) = _check_all(args, [args.path])
    result, outputs = build(checked, current_date(), installed.running(), root)
    if exit_code(result.diagnostics) or args.format:
        _report(args, [result])
    else:  # the check's warnings are `charter check`'s to show; the build's own are shown here
        _report_pin_findings(args, result)
    if exit_code(result.diagnostics):
        print("charter build: nothing written: fix the errors above first", file=sys.stderr)
        return exit_codes.FINDINGS
    build_plan = emit.plan(root, outputs, _output_dirs(result), _allow_extra(result))
    if build_plan.findings:
        _report_build_findings(args, result, build_plan.findings)
    if args.check:
        return _report_check(args, root, build_plan)
    try:
        emit.apply(root, outputs, build_plan)
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
    return _report_written(root, outputs, build_plan)


def _output_dirs(result: Checked) -> list[str]:
    from compiler.core.models.project import Outputs
    from compiler.stages.ownership import output_directories

    return output_directories(result.project.spec.outputs if result.project else Outputs())


def _allow_extra(result: Checked) -> list[str]:
    return list(result.project.spec.outputs.allow_extra) if result.project else []


def _report_pin_findings(args: argparse.Namespace, result: Checked) -> None:
    """The build's own warnings on stderr: CH440 (another Charter renders), CH442 (GitHub will not read)."""
    pins = tuple(finding for finding in result.diagnostics if finding.code in ("CH440", "CH442"))
    if pins:
        report = Report(
            pins, files_checked=result.files, specs_checked=result.spec_count, sources=dict(result.sources), color=False
        )
        sys.stderr.write(formats()["github" if args.format == "github" else "text"](report))


def _report_build_findings(args: argparse.Namespace, result: Checked, findings: list[Diagnostic]) -> None:
    from compiler.core.sources import display_path

    located = [finding.with_changes(file=display_path(result.root / finding.file)) for finding in findings]
    report = Report(tuple(sort_diagnostics(located)), files_checked=0, specs_checked=0, sources={}, color=False)
    fmt = args.format if args.format in ("text", "github") else "text"
    sys.stderr.write(formats()[fmt](report))


def _problems(root: Path, build_plan: Plan) -> list[str]:
    shown = _display_root(root)
    return [
        *(f"{shown}{path}: missing" for path in build_plan.create),
        *(f"{shown}{path}: stale (its specs changed); run `charter build`" for path in build_plan.update),
        *(f"{shown}{path}: edited by hand; change the spec instead" for path in build_plan.edited),
        *(f"{shown}{path}: left behind by a deleted spec" for path in build_plan.remove),
        *(f"{shown}{path}: left behind by a deleted spec, and edited by hand" for path in build_plan.kept),
        *(f"{shown}{path}: exists but was not generated by charter; move it away" for path in build_plan.foreign),
        *(f"{shown}{path}: left by an interrupted build; `charter build` removes it" for path in build_plan.leftovers),
        *(
            f"{shown}{path}: current, but not in the manifest; `charter build` records it"
            for path in build_plan.unrecorded
        ),
    ]


def _report_check(args: argparse.Namespace, root: Path, build_plan: Plan) -> int:
    problems = _problems(root, build_plan)
    for line in problems:
        print(line)
    if not args.no_diff:
        for path in sorted(build_plan.diffs):
            sys.stdout.write(build_plan.diffs[path])
    if build_plan.clean:
        print(f"charter build --check: {len(build_plan.unchanged)} generated files are current.")
        return exit_codes.OK
    unowned = sum(1 for finding in build_plan.findings if finding.code in ("CH830", "CH831"))
    count = len(problems) + len(build_plan.findings) - unowned
    parts = [f"{count} generated files need `charter build`"] if count else []
    if unowned:
        parts.append(f"{unowned} files in the output directories are not Charter's: move them away")
    print(f"charter build --check: {'; '.join(parts)}.")
    return exit_codes.FINDINGS


def _report_written(root: Path, outputs: Sequence[Output], build_plan: Plan) -> int:
    shown = _display_root(root)
    removed = build_plan.remove + build_plan.leftovers
    for verb, paths in (("created", build_plan.create), ("updated", build_plan.update), ("removed", removed)):
        for path in paths:
            print(f"{verb} {posixpath.normpath(shown + path)}")  # ml/../.github/workflows/x: .github/workflows/x
    left = [
        *(f"{path} was edited by hand; left untouched (delete it to regenerate it)" for path in build_plan.edited),
        *(f"{path} is left behind and was edited by hand; left untouched" for path in build_plan.kept),
        *(f"{path} exists but was not generated by charter; left untouched" for path in build_plan.foreign),
    ]
    for line in left:
        print(f"charter build: {shown}{line}", file=sys.stderr)
    print(
        f"charter build: {len(outputs)} files, {len(build_plan.create) + len(build_plan.update)} written, "
        f"{len(build_plan.remove)} removed, {len(build_plan.unchanged)} unchanged."
    )
    return exit_codes.FINDINGS if left or build_plan.findings else exit_codes.OK


def _display_root(root: Path) -> str:
    from compiler.core.sources import display_path

    shown = display_path(root)
    return "" if shown in ("", ".") else shown.rstrip("/") + "/"


class _progress:
    """A rich progress bar on stderr for long runs on a terminal; nothing otherwise."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self.bar: object | None = None
        self.task: object | None = None

    def __enter__(self) -> _progress:
        return self

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < 200:
            return
        from rich.progress import Progress

        if self.bar is None:
            bar = Progress(transient=True, console=_stderr_console())
            bar.start()
            self.bar, self.task = bar, bar.add_task("checking specs", total=total)
        assert isinstance(self.bar, Progress)
        self.bar.update(self.task, completed=done)  # type: ignore[arg-type]

    def __exit__(self, *exc: object) -> None:
        from rich.progress import Progress

        if isinstance(self.bar, Progress):
            self.bar.stop()


def _stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def _run_init(args: argparse.Namespace) -> int:
    from compiler.commands.scaffold import ScaffoldError, scaffold

    target = Path(args.directory)
    try:
        written = scaffold(target, name=args.name, force=args.force)
    except ScaffoldError as error:
        print(f"charter: {error}", file=sys.stderr)
        return exit_codes.USAGE
    for path in written:
        print(f"created {path.as_posix()}")
    print(f"\nNext: charter check {shlex.quote(target.as_posix())}")
    return exit_codes.OK


def _run_schema(args: argparse.Namespace) -> int:
    from compiler.commands.schema import all_schemas, render, write_schemas

    out = Path(args.out)
    if args.check:
        stale = [
            name
            for name, schema in all_schemas().items()
            if not (out / name).is_file() or (out / name).read_text("utf-8") != render(schema)
        ]
        for name in stale:
            print(f"{(out / name).as_posix()}: stale or missing; run `charter schema --out {out.as_posix()}`")
        return exit_codes.FINDINGS if stale else exit_codes.OK
    for path in write_schemas(out):
        print(f"wrote {path.as_posix()}")
    return exit_codes.OK


def _run_explain(args: argparse.Namespace) -> int:
    from compiler.commands.explain import run_explain

    return run_explain(args)


def _run_policy_test(args: argparse.Namespace) -> int:
    from compiler.commands.policy_test import run_directory

    directory = Path(args.directory)
    if not directory.exists():
        print(f"charter: no such directory: {directory}", file=sys.stderr)
        return exit_codes.USAGE
    passed = failed = 0
    for case in run_directory(directory):
        if case.passed:
            passed += 1
            continue
        failed += 1
        print(f"{case.file}:{case.line}: FAIL [{case.policy}] {case.case}")
        for label, items in (("problem", case.problems), ("missing", case.missing), ("unexpected", case.unexpected)):
            for item in items:
                print(f"    {label}: {item}")
    print(f"{passed} passed, {failed} failed")
    return exit_codes.FINDINGS if failed else exit_codes.OK
