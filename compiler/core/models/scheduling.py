"""Where an environment's pods may run (its servers and its training jobs): node selector and tolerations.

GPU pools are usually labelled and tainted; the serving manifests and the training Job, pipeline or DAG render
the same scheduling."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from compiler.core.models.common import CharterModel

LabelValue = Annotated[str, StringConstraints(pattern=r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$", max_length=63)]
LabelKey = Annotated[
    str,
    StringConstraints(
        pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$",
        max_length=316,
    ),
    Field(examples=["nvidia.com/gpu.present"]),
]


class Toleration(CharterModel):
    """A taint the environment's pods tolerate (Kubernetes `tolerations`)."""

    key: LabelKey | None = None
    operator: Literal["Equal", "Exists"] = "Equal"
    value: LabelValue | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Toleration:
        if self.operator == "Exists" and self.value is not None:
            raise ValueError("a toleration with `operator: Exists` takes no `value`")
        if self.key is None and self.operator != "Exists":
            raise ValueError("a toleration without `key` needs `operator: Exists`")
        return self


class Scheduling(CharterModel):
    """Which nodes the environment's pods (servers and training) may run on: GPU pools are usually labelled and
    tainted."""

    # additionalProperties: a key the label-key pattern does not match is refused by the schema too.
    node_selector: dict[LabelKey, LabelValue] = Field(
        default_factory=dict, examples=[{"pool": "gpu"}], json_schema_extra={"additionalProperties": False}
    )
    tolerations: list[Toleration] = Field(default_factory=list)
