"""`charter model register --model NAME` and `charter model promote --model NAME --environment ENV`: the model's
current version in its MLflow registry (`serving.registry`), with the digests of its spec and evidence; promotion
points the environment's alias at it. The registry is $MLFLOW_TRACKING_URI (compiler/integrations/mlflow)."""

from __future__ import annotations

import argparse
import sys
import urllib.parse
from typing import TYPE_CHECKING

from compiler.commands.common import checked_model
from compiler.core import exit_codes
from compiler.core.safe_names import escape_for_people

if TYPE_CHECKING:
    from compiler.core.models.registration import Registration, TrainingRun
    from compiler.integrations.mlflow.client import Registry, Version
    from compiler.integrations.mlflow.versions import Identity

_EXIT = (
    "Exit 0 when done; 1 when the version has no committed evidence or (promote) none is registered with today's "
    "digests (CH776); 2 when the specs cannot be used or the registry cannot be reached (CH777)."
)


def add_registry_parsers(actions: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    register = actions.add_parser(
        "register",
        help="register the model's current version in its MLflow registry, tagged with its spec and evidence digests",
        description="Adds a version to the MLflow registered model of `serving.registry` (source: storageUri), "
        "tagged charter.model-version, charter.spec-digest and charter.evidence.<gate> (the SHA-256 of each "
        "committed evidence record); a version already registered with the same tags is kept. " + _EXIT,
    )
    promote = actions.add_parser(
        "promote",
        help="point the environment's alias at the registered version with today's evidence",
        description="Sets the alias named like the environment (staging, production) on the version registered "
        "with today's spec and evidence digests. " + _EXIT,
    )
    promote.add_argument("--environment", required=True, metavar="ENV", help="the environment: the alias to set")
    register.add_argument(
        "--run",
        metavar="RUN",
        help="the run that trained the version: an MLflow run id (32 hex digits; the version is registered from it) "
        "or a W&B artifact `wandb-artifact://<entity>/<project>/<name>:<version>`",
    )
    register.add_argument(
        "--record",
        action="store_true",
        help="file the registered version, its run and digests as evidence/<model>/<version>/registration.json: "
        "what the card and the report show (commit it like the gates' records)",
    )
    register.add_argument(
        "--ui",
        metavar="URL",
        help="the MLflow UI people open, for the record's links (default: MLFLOW_TRACKING_URI without credentials)",
    )
    for parser in (register, promote):
        parser.add_argument("--model", required=True, metavar="NAME", help="the Model spec")
        parser.add_argument("--project", default=".", metavar="DIR", help="the project root (default: .)")
        parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from compiler.evidence.registration import file_registration
    from compiler.integrations.mlflow import versions
    from compiler.integrations.mlflow.client import Registry, RegistryError

    what = f"charter model {args.model_command}"
    found = checked_model(args.project, args.model, what)
    if found is None:
        return exit_codes.USAGE
    checked, model = found
    serving = model.spec.serving if model is not None else None
    if serving is None or serving.registry is None:
        print(f"{what}: no model `{args.model}` with `serving.registry`", file=sys.stderr)
        return exit_codes.USAGE
    evidence = checked.evidence.get(args.model)
    try:
        registry = Registry.from_environment()
        if registry is None:
            print(f"{what}: CH777 no MLFLOW_TRACKING_URI: no registry to write to", file=sys.stderr)
            return exit_codes.USAGE
        if evidence is None:
            raise RegistryError(f"no evidence of {args.model} can be read", unregistered=True)
        wanted = versions.identity(evidence, checked.root, serving.storage_uri)
        if args.model_command == "register":
            run = _run_of(getattr(args, "run", None))
            mlflow_run = run.mlflow_run if run is not None else None
            version, created = versions.register(registry, serving.registry.name, wanted, mlflow_run)
            done = "registered" if created else "already registered"
            print(f"{what}: {serving.registry.name} version {version.version} {done} as {args.model} {wanted.version}")
            if args.record:
                record = _record(registry, version, wanted, run, args.ui)
                print(f"{what}: recorded {file_registration(checked.root, record)}")
        else:
            version = versions.promote(registry, serving.registry.name, wanted, args.environment)
            print(f"{what}: {serving.registry.name}@{args.environment} is version {version.version}")
    except _BadArgument as error:
        print(f"{what}: {error}", file=sys.stderr)
        return exit_codes.USAGE
    except RegistryError as error:
        code = "CH776" if error.unregistered else "CH777"
        print(f"{what}: {code} {error}", file=sys.stderr)
        return exit_codes.FINDINGS if error.unregistered else exit_codes.USAGE
    return exit_codes.OK


class _BadArgument(Exception):
    """A command-line value that cannot be used: the message says which and why."""


def _run_of(value: str | None) -> TrainingRun | None:
    """`--run` as a training run: an MLflow run id or a W&B artifact reference, nothing else."""
    from pydantic import ValidationError

    from compiler.core.models.registration import TrainingRun

    if value is None:
        return None
    field = "wandb" if value.startswith("wandb-artifact://") else "mlflowRun"
    try:
        return TrainingRun.model_validate({field: value})
    except ValidationError:
        shown = escape_for_people(value)[:120]
        raise _BadArgument(
            f"--run `{shown}` is neither an MLflow run id (32 lower-case hex digits) nor a W&B artifact "
            "(`wandb-artifact://<entity>/<project>/<name>:<version>`)"
        ) from None


def _record(
    registry: Registry, version: Version, wanted: Identity, run: TrainingRun | None, ui: str | None
) -> Registration:
    """The registration record of `version`: its run is the one MLflow registered it from, else `--run`."""
    from pydantic import ValidationError

    from compiler.core.models.registration import Registration

    trained = run.model_dump(mode="json", by_alias=True, exclude_none=True) if run is not None else None
    if version.run_id:
        trained = {"mlflowRun": version.run_id, "experiment": registry.experiment_of(version.run_id)}
    data = {
        "apiVersion": "charter/v1alpha1",
        "kind": "Registration",
        "model": wanted.model,
        "version": wanted.version,
        "registry": "mlflow",
        "name": version.name,
        "registeredVersion": version.version,
        "source": version.source,
        "ui": ui if ui is not None else _without_credentials(registry.uri),
        "run": trained,
        "specDigest": wanted.spec_digest,
        "evidence": wanted.evidence,
    }
    try:
        return Registration.model_validate(data)
    except ValidationError as error:
        detail = error.errors()[0]
        where = ".".join(str(part) for part in detail["loc"])
        raise _BadArgument(f"the registration cannot be recorded: `{where}`: {detail['msg']}") from None


def _without_credentials(uri: str) -> str:
    parts = urllib.parse.urlsplit(uri)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path.rstrip('/')}"
