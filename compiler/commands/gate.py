"""`charter gate data|eval|drift`: the command line of the runtime gates.

`add_parser` registers the `gate` command on the main parser; each
subcommand's `run` returns the exit code: 0 pass, 1 fail (or no verdict),
2 unusable input. DuckDB, NumPy and Matplotlib are imported only when a gate
runs, so `charter check` stays fast and works without the `gates` extra.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from compiler.core.exit_codes import UNUSABLE
from compiler.reporters import choices
from compiler.reporters.gate import OWN_FORMATS

if TYPE_CHECKING:
    from compiler.core.gate_report import GateReport
    from compiler.gates.project import ProjectSpecs
    from compiler.gates.report import Chart

GATES_EXTRA = "pip install 'charter[gates]'"
_REQUIRED_MODULES = ("duckdb", "numpy")


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    gate = commands.add_parser(
        "gate",
        help="runtime gates that generated pipelines call: data, eval, drift",
        description="Judge real files against the project's specs. Exit codes: 0 pass, 1 fail, 2 unusable input.",
    )
    gate.set_defaults(run=run)
    gates = gate.add_subparsers(dest="gate_command", metavar="GATE", required=True)
    _add_data(gates)
    _add_eval(gates)
    _add_drift(gates)


def run(args: argparse.Namespace) -> int:
    """The subcommand the arguments name."""
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


def _add_data(gates: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    data = gates.add_parser(
        "data",
        help="check CSV or Parquet data against its ODCS data contract",
        description="Columns and logical types, required, unique, allowed values, the contract's quality rules "
        "and freshness, on CSV, Parquet or a folder of Parquet parts, in bounded memory.",
    )
    _project(data)
    data.add_argument("--contract", required=True, metavar="NAME", help="the contract's id or name")
    data.add_argument(
        "--model",
        metavar="NAME",
        help="the Model whose data this is: the report is then evidence of that model's version",
    )
    data.add_argument("--contract-version", metavar="VERSION", help="when several versions share the id")
    data.add_argument("--table", metavar="NAME", help="the contract table the data holds (when it has several)")
    data.add_argument("--data", nargs="+", metavar="FILE", help="CSV or Parquet files, or a folder of parts")
    _server(data, "--server", "the contract's server (`servers[].server`) that holds the data")
    data.add_argument("--now", metavar="TIME", help="ISO 8601 time to judge freshness at (default: now, UTC)")
    _outputs(data, summary_default=None)
    data.set_defaults(handler=_run_data)


def _add_eval(gates: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    evaluate = gates.add_parser(
        "eval",
        help="performance and fairness of a model's predictions against its evaluation suite",
        description="Predictions file columns: y_true; y_pred; y_score (binary) or y_prob_<class> (multiclass) or "
        "prediction (regression); and the suite's sensitive and slice features.",
    )
    _project(evaluate)
    evaluate.add_argument("--model", required=True, metavar="NAME", help="the Model spec's name")
    evaluate.add_argument("--predictions", nargs="+", metavar="FILE", help="Parquet or CSV")
    _server(evaluate, "--server", "a server of the suite's dataset contract that holds the predictions table")
    evaluate.add_argument("--table", metavar="NAME", help="with --server: the table (default: the contract's)")
    evaluate.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        metavar="T",
        help="binary models without y_pred: predict positive when y_score >= T (default 0.5)",
    )
    evaluate.add_argument(
        "--production",
        action="store_true",
        help="judge labelled production predictions (the model's monitoring.performance: its server, time column, "
        "label delay and window) against the same suite",
    )
    evaluate.add_argument(
        "--now",
        metavar="TIME",
        help="with --production: the end of the window is now minus the "
        "label delay (ISO 8601; default: the current time)",
    )
    _outputs(evaluate, summary_default=None)
    evaluate.set_defaults(handler=_run_eval)


def _add_drift(gates: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    drift = gates.add_parser(
        "drift",
        help="distribution drift of production data against the reference data",
        description="Per watched column (features, the prediction column, the label when both samples have it): "
        "PSI, KS, chi-squared, Wasserstein, Jensen-Shannon and Hellinger, judged by the model's monitoring.drift "
        "method and threshold (or its perFeature entry; `auto` chooses by type and size). Fewer than minSampleSize "
        "values: not enough data. Exit 1 on drift: retraining should be dispatched.",
    )
    _project(drift)
    drift.add_argument("--model", required=True, metavar="NAME", help="the Model spec's name")
    drift.add_argument("--reference", nargs="+", metavar="FILE", help="the reference data")
    _server(drift, "--reference-server", "the reference contract's server (monitoring.reference, else training)")
    drift.add_argument("--current", nargs="+", metavar="FILE", help="recent production data")
    _server(drift, "--server", "the server of the production traffic's contract (spec.data.production)")
    drift.add_argument("--bins", type=int, default=10, metavar="N", help="PSI bins: reference quantiles (default 10)")
    _outputs(drift, summary_default="drift-summary.md")
    drift.set_defaults(handler=_run_drift)


def _project(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "project",
        nargs="?",
        default=".",
        metavar="PROJECT",
        help="the project root; its specs are checked first and must have no errors (default: .)",
    )


def _server(parser: argparse.ArgumentParser, flag: str, what: str) -> None:
    dest = flag.lstrip("-").replace("-", "_")
    parser.add_argument(flag, dest=dest, metavar="NAME", help=f"instead of files: {what}")


def _outputs(parser: argparse.ArgumentParser, summary_default: str | None) -> None:
    parser.add_argument("--report", metavar="FILE", help="write the JSON report to FILE")
    default = f" (default: {summary_default})" if summary_default else ""
    parser.add_argument(
        "--summary",
        metavar="FILE",
        default=summary_default,
        help=f"write the Markdown summary to FILE{default}; it is also appended to $GITHUB_STEP_SUMMARY when set",
    )
    parser.add_argument("--chart", metavar="FILE", help="draw a PNG chart to FILE (needs matplotlib)")
    parser.add_argument(
        "--format",
        "-f",
        choices=choices(OWN_FORMATS),
        default="text",
        help="what to print: the verdict (text, default), the report (json), the summary (markdown), or the "
        "checks as findings in any other format",
    )
    parser.add_argument(
        "--memory-limit",
        metavar="SIZE",
        help="DuckDB's memory limit; past it, work spills to a temporary directory (default 2GB, or "
        "$CHARTER_GATE_MEMORY_LIMIT)",
    )
    parser.add_argument("--threads", type=int, metavar="N", help="DuckDB threads (default: one per core)")


def _run_data(args: argparse.Namespace) -> int:
    def build(project: ProjectSpecs) -> GateReport:
        from compiler.gates.data import gate as data

        return data.run(
            project,
            data.DataOptions(
                contract=args.contract,
                data=args.data or (),
                server=_server_name(args.server, args.data, "--data", "spec.data.training.server"),
                contract_version=args.contract_version,
                table=args.table,
                memory_limit=args.memory_limit,
                threads=args.threads,
                now=_parse_now(args.now),
            ),
        )

    return _execute("data", args, build, "data_chart", model=args.model)


def _run_eval(args: argparse.Namespace) -> int:
    def build(project: ProjectSpecs) -> GateReport:
        from compiler.gates.eval import gate as evaluation
        from compiler.gates.eval.load import EvalOptions

        return evaluation.run(
            project,
            EvalOptions(
                model=args.model,
                predictions=args.predictions or (),
                # --production reads the server monitoring.performance names when given neither
                server=None
                if args.production and args.server is None and not args.predictions
                else _server_name(args.server, args.predictions, "--predictions", "the suite's spec.dataset.server"),
                table=args.table,
                threshold=args.threshold,
                memory_limit=args.memory_limit,
                threads=args.threads,
                production=args.production,
                now=_parse_now(args.now),
            ),
        )

    return _execute("eval", args, build, "eval_chart", model=args.model)


def _run_drift(args: argparse.Namespace) -> int:
    def build(project: ProjectSpecs) -> GateReport:
        from compiler.gates.drift import gate as drift

        if args.bins < 2:
            from compiler.gates.errors import UnusableInput

            raise UnusableInput(f"--bins {args.bins}: at least 2 bins")
        return drift.run(
            project,
            drift.DriftOptions(
                model=args.model,
                reference=args.reference or (),
                current=args.current or (),
                reference_server=_server_name(
                    args.reference_server, args.reference, "--reference", "spec.monitoring.reference.server"
                ),
                current_server=_server_name(args.server, args.current, "--current", "spec.data.production.server"),
                bins=args.bins,
                memory_limit=args.memory_limit,
                threads=args.threads,
            ),
        )

    return _execute("drift", args, build, "drift_chart", model=args.model)


def _execute(
    gate: str,
    args: argparse.Namespace,
    build: Callable[[ProjectSpecs], GateReport],
    chart: str,
    *,
    model: str | None,
) -> int:
    missing = [name for name in _REQUIRED_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        print(
            f"charter gate {gate}: needs {', '.join(missing)}, from the gates extra: {GATES_EXTRA}",
            file=sys.stderr,
        )
        return UNUSABLE
    import duckdb

    from compiler.core.gate_report import GateReport
    from compiler.gates.errors import UnusableInput
    from compiler.gates.judged import stamp
    from compiler.gates.project import load_project
    from compiler.gates.report import publish

    project = None
    try:
        project = load_project(args.project)
        report = build(project)
        stamp(report, project, model)
    except UnusableInput as error:
        report = GateReport(gate, "unusable input", error=str(error))
    except duckdb.Error as error:
        from compiler.gates.io.engine_errors import describe

        report = GateReport(gate, "unusable input", error=describe(error))
    except MemoryError:
        report = GateReport(gate, "unusable input", error="out of memory", notes=["give the runner more memory"])
    if report.error is not None:
        _name_the_model(report, project, model)
        print(f"charter gate {gate}: {report.error}", file=sys.stderr)
    return publish(
        report,
        report_path=args.report,
        summary_path=args.summary,
        chart_path=args.chart,
        chart=_chart(chart) if args.chart else None,
        fmt=args.format,
    )


def _name_the_model(report: GateReport, project: ProjectSpecs | None, model: str | None) -> None:
    """A gate that could not run still names the model it was run for, so that its report can be recorded as
    evidence of that version (an error verdict): the pipeline's evidence job keeps what happened."""
    from compiler.gates.errors import UnusableInput
    from compiler.gates.judged import stamp

    if project is None or model is None or report.judged is not None:
        return
    try:
        stamp(report, project, model)
    except UnusableInput:  # the model itself is unknown: the report stays anonymous
        return


def _chart(name: str) -> Chart:
    def draw(report: GateReport, path: object) -> None:
        from pathlib import Path

        from compiler.gates import chart

        getattr(chart, name)(report, Path(str(path)))

    return draw


def _server_name(server: str | None, files: list[str] | None, files_flag: str, field: str) -> str | None:
    """Files or a server, exactly one; an empty name means the specs name no server."""
    from compiler.gates.errors import UnusableInput

    if server is not None and files:
        raise UnusableInput(f"give {files_flag} or the server, not both")
    if server is None and not files:
        raise UnusableInput(f"give {files_flag} FILE... or a server of the contract")
    if server is not None and not server.strip():
        raise UnusableInput("the server name is empty: the specs name no server to read", hint=f"set {field}")
    return server


def _parse_now(text: str | None) -> datetime.datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        from compiler.gates.errors import UnusableInput

        raise UnusableInput(f"--now {text!r}: not an ISO 8601 time", hint="for example 2024-05-01T06:00:00Z") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)
