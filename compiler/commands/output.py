"""Findings output shared by the commands that check a project (check, build): options, colour, progress.

Every format comes from the one registry (`compiler.reporters`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from compiler import __version__
from compiler.commands.common import emit
from compiler.core.diagnostics import Diagnostic, sort_diagnostics
from compiler.reporters import formats, render
from compiler.reporters.findings import Report

if TYPE_CHECKING:
    from rich.console import Console

    from compiler.reporters.rules import RuleHelp
    from compiler.stages import Checked


def add_output_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--format", "-f", choices=sorted(formats()), default=None, help="output format (default: text)"
    )
    command.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    command.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour in text output")


def use_color(args: argparse.Namespace) -> bool:
    if args.color != "auto":
        return bool(args.color == "always")
    if args.output or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def check_all(args: argparse.Namespace, paths: Sequence[str], *, cached: bool = False) -> list[Checked]:
    from compiler.core.cache import DirectoryStore
    from compiler.stages import check_path

    fmt = args.format or "text"
    with Progress(enabled=use_color(args) and fmt == "text") as progress:
        return [
            check_path(
                Path(path), progress, cache=DirectoryStore(Path(path)) if cached and Path(path).is_dir() else None
            )
            for path in paths
        ]


def report(args: argparse.Namespace, results: Sequence[Checked]) -> None:
    """Every finding of `results` in the chosen format, to `--output` or stdout."""
    from compiler.reporters.rules import rule_help
    from compiler.stages import builtin_packs

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
    findings = Report(
        tuple(sort_diagnostics(diagnostics)),
        files_checked=files,
        specs_checked=specs,
        sources=sources,
        color=use_color(args) and fmt == "text",
        tool_version=__version__,
        rules=rules,
    )
    emit(render(fmt, findings), args.output)


class Progress:
    """A rich progress bar on stderr for long runs on a terminal; nothing otherwise."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self.bar: object | None = None
        self.task: object | None = None

    def __enter__(self) -> Progress:
        return self

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < 200:
            return
        from rich.progress import Progress as Bar

        if self.bar is None:
            bar = Bar(transient=True, console=_stderr_console())
            bar.start()
            self.bar, self.task = bar, bar.add_task("checking specs", total=total)
        assert isinstance(self.bar, Bar)
        self.bar.update(self.task, completed=done)  # type: ignore[arg-type]

    def __exit__(self, *exc: object) -> None:
        from rich.progress import Progress as Bar

        if isinstance(self.bar, Bar):
            self.bar.stop()


def _stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)
