"""`charter report [PATH] --out DIR`: write the governance site.

It goes through the same door as `build` (check, then render), so the cards it shows are
the cards `charter build` writes. Findings do not stop it: a site that shows failing
policies is the point. Exit 0 when written, 2 when PATH is not a project or DIR cannot be
written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from compiler.commands.common import project_directory
from compiler.core import exit_codes


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    report = commands.add_parser(
        "report",
        help="write a static governance site: inventory, policy status, waivers, lineage, model cards",
        description="A self-contained static site (inline CSS and SVG, no network) that works from file:// "
        "and on GitHub Pages.",
    )
    report.add_argument("path", nargs="?", default=".", metavar="PATH", help="the project directory")
    report.add_argument("--out", default="site", metavar="DIR", help="where to write the site (default: site)")
    report.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from compiler.core.fsutil import write_atomic
    from compiler.report.pages import site_pages
    from compiler.stages import check_path, current_date, render_outputs

    root = project_directory(args.path, "charter report")
    if root is None:
        return exit_codes.USAGE
    today = current_date()
    result = check_path(root, today=today)
    if result.resolved is None:  # pragma: no cover - check_path always resolves
        return exit_codes.USAGE
    outputs = render_outputs(result.resolved, result.project, today, result.evidence)
    out = Path(args.out)
    try:
        pages = site_pages(result, outputs, today)
        for relative, text in sorted(pages.items()):
            write_atomic(out / relative, text)
    except OSError as error:
        print(f"charter report: cannot write {out}: {error.strerror}", file=sys.stderr)
        return exit_codes.USAGE
    print(f"charter report: wrote {len(pages)} pages to {out.as_posix()}/ (open {out.as_posix()}/index.html)")
    return exit_codes.OK
