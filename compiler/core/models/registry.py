"""Where a model's versions are registered: the MLflow model registry."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from compiler.core.models import patterns
from compiler.core.models.common import CharterModel


class Registry(CharterModel):
    """The model registry that records each version with its evidence, and which version each environment serves."""

    type: Literal["mlflow"]
    """`mlflow`: the MLflow model registry at $MLFLOW_TRACKING_URI (the jobs' and `charter check`'s environment)."""
    name: Annotated[str, StringConstraints(pattern=patterns.MLFLOW_MODEL_NAME)] = Field(examples=["credit-default"])
    """The registered model's name: `charter model register` adds a version per trained model version, tagged with
    the spec digest and the evidence digests; `charter model promote` points the environment's alias at it."""
