"""Progressive delivery of one deployment: canary steps, the analysis that decides them, and what a cluster offers.

A `rollout` is rendered as an Argo Rollouts `Rollout` with an `AnalysisTemplate` (runtime `kubernetes`): the
canary takes each step's weight for its pause while the analysis measures it on Prometheus; a failed
measurement beyond `failureLimit` aborts the rollout and Argo Rollouts returns all traffic to the stable version.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from compiler.core.models import patterns
from compiler.core.models.common import CharterModel, Name

# A Prometheus metric name (https://prometheus.io/docs/concepts/data_model/): it is joined into the queries
# Charter writes, so nothing else may reach them.
PrometheusMetric = Annotated[
    str,
    StringConstraints(pattern=patterns.PROMETHEUS_METRIC, max_length=200),
    Field(description="A Prometheus metric name.", examples=["http_requests_total"]),
]
PromQL = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2000, pattern=patterns.ONE_LINE),
    Field(
        description="A PromQL query whose first sample is the measurement. Charter replaces `{{pods}}` with the "
        "regular expression of the pods measured (the canary's; in an experiment, the baseline's or the "
        "candidate's) and `{{namespace}}` with their namespace.",
        examples=['avg(model_prediction_confidence{namespace="{{namespace}}",pod=~"{{pods}}"})'],
    ),
]
PrometheusAddress = Annotated[
    str,
    StringConstraints(pattern=r"^https?://[^/?#@\s]+(/[^?#@\s]*)?$", max_length=300),
    Field(
        description="The Prometheus server Argo Rollouts queries.",
        examples=["http://prometheus-operated.monitoring.svc:9090"],
    ),
]


class CanaryStep(CharterModel):
    """One step: the canary takes `weight` percent of the pods (or traffic) for `pauseMinutes`."""

    weight: int = Field(ge=1, le=100)
    pause_minutes: int = Field(default=5, ge=1, le=1440)
    """How long the canary holds this weight while the analysis measures it; at least one analysis interval."""


class OnlineMetric(CharterModel):
    """A metric of the model's own, measured on the canary while it serves (e.g. its mean confidence)."""

    name: Name
    query: PromQL
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounded(self) -> OnlineMetric:
        if self.min is None and self.max is None:
            raise ValueError(f"online metric `{self.name}` needs `min`, `max` or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"online metric `{self.name}`: `min` is above `max`")
        return self


class Analysis(CharterModel):
    """What decides each step: the canary's error rate and latency, and the model's own online metrics."""

    interval_minutes: int = Field(default=1, ge=1, le=60)
    """How often each metric is measured."""
    failure_limit: int = Field(default=1, ge=0, le=10)
    """Failed measurements tolerated per metric; one more aborts the rollout (and rolls it back)."""
    max_error_rate: float = Field(default=0.01, ge=0, le=1, examples=[0.01])
    """The highest share of the canary's requests answered with a 5xx status."""
    max_latency_ms: int | None = Field(default=None, ge=1, le=600000, examples=[300])
    """The highest `latencyQuantile` of the canary's request latency, in milliseconds."""
    latency_quantile: float = Field(default=0.99, gt=0, lt=1)
    requests_metric: PrometheusMetric = "http_requests_total"
    """The server's request counter, with a `code` label holding the HTTP status."""
    latency_metric: PrometheusMetric = "http_request_duration_seconds"
    """The server's request latency histogram (its `_bucket` series)."""
    metrics: list[OnlineMetric] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Analysis:
        names = [metric.name for metric in self.metrics]
        for taken in ("error-rate", "latency"):
            if taken in names:
                raise ValueError(f"online metric name `{taken}` is Charter's own; choose another")
        if len(set(names)) != len(names):
            raise ValueError("online metric names must be unique")
        return self


class Experiment(CharterModel):
    """A/B before the canary steps: the serving version (baseline) and the new one (candidate) side by side, on
    pods of their own, compared on one of the analysis' online metrics; the rollout goes on only if the
    candidate is not worse than the baseline by more than `tolerance`."""

    duration_minutes: int = Field(default=60, ge=1, le=10080)
    replicas: int = Field(default=1, ge=1, le=20)
    """Pods of each version; without a traffic router they take their share of the Service's traffic."""
    metric: Name
    """The name of one of `analysis.metrics`, measured on each version's pods."""
    higher_is_better: bool = True
    tolerance: float = Field(default=0.0, ge=0)
    """How much worse than the baseline the candidate may measure."""


class ShadowComparison(CharterModel):
    """One of the analysis' online metrics measured on both versions while the candidate sees mirrored traffic."""

    metric: Name
    """The name of one of `analysis.metrics`: its query is run on the candidate's pods and on the stable ones."""
    max_difference: float = Field(ge=0, examples=[0.05])
    """The largest difference allowed between the candidate's value and the stable version's, either way."""


class Shadow(CharterModel):
    """Shadow traffic before the canary steps: `percent` of the live requests are mirrored to the new version,
    whose answers are discarded; its error rate and latency are held to the analysis' bounds and its online
    metrics compared with the stable version's. Needs a traffic router (the Environment's `trafficRouter`)."""

    percent: int = Field(ge=1, le=100, examples=[20])
    """The share of live requests mirrored to the candidate; every user is still answered by the stable version."""
    duration_minutes: int = Field(default=30, ge=1, le=10080)
    """How long the mirror runs; the comparison is measured over this window."""
    compare: list[ShadowComparison] = Field(default_factory=list)


class RolloutStrategy(CharterModel):
    """A canary in steps, decided by analysis, aborted and rolled back automatically (Argo Rollouts)."""

    experiment: Experiment | None = None
    shadow: Shadow | None = None
    """Mirror live traffic to the new version first (after the experiment, before the steps)."""
    steps: list[CanaryStep] = Field(min_length=1, max_length=20)
    analysis: Analysis

    @model_validator(mode="after")
    def _increasing(self) -> RolloutStrategy:
        weights = [step.weight for step in self.steps]
        if any(later <= earlier for earlier, later in itertools.pairwise(weights)):
            raise ValueError("rollout step weights must increase")
        if any(step.pause_minutes < self.analysis.interval_minutes for step in self.steps):
            raise ValueError("every step's `pauseMinutes` must be at least the analysis `intervalMinutes`")
        names = [metric.name for metric in self.analysis.metrics]
        if self.experiment is not None and self.experiment.metric not in names:
            listed = ", ".join(f"`{name}`" for name in names) or "none"
            raise ValueError(f"experiment metric `{self.experiment.metric}` is not in `analysis.metrics` ({listed})")
        compared = [comparison.metric for comparison in self.shadow.compare] if self.shadow else []
        for metric in compared:
            if metric not in names:
                listed = ", ".join(f"`{name}`" for name in names) or "none"
                raise ValueError(f"shadow metric `{metric}` is not in `analysis.metrics` ({listed})")
        if len(set(compared)) != len(compared):
            raise ValueError("each shadow `compare` metric may be listed once")
        return self

    @property
    def total_minutes(self) -> int:
        """How long the canary steps (and a shadow window before them) take."""
        shadow = self.shadow.duration_minutes if self.shadow is not None else 0
        return shadow + sum(step.pause_minutes for step in self.steps)


class KServeSettings(CharterModel):
    """How the cluster's KServe serves: its deployment mode, made explicit on every InferenceService."""

    deployment_mode: Literal["Serverless", "RawDeployment"] = "Serverless"
    """`Serverless` (Knative) splits traffic by `canaryTrafficPercent`; `RawDeployment` ignores that field
    without a warning (KServe issues 4074 and 5335), so Charter refuses a canary there."""
