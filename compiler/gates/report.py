"""What every gate produces: checks with a status, and the files that show them.

A gate fills a `GateReport` (`compiler.core.gate_report`) with checks, each a finding (`Diagnostic`) with
a CH7xx code and what it measured; `publish` writes, through the reporting
package (`compiler.reporters.gate`), the JSON report (`--report`), the Markdown
summary (`--summary`, and appended to `$GITHUB_STEP_SUMMARY` when that is
set, so it shows on the workflow run page), the PNG chart (`--chart`), and
prints a short text verdict.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from compiler.core.fsutil import write_atomic
from compiler.core.gate_report import GateReport
from compiler.reporters import gate as gate_reporter

__all__ = ["Chart", "publish"]

Chart = Callable[[GateReport, Path], None]


def publish(
    report: GateReport,
    *,
    report_path: str | None,
    summary_path: str | None,
    chart_path: str | None = None,
    chart: Chart | None = None,
    out: TextIO | None = None,
    fmt: str = "text",
) -> int:
    """Write every output the options ask for, and the report in `fmt` on `out`; return the gate's exit code."""
    stream = out or sys.stdout
    if chart_path and chart is not None and report.error is None:
        try:
            chart(report, Path(chart_path))
        except ImportError as error:
            report.notes.append(f"no chart: {error.name or 'matplotlib'} is not installed")
        except Exception as error:  # noqa: BLE001 - a chart must never decide a gate
            report.notes.append(f"no chart: {type(error).__name__}: {error}")
    markdown = gate_reporter.markdown_summary(report)
    if report_path:
        write_atomic(Path(report_path), gate_reporter.json_text(report))
    if summary_path:
        write_atomic(Path(summary_path), markdown)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        try:
            with open(step_summary, "a", encoding="utf-8") as handle:
                handle.write(markdown + "\n")
        except OSError as error:
            print(f"charter gate: cannot append to $GITHUB_STEP_SUMMARY: {error}", file=sys.stderr)
    stream.write(gate_reporter.render(report, fmt))
    stream.flush()
    return report.exit_code
