"""`charter lsp`: the language server, over stdio, for editors (see README, Editors).

The editor starts it and speaks the Language Server Protocol on its stdin and stdout; the project is the
workspace folder the editor opens. Nothing is written to stdout but the protocol.
"""

from __future__ import annotations

import argparse
import logging

from compiler.core import exit_codes


def add_lsp_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    lsp = commands.add_parser(
        "lsp",
        help="the language server (LSP over stdio): findings, completion, hover and definitions in editors",
        description="Speak the Language Server Protocol on stdin and stdout. Editors start it; see the "
        "README's Editors section for VS Code, Neovim and Helix.",
    )
    lsp.add_argument("--stdio", action="store_true", help="speak over stdio (the default and only transport)")
    lsp.add_argument(
        "--debounce-ms",
        type=int,
        default=0,
        metavar="MS",
        help="wait this long after an edit for the next one before checking (default: 0; edits that arrive "
        "while a check runs are checked together next)",
    )
    lsp.add_argument("--log-level", default="WARNING", help="logging on stderr (default: WARNING)")
    lsp.set_defaults(run=_run_lsp)


def _run_lsp(args: argparse.Namespace) -> int:
    from compiler.lsp.server import serve

    logging.basicConfig(level=args.log_level.upper(), format="charter lsp: %(levelname)s %(message)s")
    serve(debounce=max(args.debounce_ms, 0) / 1000)
    return exit_codes.OK
