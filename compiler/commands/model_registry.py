"""`charter model register --model NAME` and `charter model promote --model NAME --environment ENV`: the model's
current version in its MLflow registry (`serving.registry`), with the digests of its spec and evidence; promotion
points the environment's alias at it. The registry is $MLFLOW_TRACKING_URI (compiler/integrations/mlflow)."""

from __future__ import annotations

import argparse
import sys

from compiler.commands.common import checked_model
from compiler.core import exit_codes

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
    for parser in (register, promote):
        parser.add_argument("--model", required=True, metavar="NAME", help="the Model spec")
        parser.add_argument("--project", default=".", metavar="DIR", help="the project root (default: .)")
        parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
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
            version, created = versions.register(registry, serving.registry.name, wanted)
            done = "registered" if created else "already registered"
            print(f"{what}: {serving.registry.name} version {version.version} {done} as {args.model} {wanted.version}")
        else:
            version = versions.promote(registry, serving.registry.name, wanted, args.environment)
            print(f"{what}: {serving.registry.name}@{args.environment} is version {version.version}")
    except RegistryError as error:
        code = "CH776" if error.unregistered else "CH777"
        print(f"{what}: {code} {error}", file=sys.stderr)
        return exit_codes.FINDINGS if error.unregistered else exit_codes.USAGE
    return exit_codes.OK
