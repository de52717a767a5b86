"""The `charter` command line: the door to the commands, one module each under `compiler/commands/`.

Each command module has `add_parser(subparsers)` and `run(args) -> exit code`; this module only parses the
arguments, runs the command they name, and turns an interruption or a bug into exit code 2.
Exit codes (`compiler.core.exit_codes`): 0 no error, 1 errors, 2 usage or internal failure.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from compiler.commands import (
    build,
    check,
    contract,
    deploy,
    evidence,
    explain,
    gate,
    github,
    init,
    lsp,
    model,
    plan,
    policy,
    report,
    schema,
)
from compiler.core import exit_codes

COMMANDS: dict[str, ModuleType] = {
    "check": check,
    "build": build,
    "init": init,
    "schema": schema,
    "explain": explain,
    "policy": policy,
    "plan": plan,
    "github": github,
    "contract": contract,
    "evidence": evidence,
    "model": model,
    "report": report,
    "gate": gate,
    "deploy": deploy,
    "lsp": lsp,
}
"""Every command, in the order `charter --help` lists them."""


def main(argv: Sequence[str] | None = None) -> int:
    _utf8_output()
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return exit_codes.USAGE
    try:
        result: int = COMMANDS[args.command].run(args)
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
    for command in COMMANDS.values():
        command.add_parser(commands)
    return parser
