"""Where a model trains: the orchestrator that runs the training image (its pods' scheduling: `scheduling.py`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from compiler.core.models import patterns

Orchestrator = Literal["github-actions", "kubernetes-job", "kubeflow-pipelines", "airflow"]
"""`github-actions`: `docker run` on the pipeline's runner (the default). The others run the training image in the
cluster of `training.environment`: a Kubernetes Job, a Kubeflow Pipelines (v2) run, or an Airflow DAG run."""

WandbArtifact = Annotated[
    str,
    StringConstraints(pattern=patterns.WANDB_ARTIFACT),
    Field(
        description="A Weights & Biases artifact or model, pinned to a version or alias.",
        examples=["wandb-artifact://acme-bank/credit-default/credit-applications:v7"],
    ),
]
