"""Waiver: a justified, approved, expiring exception to one policy for one target."""

from __future__ import annotations

import datetime
from typing import Literal

from pydantic import Field

from compiler.core.models.common import CharterModel, Metadata, Name, NonEmptyText


class Target(CharterModel):
    kind: Literal["Model", "EvaluationSuite", "Environment", "DataContract"]
    name: NonEmptyText


class WaiverSpec(CharterModel):
    policy: Name
    rule: Name | None = None
    """One rule of the policy; all of its rules when absent."""
    target: Target
    justification: NonEmptyText
    approvers: list[NonEmptyText] = Field(min_length=1)
    expires: datetime.date = Field(strict=False, examples=["2027-03-31"])
    """After this date the waiver no longer waives, and says so."""


class Waiver(CharterModel):
    """An exception to one policy, for one target, until a date."""

    api_version: Literal["charter/v1alpha1"]
    kind: Literal["Waiver"]
    metadata: Metadata
    spec: WaiverSpec
