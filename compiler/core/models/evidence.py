"""Evidence: one gate's result for one model version, as `charter evidence record` files it.

Not a spec kind (nobody writes it by hand): the published schema
(`schemas/evidence.schema.json`) documents the format for the tools that read it, and
`charter check` validates every committed record against it, since a record in a pull
request is the author's file like any other.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from compiler.core.models.common import CharterModel, Name, NonEmptyText

Digest = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]
Commit = Annotated[str, StringConstraints(pattern=r"^([0-9a-f]{40}|[0-9a-f]{64})$")]
Status = Literal["pass", "fail", "warn", "no-verdict", "skipped", "info"]
Verdict = Literal["pass", "fail", "no-verdict", "error"]
Number = float | int
# Generous bounds that keep a hostile record from making a card or a report unreadable.
ShortText = Annotated[str, StringConstraints(max_length=2000)]


class Judged(CharterModel):
    """The fingerprint of what the gate judged; see compiler/evidence/digest.py."""

    digest: Digest
    parts: dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z-]*$", max_length=40)], Digest]
    """Per part (`model`, `suite`, `training-data`, `validation-data`, `evaluation-data`, `policies`)."""


class Checked(CharterModel):
    """One judged fact, as the gate's report lists it."""

    code: Annotated[str, StringConstraints(pattern=r"^CH7[0-9]{2}$")] | None = None
    """The gate check's code in the catalogue (`charter explain CH720`)."""
    id: ShortText
    title: ShortText
    status: Status
    target: ShortText | None = None
    value: Any = None
    unit: ShortText | None = None
    expected: ShortText | None = None
    message: ShortText | None = None
    details: dict[str, Any] | None = None


class MeasuredMetric(CharterModel):
    """A performance metric of the suite: the measured value beside its bound and verdict."""

    metric: ShortText
    slice: ShortText | None = None
    rows: Annotated[int, Field(ge=0)]
    value: Number | None = None
    min: Number | None = None
    max: Number | None = None
    status: Status


class FairnessResult(CharterModel):
    metric: ShortText
    value: Number | None = None
    min: Number | None = None
    max: Number | None = None
    status: Status


class GroupRow(CharterModel):
    """One group of a sensitive feature: its size and rates."""

    group: ShortText
    count: Annotated[int, Field(ge=0)]
    positives: Annotated[int, Field(ge=0)] | None = None
    negatives: Annotated[int, Field(ge=0)] | None = None
    selection_rate: Number | None = None
    true_positive_rate: Number | None = None
    false_positive_rate: Number | None = None
    accuracy: Number | None = None
    mae: Number | None = None
    rmse: Number | None = None
    metrics: dict[str, Number | None] | None = None


class FairnessBlock(CharterModel):
    """The groups of one sensitive feature and the fairness checks on it."""

    column: ShortText
    groups: list[GroupRow]
    small_groups: list[ShortText] = Field(default_factory=list)
    checks: list[FairnessResult] = Field(default_factory=list)


class WaiverInForce(CharterModel):
    name: Name
    policy: Name
    rule: Name | None = None
    expires: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    approvers: list[NonEmptyText]


class Origin(CharterModel):
    """Where a record was made: a run of the model's generated workflow, and the gate report artifact it filed.

    `charter github report` asks GitHub whether this run, of this workflow file, on the default branch, uploaded an
    artifact of this name with this digest (`compiler/integrations/github/evidence_origin.py`); a record that says
    nothing of its origin, or whose origin GitHub does not confirm, is not evidence in a pull request.
    """

    run_id: Annotated[int, Field(gt=0)]
    """`GITHUB_RUN_ID` of the run that recorded it."""
    workflow: Annotated[str, StringConstraints(pattern=r"^\.github/workflows/[^/@]+\.ya?ml$", max_length=200)]
    """The workflow file, as `GITHUB_WORKFLOW_REF` names it: `.github/workflows/model-<name>.yml`."""
    ref: Annotated[str, StringConstraints(pattern=r"^refs/[^\s]+$", max_length=300)]
    """The ref the workflow ran at: `refs/heads/<default branch>`."""
    artifact: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    """The name of the artifact holding the gate's report (`eval-gate`)."""
    artifact_digest: Digest
    """Its digest, as upload-artifact reports it and GitHub's artifact API lists it."""


class Evidence(CharterModel):
    """What one gate measured for one model version, and against which specs."""

    api_version: Literal["charter/v1alpha1"]
    kind: Literal["Evidence"]
    model: Name
    version: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    gate: Literal["data", "eval", "drift", "shadow"]
    """`shadow`: the new version on mirrored live traffic beside the stable one (`charter deploy shadow`)."""
    verdict: Verdict
    commit: Commit | None = None
    """The commit whose specs the gate judged; null when the gate ran outside git."""
    charter_version: ShortText
    judged: Judged
    subject: dict[str, Any] = Field(default_factory=dict)
    inputs: list[dict[str, Any]] = Field(default_factory=list)
    """The data measured on: files or server, format, rows."""
    summary: dict[Status, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    checks: list[Checked] = Field(default_factory=list)
    metrics: list[MeasuredMetric] | None = None
    """The eval gate: every performance metric of the suite."""
    fairness: dict[str, FairnessBlock] | None = None
    """The eval gate: per sensitive feature, every group's size and rates."""
    waivers: list[WaiverInForce] = Field(default_factory=list)
    """Waivers of the model in force when the evidence was recorded."""
    details: dict[str, Any] = Field(default_factory=dict)
    """What else the gate reported (drift statistics, data rule counts)."""
    origin: Origin | None = None
    """The run and artifact the record came from; None when recorded outside GitHub Actions (not evidence in a PR)."""
