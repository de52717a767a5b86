"""`charter lsp`: the language server, over stdio, for editors (see README, Editors).

The editor starts it and speaks the Language Server Protocol on its stdin and stdout; the project is the
workspace folder the editor opens. Nothing is written to stdout but the protocol.

The server lives as long as the editor and answers whatever URIs a client names, so it has a memory ceiling
of its own: its address space is capped at start (RLIMIT_AS, `--memory-mb`, 4 GiB by default). Past it an
allocation fails with MemoryError, which fails that one answer or check, not the machine. Only the soft limit
is set, so the policy workers it starts can still take their own (`compiler.stages.policy.sandbox`).
"""

from __future__ import annotations

import argparse
import logging
import resource

from compiler.core import exit_codes

MEMORY_MB = 4096


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
    lsp.add_argument(
        "--memory-mb",
        type=int,
        default=MEMORY_MB,
        metavar="MB",
        help=f"the server's address-space ceiling in MiB (RLIMIT_AS; default: {MEMORY_MB}; 0: the inherited one)",
    )
    lsp.add_argument("--log-level", default="WARNING", help="logging on stderr (default: WARNING)")
    lsp.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from compiler.lsp.server import serve

    logging.basicConfig(level=args.log_level.upper(), format="charter lsp: %(levelname)s %(message)s")
    limit_memory(args.memory_mb)
    serve(debounce=max(args.debounce_ms, 0) / 1000)
    return exit_codes.OK


def limit_memory(megabytes: int) -> None:
    """Cap this process's address space (the soft limit, never above the hard one); 0 or less: leave it."""
    if megabytes <= 0:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = megabytes * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
