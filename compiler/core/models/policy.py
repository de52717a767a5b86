"""Policy: governance as code, shaped after Kubernetes ValidatingAdmissionPolicy.

The CEL expressions are validated as text here; the policy engine compiles
and evaluates them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from compiler.core.models import patterns
from compiler.core.models.common import CharterModel, Metadata, Name, NonEmptyText

Expression = Annotated[
    str,
    StringConstraints(min_length=1, max_length=5000),
    Field(description="A CEL expression.", examples=["size(object.spec.intendedUse) > 0"]),
]
SpecKind = Literal["Model", "EvaluationSuite", "Environment", "DataContract", "Project", "Waiver"]


Identifier = Annotated[
    str,
    StringConstraints(pattern=patterns.IDENTIFIER, max_length=63),
    Field(description="A CEL identifier: `variables.<name>` in expressions."),
]


class NamedExpression(CharterModel):
    """A variable: `variables.<name>` in later expressions."""

    name: Identifier
    expression: Expression


class Condition(CharterModel):
    """A match condition; its name shows in findings when it cannot be evaluated."""

    name: Name
    expression: Expression


class Match(CharterModel):
    """Which specs the policy applies to."""

    kinds: list[SpecKind] = Field(min_length=1)
    labels: dict[str, str] = Field(default_factory=dict)
    """All of these labels must be present with these values."""
    conditions: list[Condition] = Field(default_factory=list)
    """CEL conditions that must all hold (matchConditions)."""


class Validation(CharterModel):
    """One rule: a CEL expression that must hold for every matched spec."""

    name: Name
    expression: Expression
    description: str | None = None
    """Why the rule exists: shown by `charter explain` and in the docs."""
    message: NonEmptyText | None = None
    message_expression: Expression | None = None
    severity: Literal["error", "warning", "info"] = "error"
    remediation: NonEmptyText | None = None
    references: list[NonEmptyText] = Field(default_factory=list, examples=[["EU AI Act Art. 10(2)(f)"]])
    path: str | None = Field(default=None, examples=["spec.features"])
    """The field the rule is about, so findings point at its line."""
    waivable: bool = True
    """False for rules no waiver may suspend (the EU AI Act's prohibited practices)."""


class PolicySpec(CharterModel):
    description: str | None = None
    match: Match
    params: dict[str, str | int | float | bool | list[str]] = Field(default_factory=dict)
    """Defaults for `params.*` in expressions; the Project may override them."""
    variables: list[NamedExpression] = Field(default_factory=list)
    validations: list[Validation] = Field(min_length=1)


class Policy(CharterModel):
    """Rules every matched spec must satisfy."""

    api_version: Literal["charter/v1alpha1"]
    kind: Literal["Policy"]
    metadata: Metadata
    spec: PolicySpec
