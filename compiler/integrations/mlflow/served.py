"""`charter check` with a tracking server (in CI, MLFLOW_TRACKING_URI set): for every environment a model with an
MLflow registry is deployed to, the version its alias points at must be the registered one with today's evidence.

- CH481 (error): the alias points at today's model version, but its spec or evidence digests are not today's (the
  spec changed since, the evidence was replaced, or the version was registered by hand);
- CH482 (warning): the alias is missing or points at another model version: the environment does not serve the
  spec's version yet (promotion pending);
- CH483 (error): the registry could not answer: nothing is verified, so the check fails closed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from compiler.core.diagnostics import Diagnostic
from compiler.core.models.model import Model
from compiler.core.specs import Spec
from compiler.integrations.mlflow import versions
from compiler.integrations.mlflow.client import Registry, RegistryError
from compiler.stages import Checked

_NAME = ["spec", "serving", "registry", "name"]


def served_findings(checked: Checked, environ: Mapping[str, str] = os.environ) -> list[Diagnostic]:
    """The findings of every registered model's environments; none without MLFLOW_TRACKING_URI."""
    models = [s for s in checked.specs if isinstance(s.model, Model) and s.model.spec.serving and _registered(s)]
    if not models:
        return []
    try:
        registry = Registry.from_environment(environ)
    except RegistryError as error:
        return [_unreachable(spec, str(error)) for spec in models]
    if registry is None:
        return []
    findings: list[Diagnostic] = []
    for spec in models:
        try:
            findings.extend(_model_findings(checked, spec, registry))
        except RegistryError as error:
            findings.append(_unreachable(spec, str(error)))
    return findings


def _registered(spec: Spec) -> bool:
    model = spec.model
    return isinstance(model, Model) and model.spec.serving is not None and model.spec.serving.registry is not None


def _model_findings(checked: Checked, spec: Spec, registry: Registry) -> list[Diagnostic]:
    model = spec.model
    assert isinstance(model, Model)
    assert model.spec.serving is not None
    assert model.spec.serving.registry is not None
    name, version = model.spec.serving.registry.name, model.spec.version
    evidence = checked.evidence.get(spec.name)
    wanted = versions.identity(evidence, checked.root, model.spec.serving.storage_uri) if evidence else None
    findings = []
    for index, deployment in enumerate(model.spec.deployments):
        alias = deployment.environment
        served = registry.by_alias(name, alias)
        served_version = served.tags.get(versions.TAG_MODEL_VERSION) if served else None
        if served is None or served_version != version:
            tagged = served_version or "no charter.model-version tag"
            shown = f"version {served.version} ({tagged})" if served else "nothing"
            findings.append(
                spec.finding(
                    "CH482",
                    f"`{alias}` serves {shown} of MLflow model {name}, not {version}: not promoted yet",
                    ["spec", "deployments", index, "environment"],
                    hint=f"the pipeline's deploy job to {alias} runs `charter model promote`, which points the alias "
                    "at the registered version once it is deployed",
                )
            )
            continue
        wrong = versions.differences(served, wanted) if wanted else ["no committed evidence of this version"]
        if wrong:
            findings.append(
                spec.finding(
                    "CH481",
                    f"`{alias}` serves version {served.version} of MLflow model {name} as {version}, but it is not "
                    f"registered with today's evidence: {'; '.join(wrong)[:300]}",
                    _NAME,
                    hint="run the model's pipeline: it records the evidence, registers the version with its digests "
                    "and promotes it; a version registered or aliased by hand is not evidence",
                )
            )
    return findings


def _unreachable(spec: Spec, reason: str) -> Diagnostic:
    return spec.finding(
        "CH483",
        f"cannot verify what the environments serve: {reason}",
        _NAME,
        hint="check MLFLOW_TRACKING_URI and its credentials (MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and "
        "MLFLOW_TRACKING_PASSWORD); unset MLFLOW_TRACKING_URI to check without the registry",
    )
