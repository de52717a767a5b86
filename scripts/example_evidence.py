"""Regenerate the examples' evidence: run their gates on data the examples generate, then record the reports.

    python scripts/example_evidence.py            (or `make evidence`)

The data is synthetic and deterministic (compiler/gates/data/synthetic.py: a function of the row
number and a seed): the credit example's applications meet its training contract, its
predictions carry the sensitive features its suite groups by, and the demand example's
forecasts carry the `promo_flag` slice. The gates run exactly as the generated pipelines run
them (`charter gate ... --report`), and `charter evidence record` files each report under
`examples/<example>/evidence/<model>/<version>/`. Run it after a change to an example's
model, suite, contracts or policies (its model card then shows stale evidence), and commit
the records with the cards `make golden` and `charter build` regenerate.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# The synthetic applications' newest date is 2024-06-30: the data gate judges freshness the next morning.
DATA_NOW = "2024-07-01T06:00:00Z"


@dataclass(frozen=True)
class Run:
    """One gate run of an example: the data it generates, and the gate's command line after the project."""

    example: str
    gate: str
    data_file: str
    select: Callable[[], str]
    arguments: tuple[str, ...]


def runs() -> list[Run]:
    from compiler.gates.data import synthetic

    return [
        Run(
            "credit-scoring",
            "data",
            "credit-applications-2024-06.parquet",
            lambda: synthetic.credit_applications(60_000, seed=11),
            ("--contract", "credit-applications", "--model", "credit-default", "--now", DATA_NOW, "--data"),
        ),
        Run(
            "credit-scoring",
            "eval",
            "credit-holdout-predictions.parquet",
            lambda: synthetic.predictions(20_000, seed=7, separation=1.8),
            ("--model", "credit-default", "--predictions"),
        ),
        Run(
            "demand-forecast",
            "eval",
            "sales-backtest-predictions.parquet",
            lambda: synthetic.demand_predictions(8_000, seed=7),
            ("--model", "demand-forecast", "--predictions"),
        ),
    ]


def regenerate(examples: Path = EXAMPLES, only: str | None = None, project: Path | None = None) -> list[str]:
    """Run every gate of the examples under `examples` and record its report; the lines `record` printed.

    `project`: the one example `only` names is this folder instead (a copy the caller changed)."""
    from compiler.commands.cli import main
    from compiler.gates.data import synthetic

    printed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="charter-evidence-") as temporary:
        work = Path(temporary)
        previous = Path.cwd()
        # Inputs are named as the gate was given them: relative names keep the records the same on every machine.
        os.chdir(work)
        try:
            for run in runs():
                if only is not None and run.example != only:
                    continue
                folder = project if project is not None else examples / run.example
                synthetic.write(run.select(), work / run.data_file)
                report = work / f"{run.example}-{run.gate}.json"
                argv = ["gate", run.gate, str(folder), *run.arguments, run.data_file, "--report", str(report)]
                argv += ["--summary", str(report.with_suffix(".md"))]
                _quietly(main, argv, allowed=(0, 1))
                printed += _quietly(main, ["evidence", "record", "--project", str(folder), str(report)], allowed=(0,))
        finally:
            os.chdir(previous)
    return printed


def _quietly(main: Callable[[list[str]], int], argv: list[str], allowed: tuple[int, ...]) -> list[str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    if code not in allowed:
        raise RuntimeError(f"charter {' '.join(argv)} exited {code}:\n{out.getvalue()}{err.getvalue()}")
    return out.getvalue().splitlines()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    for line in regenerate(only=sys.argv[1] if len(sys.argv) > 1 else None):
        print(line)
