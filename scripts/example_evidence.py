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
import hashlib
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# The synthetic applications' newest date is 2024-06-30: the data gate judges freshness the next morning.
DATA_NOW = "2024-07-01T06:00:00Z"


@dataclass(frozen=True)
class Run:
    """One gate run of an example: the data it generates, and the gate's command line after the project.

    `server`: the data is the DVC-tracked file of this contract server (its `path` in the example), as `dvc pull`
    would restore it: the script writes the `.dvc` file `dvc add` would (md5 and size of the data), so the record
    carries that data version; without it the data is a file given to the gate."""

    example: str
    gate: str
    data_file: str
    select: Callable[[], str]
    arguments: tuple[str, ...]
    server: str | None = None


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
            ("--model", "credit-default", "--server"),
            server="snapshot",
        ),
        Run(
            "demand-forecast",
            "eval",
            "sales-backtest-predictions.parquet",
            lambda: synthetic.demand_predictions(8_000, seed=7),
            ("--model", "demand-forecast", "--server"),
            server="backtest",
        ),
    ]


def regenerate(examples: Path = EXAMPLES, only: str | None = None, project: Path | None = None) -> list[str]:
    """Run every gate of the examples under `examples` and record its report; the lines `record` printed.

    `project`: the one example `only` names is this folder instead (a copy the caller changed)."""
    from compiler.commands.cli import main
    from compiler.gates.data import synthetic

    printed: list[str] = []
    chosen = [run for run in runs() if only is None or run.example == only]
    with tempfile.TemporaryDirectory(prefix="charter-evidence-") as temporary:
        work = Path(temporary)
        previous = Path.cwd()

        def data_of(run: Run) -> Path:
            folder = project if project is not None else examples / run.example
            return folder / "data" / run.data_file if run.server else work / run.data_file

        # Every DVC file first (a gate judges only a project that checks clean, and a .dvc file is checked).
        for run in chosen:
            synthetic.write(run.select(), data_of(run))
            if run.server:
                _dvc_add(data_of(run))
        # Inputs are named as the gate was given them: relative names keep the records the same on every machine.
        try:
            for run in chosen:
                folder = project if project is not None else examples / run.example
                report = work / f"{run.example}-{run.gate}.json"
                # A server's files are named from the project root the gate was given: `.` keeps them relative.
                argv = [
                    "gate",
                    run.gate,
                    "." if run.server else str(folder),
                    *run.arguments,
                    run.server or run.data_file,
                ]
                argv += ["--report", str(report), "--summary", str(report.with_suffix(".md"))]
                os.chdir(folder if run.server else work)
                _quietly(main, argv, allowed=(0, 1))
                os.chdir(work)
                printed += _quietly(main, ["evidence", "record", "--project", str(folder), str(report)], allowed=(0,))
        finally:
            os.chdir(previous)
            for run in chosen:  # DVC's data, not git's: only its .dvc file stays in the example
                data_of(run).unlink(missing_ok=True)
    return printed


# How each example's version was trained (the W&B artifact its training logged) and the MLflow UI its card links.
REGISTRATIONS = {
    "credit-scoring": ("credit-default", "wandb-artifact://acme-bank/credit-default/credit-default-model:v32"),
    "demand-forecast": ("demand-forecast", "wandb-artifact://acme-retail/demand-forecast/demand-forecast-model:v14"),
}
MLFLOW_UI = {
    "credit-scoring": "https://mlflow.acme-bank.example",
    "demand-forecast": "https://mlflow.acme-retail.example",
}
MLFLOW = ROOT / ".venv-mlflow" / "bin" / "mlflow"


def register(examples: Path = EXAMPLES, only: str | None = None) -> list[str]:
    """Register each example's version in a real MLflow registry (a fresh `mlflow server`, so version 1) with
    `charter model register --record`: the registration record its card shows. Needs `make mlflow`."""
    from compiler.commands.cli import main

    printed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="charter-mlflow-") as home, mlflow_server(Path(home)) as uri:
        previous = os.environ.get("MLFLOW_TRACKING_URI")
        os.environ["MLFLOW_TRACKING_URI"] = uri
        try:
            for example, (model, run) in sorted(REGISTRATIONS.items()):
                if only is not None and example != only:
                    continue
                argv = ["model", "register", "--model", model, "--project", str(examples / example), "--record"]
                printed += _quietly(main, [*argv, "--run", run, "--ui", MLFLOW_UI[example]], allowed=(0,))
        finally:
            os.environ.pop("MLFLOW_TRACKING_URI")
            if previous is not None:
                os.environ["MLFLOW_TRACKING_URI"] = previous
    return printed


@contextlib.contextmanager
def mlflow_server(home: Path, mlflow: Path = MLFLOW) -> Iterator[str]:
    """`mlflow server` on SQLite and a local artifact root, on a free port of 127.0.0.1, until the block ends
    (tests/test_mlflow_registry.py serves its tests from the same)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [str(mlflow), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    command += ["--backend-store-uri", f"sqlite:///{home}/mlflow.db", "--default-artifact-root", str(home / "art")]
    with (home / "server.log").open("wb") as log:
        # A session of its own: `mlflow server` runs gunicorn as a child, which outlived a terminated parent.
        server = subprocess.Popen(command, cwd=home, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("mlflow server did not start: " + (home / "server.log").read_text("utf-8")[-2000:])
        yield uri
    finally:
        _stop_group(server)


def _stop_group(server: subprocess.Popen[bytes]) -> None:
    """The server and every process of its session (gunicorn and its workers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)  # what SIGTERM left, gunicorn's workers among them


def _dvc_add(data: Path) -> None:
    """Write `<data>.dvc` as `dvc add` writes it (DVC 3: the md5 and size of the file, beside it), and the
    `.gitignore` that keeps the data itself out of git."""
    md5 = hashlib.md5(data.read_bytes(), usedforsecurity=False).hexdigest()
    size = data.stat().st_size
    text = f"outs:\n- md5: {md5}\n  size: {size}\n  hash: md5\n  path: {data.name}\n"
    data.with_name(data.name + ".dvc").write_text(text, "utf-8")
    ignore = data.parent / ".gitignore"
    lines = ignore.read_text("utf-8").splitlines() if ignore.is_file() else []
    if f"/{data.name}" not in lines:
        ignore.write_text("\n".join([*lines, f"/{data.name}"]) + "\n", "utf-8")


def _quietly(main: Callable[[list[str]], int], argv: list[str], allowed: tuple[int, ...]) -> list[str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    if code not in allowed:
        raise RuntimeError(f"charter {' '.join(argv)} exited {code}:\n{out.getvalue()}{err.getvalue()}")
    return out.getvalue().splitlines()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    chosen = sys.argv[1] if len(sys.argv) > 1 else None
    for line in regenerate(only=chosen) + register(only=chosen):
        print(line)
