"""Where a model trains: the orchestrator that runs the training image, and the scheduling of its pods."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from compiler.core.models.common import CharterModel

Orchestrator = Literal["github-actions", "kubernetes-job", "kubeflow-pipelines", "airflow"]
"""`github-actions`: `docker run` on the pipeline's runner (the default). The others run the training image in the
cluster of `training.environment`: a Kubernetes Job, a Kubeflow Pipelines (v2) run, or an Airflow DAG run."""

# A Kubernetes label key (an optional DNS-subdomain prefix and a name) and label value.
LabelKey = Annotated[
    str,
    StringConstraints(
        pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
        r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$",
        max_length=316,
    ),
    Field(examples=["nvidia.com/gpu.product"]),
]
LabelValue = Annotated[
    str,
    StringConstraints(pattern=r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$"),
    Field(examples=["NVIDIA-A100-SXM4-40GB"]),
]


class Toleration(CharterModel):
    """A taint the environment's training pods tolerate (Kubernetes `tolerations`)."""

    key: LabelKey | None = None
    """The taint's key; without it (`operator: Exists`) every taint is tolerated."""
    operator: Literal["Equal", "Exists"] = "Equal"
    value: LabelValue | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Toleration:
        if self.operator == "Exists" and self.value is not None:
            raise ValueError("`operator: Exists` takes no `value`")
        if self.key is None and self.operator != "Exists":
            raise ValueError("a toleration without `key` needs `operator: Exists`")
        return self


class Scheduling(CharterModel):
    """Which nodes the environment's training pods may run on: GPU pools are usually labelled and tainted."""

    node_selector: dict[LabelKey, LabelValue] = Field(default_factory=dict, examples=[{"pool": "gpu"}])
    tolerations: list[Toleration] = Field(default_factory=list)
