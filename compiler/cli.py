"""The `charter` command line. Exit codes: 0 no error, 1 errors found, 2 usage or internal failure."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from compiler import __version__
from compiler.diagnostics import Diagnostic, exit_code, sort_diagnostics
from compiler.reporters import Report, formats

if TYPE_CHECKING:
    from rich.console import Console

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        result: int = args.run(args)
        return result
    except KeyboardInterrupt:
        print("charter: interrupted", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_USAGE
    except Exception as error:
        print(f"charter: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        print("charter: please report this at https://github.com/charter-dev/charter/issues", file=sys.stderr)
        if os.environ.get("CHARTER_DEBUG"):
            raise
        return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="charter",
        description="Govern ML models like code: validate specs, enforce policies, render pipelines.",
    )
    parser.add_argument("--version", action="version", version=f"charter {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser("check", help="load, validate, resolve and evaluate policies; writes nothing")
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="project directories or files")
    _add_output_options(check)
    check.set_defaults(run=_run_check)

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
    explain.add_argument("code", nargs="?", metavar="CODE", help="a code (CH200) or name (unknown-field)")
    explain.add_argument("--list", action="store_true", help="list every code")
    explain.set_defaults(run=_run_explain)

    policy = commands.add_parser("policy", help="policy tools")
    policy_commands = policy.add_subparsers(dest="policy_command", metavar="COMMAND", required=True)
    policy_test = policy_commands.add_parser("test", help="run policy unit tests (cases as data)")
    policy_test.add_argument("directory", nargs="?", default="policies", metavar="DIR")
    policy_test.set_defaults(run=_run_policy_test)

    for name, text in (
        ("build", "check, then render workflows, manifests and model cards"),
        ("plan", "what a change does between two revisions"),
        ("gate", "runtime gates for generated pipelines"),
        ("github", "publish results to a pull request"),
    ):
        later = commands.add_parser(name, help=f"{text} (not available yet)")
        later.add_argument("rest", nargs=argparse.REMAINDER)
        later.set_defaults(run=_not_yet(name))
    return parser


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
    from compiler.pipeline import check_path

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"charter: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    fmt = args.format or "text"
    diagnostics: list[Diagnostic] = []
    sources: dict[str, str] = {}
    files = specs = 0
    with _progress(enabled=_use_color(args) and fmt == "text") as progress:
        for path in args.paths:
            result = check_path(Path(path), progress)
            diagnostics.extend(result.diagnostics)
            sources.update(result.sources)
            files += result.files
            specs += len(result.specs)
    report = Report(
        tuple(sort_diagnostics(diagnostics)),
        files_checked=files,
        specs_checked=specs,
        sources=sources,
        color=_use_color(args) and fmt == "text",
        tool_version=__version__,
    )
    _emit(formats()[fmt](report), args.output)
    return exit_code(diagnostics)


def _emit(text: str, output: str | None) -> None:
    if output:
        from compiler.fsutil import write_atomic

        write_atomic(Path(output), text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


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
    from compiler.scaffold import ScaffoldError, scaffold

    target = Path(args.directory)
    try:
        written = scaffold(target, name=args.name, force=args.force)
    except ScaffoldError as error:
        print(f"charter: {error}", file=sys.stderr)
        return EXIT_USAGE
    for path in written:
        print(f"created {path.as_posix()}")
    print(f"\nNext: charter check {target.as_posix()}")
    return EXIT_OK


def _run_schema(args: argparse.Namespace) -> int:
    from compiler.schema import all_schemas, render, write_schemas

    out = Path(args.out)
    if args.check:
        stale = [
            name
            for name, schema in all_schemas().items()
            if not (out / name).is_file() or (out / name).read_text("utf-8") != render(schema)
        ]
        for name in stale:
            print(f"{(out / name).as_posix()}: stale or missing; run `charter schema --out {out.as_posix()}`")
        return EXIT_FINDINGS if stale else EXIT_OK
    for path in write_schemas(out):
        print(f"wrote {path.as_posix()}")
    return EXIT_OK


def _run_explain(args: argparse.Namespace) -> int:
    from compiler.codes import all_codes, lookup

    if args.list or not args.code:
        for code in all_codes():
            print(f"{code.id}  {code.severity.value:<7}  {code.name:<24}  {code.title}")
        return EXIT_OK
    found = lookup(args.code)
    if found is None:
        from compiler.policy_docs import explain_policy

        text = explain_policy(args.code)
        if text is not None:
            print(text, end="")
            return EXIT_OK
        print(f"charter: unknown code `{args.code}`; `charter explain --list` shows them all", file=sys.stderr)
        return EXIT_USAGE
    print(f"{found.id} {found.name} ({found.severity.value}): {found.title}\n")
    print(found.explanation)
    return EXIT_OK


def _run_policy_test(args: argparse.Namespace) -> int:
    from compiler.policy_test import run_directory

    directory = Path(args.directory)
    if not directory.exists():
        print(f"charter: no such directory: {directory}", file=sys.stderr)
        return EXIT_USAGE
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
    return EXIT_FINDINGS if failed else EXIT_OK


def _not_yet(name: str) -> object:
    def run(args: argparse.Namespace) -> int:
        print(f"charter {name}: not available in this version", file=sys.stderr)
        return EXIT_USAGE

    return run
