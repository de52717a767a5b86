"""Registration: a model version as the registry registered it, as `charter model register --record` files it.

Not a spec kind: like a gate's evidence record it sits in `evidence/<model>/<version>/registration.json` and is
the registry's answer, not the author's claim. Cards and the report read the registered version and its training
run from it; it stays current only while the spec digest and the evidence records it was registered with are today's
(compiler/evidence/registration.py).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints, model_validator

from compiler.core.models import patterns
from compiler.core.models.common import CharterModel, Name
from compiler.core.models.evidence import Digest
from compiler.core.models.training import WandbArtifact

# MLflow's ids: an experiment is a number, a run 32 hex digits; both reach URLs, so nothing else is accepted.
ExperimentId = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,19}$")]
RunId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
# The MLflow UI people open: an http(s) origin and path, no credentials, query or fragment.
UiUrl = Annotated[str, StringConstraints(pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$")]


class TrainingRun(CharterModel):
    """The run that trained the version: an MLflow run (its experiment and id) or a Weights & Biases artifact."""

    mlflow_run: RunId | None = None
    experiment: ExperimentId | None = None
    """The MLflow experiment of `mlflowRun`, as the tracking server answered."""
    wandb: WandbArtifact | None = None

    @model_validator(mode="after")
    def _one(self) -> TrainingRun:
        if (self.mlflow_run is None) == (self.wandb is None):
            raise ValueError("a training run is an MLflow run (`mlflowRun`) or a W&B artifact (`wandb`)")
        return self


class Registration(CharterModel):
    """One model version registered in the MLflow registry with the digests of what was judged."""

    api_version: Literal["charter/v1alpha1"]
    kind: Literal["Registration"]
    model: Name
    version: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    registry: Literal["mlflow"]
    name: Annotated[str, StringConstraints(pattern=patterns.MLFLOW_MODEL_NAME)]
    """The registered model's name (`serving.registry.name`)."""
    registered_version: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,9}$")]
    """The version number MLflow gave it."""
    source: Annotated[str, StringConstraints(pattern=patterns.STORAGE_URI, max_length=1000)]
    ui: UiUrl | None = None
    """The MLflow UI, for links: `<ui>/#/models/<name>/versions/<n>` and `<ui>/#/experiments/<e>/runs/<r>`."""
    run: TrainingRun | None = None
    spec_digest: Digest
    """What the gates judged when it was registered (compiler/evidence/digest.py)."""
    evidence: dict[Literal["data", "eval", "drift"], Digest]
    """The SHA-256 of each evidence record it was registered with, byte for byte."""
