"""`charter init [DIR]`: scaffold a working project (`compiler.scaffold`).

Exit codes: 0 written; 2 the directory holds files it would overwrite (without `--force`), or a bad name.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from compiler.core import exit_codes


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    init = commands.add_parser("init", help="scaffold a working project")
    init.add_argument("directory", nargs="?", default=".", metavar="DIR")
    init.add_argument("--name", help="project name (default: the directory's name)")
    init.add_argument("--force", action="store_true", help="overwrite existing files")


def run(args: argparse.Namespace) -> int:
    from compiler.scaffold.project import ScaffoldError, scaffold

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
