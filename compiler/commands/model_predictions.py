"""`charter model predictions --model NAME [--to FILE]`: an orchestrated training's predictions, for the eval gate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from compiler.commands.common import checked_model
from compiler.core import exit_codes


def add_predictions_parser(actions: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    predictions = actions.add_parser(
        "predictions",
        help="copy the predictions a training in the cluster wrote beside the model, for the evaluation gate",
        description="Copies <serving.storageUri>/predictions.parquet, which the training image wrote in the cluster "
        "(`training.orchestrator` kubernetes-job, kubeflow-pipelines or airflow: CHARTER_PREDICTIONS_URI), to --to, "
        "with the cloud's standard credentials, at an endpoint charter.yaml `spec.endpoints` allows. Exit 0 when "
        "copied; 1 when there are none (CH775); 2 when the specs, the target or the store cannot be used.",
    )
    predictions.add_argument("--model", required=True, metavar="NAME", help="the model whose storageUri holds them")
    predictions.add_argument(
        "--to",
        dest="target",
        default="model-output/predictions.parquet",
        metavar="FILE",
        help="a new file in the job's directory (default: model-output/predictions.parquet)",
    )
    predictions.add_argument("--project", default=".", metavar="DIR", help="the project root (default: .)")
    predictions.set_defaults(handler=_run_predictions)


def _run_predictions(args: argparse.Namespace) -> int:
    from compiler.gates.errors import UnusableInput
    from compiler.gates.io import model_predictions

    found = checked_model(args.project, args.model, "charter model predictions")
    if found is None:
        return exit_codes.USAGE
    checked, model = found
    if model is None or model.spec.serving is None:
        print(f"charter model predictions: no model `{args.model}` with `serving.storageUri`", file=sys.stderr)
        return exit_codes.USAGE
    try:
        source, size = model_predictions.fetch(model.spec.serving, checked.project, Path(args.target))
    except UnusableInput as refused:
        print(f"charter model predictions: {refused}", file=sys.stderr)
        return exit_codes.FINDINGS if refused.code == "CH775" else exit_codes.USAGE
    print(f"charter model predictions: {source} ({size:,} bytes) to {args.target}")
    return exit_codes.OK
