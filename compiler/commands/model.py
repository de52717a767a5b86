"""`charter model upload --model NAME [--from DIR]`: the trained model, to its `serving.storageUri`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from compiler.commands.common import checked_model
from compiler.commands.model_predictions import add_predictions_parser
from compiler.commands.model_registry import add_registry_parsers
from compiler.commands.model_retrain import add_candidate_parser, add_drop_parser
from compiler.core import exit_codes


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    model = commands.add_parser("model", help="what the train job does with a trained model")
    model.set_defaults(run=run)
    actions = model.add_subparsers(dest="model_command", metavar="COMMAND", required=True)
    upload = actions.add_parser(
        "upload",
        help="upload the trained model to the model's serving.storageUri",
        description="Copies every regular file under --from (links are not followed) to the `serving.storageUri` "
        "the model's spec names, with the cloud's standard credentials, at an endpoint charter.yaml "
        "`spec.endpoints` allows. Exit 0 when uploaded; 1 when there is no model to upload (CH760) or the URI "
        "already holds one (CH761: a version's model is never replaced); 2 when the specs, the model or the "
        "store cannot be used.",
    )
    upload.add_argument("--model", required=True, metavar="NAME", help="the model whose storageUri receives it")
    upload.add_argument(
        "--from",
        dest="source",
        default="model-output/model",
        metavar="DIR",
        help="the model files: $CHARTER_OUTPUT/model/ of the training image (default: model-output/model)",
    )
    upload.add_argument("--project", default=".", metavar="DIR", help="the project root (default: .)")
    upload.set_defaults(handler=_run_upload)
    add_predictions_parser(actions)
    add_candidate_parser(actions)
    add_drop_parser(actions)
    add_registry_parsers(actions)


def run(args: argparse.Namespace) -> int:
    """The subcommand the arguments name."""
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


def _run_upload(args: argparse.Namespace) -> int:
    from compiler.gates.errors import UnusableInput
    from compiler.gates.io import model_store

    found = checked_model(args.project, args.model, "charter model upload")
    if found is None:
        return exit_codes.USAGE
    checked, model = found
    if model is None or model.spec.serving is None:
        print(f"charter model upload: no model `{args.model}` with `serving.storageUri`", file=sys.stderr)
        return exit_codes.USAGE
    try:
        location, filesystem = model_store.destination(model.spec.serving, checked.project)
        done = model_store.upload(Path(args.source), location, filesystem)
    except UnusableInput as refused:
        print(f"charter model upload: {refused}", file=sys.stderr)
        return exit_codes.FINDINGS if refused.code in ("CH760", "CH761") else exit_codes.USAGE
    print(f"charter model upload: {done.files} files ({done.size:,} bytes) to {location.display}")
    return exit_codes.OK
