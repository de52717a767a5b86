"""EvaluationSuite: the bounds a trained model must meet before it ships."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from compiler.core.metrics import FAIRNESS, PERFORMANCE, FairnessMetricName, PerformanceMetricName
from compiler.core.models.common import CharterModel, DataRef, Metadata, Name


class _Bounded(CharterModel):
    min: float | None = None
    """The value must be at least this."""
    max: float | None = None
    """The value must be at most this."""

    def _check_bounds(self, name: str, low: float | None, high: float | None) -> None:
        if self.min is None and self.max is None:
            raise ValueError(f"`{name}` needs `min` or `max`")
        for bound in (self.min, self.max):
            if bound is None:
                continue
            if (low is not None and bound < low) or (high is not None and bound > high):
                span = f"[{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]"
                raise ValueError(f"bound {bound} is outside the range of `{name}`, {span}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("`min` is above `max`")


class MetricBound(_Bounded):
    """A performance metric and its bounds: `{metric: roc_auc, min: 0.8}`."""

    metric: PerformanceMetricName
    slice: Name | None = None
    """Apply the bound to one slice only."""
    k: int | None = Field(default=None, ge=1, examples=[10])
    """For `ndcg`: only the first k documents of each query count (nDCG@k)."""

    @model_validator(mode="after")
    def _bounds(self) -> MetricBound:
        info = PERFORMANCE[self.metric]
        self._check_bounds(self.metric, info.low, info.high)
        if self.k is not None and self.metric != "ndcg":
            raise ValueError("`k` goes with `ndcg` only")
        return self

    @property
    def key(self) -> str:
        """The metric as the gate computes it: `ndcg@10` for nDCG at 10."""
        return self.metric if self.k is None else f"{self.metric}@{self.k}"


class FairnessCheck(_Bounded):
    """A fairness metric across the groups of one sensitive feature."""

    metric: FairnessMetricName
    sensitive_feature: Annotated[str, StringConstraints(min_length=1)]
    intersect_with: list[Annotated[str, StringConstraints(min_length=1)]] = Field(
        default_factory=list, max_length=3, examples=[["race"]]
    )
    """Intersectional groups: the sensitive feature crossed with these, one group per combination present in the
    data (`female × black`), each judged against `minGroupSize` like any group."""
    bins: list[float] | None = Field(default=None, min_length=1, examples=[[25, 40, 65]])
    """For a continuous sensitive feature (age, income): ascending edges of the groups, each closed on the left.
    `[25, 40, 65]` makes four groups: below 25, [25, 40), [40, 65) and 65 or more. Without bins a numeric feature
    with more than 20 distinct values is refused: one group per value leaves every group too small to judge."""

    @model_validator(mode="after")
    def _bounds(self) -> FairnessCheck:
        info = FAIRNESS[self.metric]
        self._check_bounds(self.metric, info.low, info.high)
        if self.sensitive_feature in self.intersect_with or len(set(self.intersect_with)) < len(self.intersect_with):
            raise ValueError("`intersectWith` names each feature once, and not the sensitive feature itself")
        if self.bins is not None:
            if not all(math.isfinite(edge) for edge in self.bins):
                raise ValueError("`bins` are finite numbers")
            if any(b <= a for a, b in zip(self.bins, self.bins[1:], strict=False)):
                raise ValueError("`bins` must be strictly ascending")
        return self

    @property
    def group_key(self) -> str:
        """The name its groups go by: the sensitive feature, or the features it crosses, joined by `×`."""
        return "×".join([self.sensitive_feature, *self.intersect_with])


class Slice(CharterModel):
    """A subset of the evaluation data, reported (and bounded) on its own."""

    name: Name
    feature: Annotated[str, StringConstraints(min_length=1)]
    values: list[str | int | float | bool] = Field(min_length=1)


class Confidence(CharterModel):
    """Fairness bounds must hold with confidence: a percentile bootstrap interval, as fairlearn's MetricFrame."""

    level: float = Field(default=0.95, gt=0.5, lt=1, examples=[0.95])
    resamples: int = Field(default=1000, ge=100, le=100_000)
    seed: int = Field(default=0, ge=0)
    """The resamples are drawn from this seed, so a report can be computed again exactly."""


class EvaluationSuiteSpec(CharterModel):
    dataset: DataRef
    """The contract of the held-out evaluation data."""
    metrics: list[MetricBound] = Field(min_length=1)
    fairness: list[FairnessCheck] = Field(default_factory=list)
    min_group_size: int = Field(default=30, ge=1)
    """Groups smaller than this get no fairness verdict."""
    slices: list[Slice] = Field(default_factory=list)
    positive_label: str | int | bool | None = None
    """The label value of the positive class, for binary tasks."""
    confidence: Confidence | None = None
    """Judge every fairness bound by its bootstrap interval: it holds when the whole interval does, and a point
    value within the bound whose interval reaches past it gets no verdict (not enough data)."""


class EvaluationSuite(CharterModel):
    """Performance and fairness bounds that gate a model."""

    api_version: Literal["charter/v1alpha1"]
    kind: Literal["EvaluationSuite"]
    metadata: Metadata
    spec: EvaluationSuiteSpec
