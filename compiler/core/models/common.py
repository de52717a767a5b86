"""What every Charter kind shares: strictness, naming, the envelope's metadata."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from compiler.core.models import patterns

API_VERSION = "charter/v1alpha1"

NAME_PATTERN = patterns.NAME
Name = Annotated[
    str,
    StringConstraints(pattern=NAME_PATTERN, max_length=63),
    Field(description="A DNS label: lower-case letters, digits and `-`, at most 63 characters."),
]
NonEmptyText = Annotated[str, StringConstraints(min_length=1)]
ImageRef = Annotated[
    str,
    StringConstraints(pattern=patterns.IMAGE, min_length=1),
    Field(
        description="A container image; pin it by digest (`name@sha256:...`).",
        examples=["ghcr.io/acme/train@sha256:" + "0" * 64],
    ),
]
# Kubernetes resource quantities: `500m`, `2`, `4Gi`.
Quantity = (
    Annotated[
        str,
        StringConstraints(pattern=patterns.QUANTITY),
    ]
    | Annotated[int, Field(ge=0)]
    | Annotated[float, Field(ge=0)]
)


class CharterModel(BaseModel):
    """Strict: unknown fields are errors, types are not coerced, no NaN."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
        allow_inf_nan=False,
        use_attribute_docstrings=True,
    )


class Metadata(CharterModel):
    """Who and what this spec is."""

    name: Name
    """Unique per kind; becomes object, file and job names."""
    owner: str | None = Field(default=None, examples=["team-risk"])
    """The accountable team; maps to a GitHub team for approvals."""
    description: str | None = None
    """One line that says what this is."""
    labels: dict[str, str] = Field(default_factory=dict, examples=[{"domain": "lending"}])
    """Free-form labels that policies can match on."""
    annotations: dict[str, str] = Field(default_factory=dict)
    """Free-form notes for tools; never interpreted by Charter."""


class ResourceList(CharterModel):
    """Kubernetes-style compute quantities."""

    cpu: Quantity | None = Field(default=None, examples=["500m", 2])
    memory: Quantity | None = Field(default=None, examples=["4Gi"])
    gpu: Annotated[int, Field(ge=0)] | None = None
    """Number of GPUs (`nvidia.com/gpu`)."""


class Resources(CharterModel):
    """Requests are what the scheduler reserves; limits are the ceiling."""

    requests: ResourceList | None = None
    limits: ResourceList | None = None


ServerName = Annotated[
    str,
    StringConstraints(pattern=patterns.SERVER_NAME, max_length=128),
    Field(description="The `server` field of an entry in an ODCS contract's `servers`.", examples=["production-s3"]),
]


class DataRef(CharterModel):
    """A data contract, by its ODCS `id` or `name`, optionally a version."""

    contract: NonEmptyText = Field(examples=["credit-applications"])
    version: str | None = None
    server: ServerName | None = None
    """The entry of the contract's ODCS `servers` (its `server` field) the data is read from; the
    generated pipelines pass it to the gates as `--server`."""
