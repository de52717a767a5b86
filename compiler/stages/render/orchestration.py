"""Training in the cluster: the Kubernetes Job, Kubeflow Pipelines (v2) pipeline or Airflow DAG that runs a model's
training image where `training.orchestrator` says, with its resources, GPUs, service account and scheduling.

The GitHub workflow stays the trigger and hosts the gates (data before, evaluation, evidence after), which need
Charter and the job's data credentials. In the cluster only the training image runs. It writes the model where
serving reads it (`CHARTER_MODEL_URI`, the model's `serving.storageUri`) and its predictions on the evaluation
data beside it (`CHARTER_PREDICTIONS_URI`, `<storageUri>/predictions.parquet`), which the evaluation gate judges.

Spec text reaches the Python modules (pipeline.py, dag.py) only inside one literal written by `ascii()`, a valid
Python literal for any string, and reaches the Job manifest only through the `q` filter: never as code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources as package_files
from typing import Any

from compiler.core.diagnostics import Diagnostic
from compiler.core.models.common import Resources
from compiler.core.models.environment import Environment
from compiler.core.models.model import Model, ModelSpec
from compiler.core.models.project import ProjectSpec
from compiler.core.specs import Spec
from compiler.core.templating import render_template
from compiler.stages.render import orchestration_job

ORCHESTRATED = ("kubernetes-job", "kubeflow-pipelines", "airflow")
# The object stores an orchestrated image writes its model and predictions to, and the gate reads them from.
OBJECT_STORES = ("s3", "gs")
_FILES = {"kubernetes-job": "job.yaml", "kubeflow-pipelines": "pipeline.py", "airflow": "dag.py"}
_MODULES = {"kubeflow-pipelines": "kfp_pipeline.py.tmpl", "airflow": "airflow_dag.py.tmpl"}
_SETTINGS = "# --- settings ---\n"
TRAINING_DIR = "_training"
"""Under `outputs.deploy`; not a DNS label, so never an environment's folder (which Argo CD syncs)."""


@dataclass(frozen=True, slots=True)
class Where:
    """The cluster side of an orchestrated training: the Environment it runs in, and where its output goes."""

    environment: str
    namespace: str
    service_account: str | None
    node_selector: dict[str, str]
    tolerations: list[dict[str, str]]
    model_uri: str
    predictions_uri: str


def training_path(deploy_dir: str, model: str, orchestrator: str) -> str:
    """The generated file an orchestrator runs: `<deploy>/_training/<model>/job.yaml|pipeline.py|dag.py`."""
    return f"{deploy_dir}/{TRAINING_DIR}/{model}/{_FILES[orchestrator]}"


def where(body: ModelSpec, environment: Environment, environment_name: str) -> Where:
    """The namespace, account and nodes of the training pods, and the URIs the image writes to."""
    spec = environment.spec
    scheduling = spec.scheduling
    tolerations = [
        {key: value for key, value in toleration.model_dump(by_alias=True).items() if value is not None}
        for toleration in (scheduling.tolerations if scheduling else [])
    ]
    model_uri = body.serving.storage_uri.rstrip("/") if body.serving else ""
    return Where(
        environment=environment_name,
        namespace=spec.namespace,
        service_account=spec.service_account,
        node_selector=dict(sorted(scheduling.node_selector.items())) if scheduling else {},
        tolerations=tolerations,
        model_uri=model_uri,
        predictions_uri=f"{model_uri}/predictions.parquet",
    )


def training_environment(body: ModelSpec, environments: dict[str, Spec]) -> tuple[str, Environment] | None:
    """The Environment an orchestrated training runs in, by name; None on the runner or when it does not exist
    (resolve reports that)."""
    name = body.training.environment
    found = environments.get(name) if name is not None else None
    if found is None or not isinstance(found.model, Environment):
        return None
    return found.name, found.model


_ORCHESTRATOR_NAMES = {
    "kubernetes-job": "a Kubernetes Job",
    "kubeflow-pipelines": "Kubeflow Pipelines",
    "airflow": "Airflow",
}
Sizing = Callable[[Resources | None], dict[str, Any]]


def card_view(
    body: ModelSpec, environments: dict[str, Spec], deploy_dir: str, name: str, sizing: Sizing
) -> dict[str, Any] | None:
    """What the model card says of an orchestrated training; None on the runner (the card is then unchanged)."""
    found = training_environment(body, environments)
    if found is None:
        return None
    place = where(body, found[1], found[0])
    return {
        "orchestrator": _ORCHESTRATOR_NAMES[body.training.orchestrator],
        "environment": place.environment,
        "namespace": place.namespace,
        "service_account": place.service_account,
        "file": training_path(deploy_dir, name, body.training.orchestrator),
        "gpu": sizing(body.training.resources)["gpu"],
        "node_selector": place.node_selector,
    }


def training_files(
    body: ModelSpec, environments: dict[str, Spec], deploy_dir: str, model: dict[str, Any], source: str, sizing: Sizing
) -> list[tuple[str, str]]:
    """The path and text of the file the orchestrator runs; none on the runner. `sizing` gives the resources."""
    found = training_environment(body, environments)
    if found is None:
        return []
    place = where(body, found[1], found[0])
    orchestrator = body.training.orchestrator
    resources = sizing(body.training.resources)
    text = render(orchestrator, model=model, body=body, place=place, resources=resources, source=source)
    path = training_path(deploy_dir, model["name"], orchestrator)
    files = [(path, text)]
    if orchestrator == "kubeflow-pipelines":  # what the train job installs kfp from, by hash
        files.append((path.rsplit("/", 1)[0] + "/requirements.txt", kubeflow_requirements(source)))
    return files


def kubeflow_requirements(source: str) -> str:
    """The hashed lock of kfp that the KFP train job installs, with the generated files' header."""
    lock = package_files.files("compiler").joinpath("templates", "orchestration", "kubeflow-requirements.txt")
    header = (
        f"# Generated by charter from {ascii(source)[1:-1]}; do not edit by hand.\n"
        "# kfp and kfp-kubernetes for pipeline.py, pinned by hash: the train job installs nothing by name alone.\n"
    )
    return header + lock.read_text("utf-8")


def cluster_job(
    body: ModelSpec, model: str, environments: dict[str, Spec], settings: ProjectSpec
) -> dict[str, Any] | None:
    """The GitHub train job of an orchestrated training (orchestration_job), and the training Environment's spec
    (its file is watched: a change to it changes what the job runs); None on the runner."""
    name = body.training.environment
    found = environments.get(name) if name is not None else None
    if found is None or not isinstance(found.model, Environment):
        return None
    orchestrator = body.training.orchestrator
    file = training_path(settings.outputs.deploy, model, orchestrator)
    env = found.model.spec
    place = {"github_environment": env.github_environment, "namespace": env.namespace, "model": model}
    return {"spec": found, **orchestration_job.cluster_job(body, orchestrator, file, place, settings.cloud)}


def container_env(model: dict[str, Any], place: Where) -> list[tuple[str, str]]:
    """The variables the training image reads in the cluster, in order."""
    return [
        ("CHARTER_MODEL", model["name"]),
        ("CHARTER_MODEL_VERSION", model["version"]),
        ("CHARTER_MODEL_URI", place.model_uri),
        ("CHARTER_PREDICTIONS_URI", place.predictions_uri),
    ]


def render(
    orchestrator: str, *, model: dict[str, Any], body: ModelSpec, place: Where, resources: dict[str, Any], source: str
) -> str:
    """The text of the file `orchestrator` runs; `model` is the render's model view, `resources` its resources."""
    env = container_env(model, place)
    if orchestrator == "kubernetes-job":
        return render_template(
            "train-job.yaml.j2",
            source=source,
            model=model,
            env={"name": place.environment},
            where=place,
            resources=resources,
            training=body.training,
            container_env=env,
        )
    settings = {
        "model": model["name"],
        "version": model["version"],
        "environment": place.environment,
        "namespace": place.namespace,
        "service_account": place.service_account,
        "image": body.training.image,
        "command": list(body.training.command),
        "env": dict(env),
        "timeout_minutes": body.training.timeout_minutes,
        "requests": resources["requests"],
        "limits": resources["limits"],
        "gpu": resources["gpu"],
        "node_selector": place.node_selector,
        "tolerations": place.tolerations,
    }
    return python_module(_MODULES[orchestrator], settings, source)


def python_module(template: str, settings: dict[str, Any], source: str, name: str = "TRAINING") -> str:
    """A generated Python module: the header, the settings as one literal `name`, then the module's constant code."""
    code = package_files.files("compiler").joinpath("templates", "orchestration", template).read_text("utf-8")
    header = (
        f"# Generated by charter from {ascii(source)[1:-1]}; do not edit by hand.\n"
        "# Change the spec and run `charter build`: `charter build --check` fails on edits.\n"
    )
    entries = "".join(f"    {key!r}: {_literal(value)},\n" for key, value in settings.items())
    literal = f"{name} = {{\n" + entries + "}\n"
    return header + code.replace(_SETTINGS, literal, 1)


def _literal(value: Any) -> str:
    """A Python literal of a JSON-like value, ASCII only (`ascii` escapes the rest), the same bytes on every run."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, str):
        return ascii(value)
    if value is None or isinstance(value, bool | int):
        return repr(value)
    raise TypeError(f"no literal for {type(value).__name__}")


def unstored_training(specs: Iterable[Spec]) -> list[Diagnostic]:
    """CH480 for an orchestrated training whose model has no `serving.storageUri` on s3:// or gs://: the image
    in the cluster would have nowhere the evaluation gate can read its predictions from."""
    findings = []
    for spec in specs:
        body = spec.model.spec if isinstance(spec.model, Model) else None
        if body is None or body.training.orchestrator not in ORCHESTRATED:
            continue
        uri = body.serving.storage_uri if body.serving else None
        if uri is not None and uri.split("://", 1)[0] in OBJECT_STORES:
            continue
        findings.append(
            spec.finding(
                "CH480",
                f"`orchestrator: {body.training.orchestrator}` trains in the cluster, which writes the model and "
                f"its predictions to `serving.storageUri`, but "
                + (f"{uri!r} is not on s3:// or gs://" if uri else "the model has no `serving`"),
                ["spec", "training", "orchestrator"],
                hint="give the model `serving.storageUri: s3://bucket/<model>/<version>` (or gs://), or train on "
                "the runner with `orchestrator: github-actions`",
            )
        )
    return findings
