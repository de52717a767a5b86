"""Model: what is trained, on which data, how it is judged, served and watched."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from compiler.core.metrics import PerformanceMetricName, Task
from compiler.core.models import patterns
from compiler.core.models.common import (
    CharterModel,
    DataRef,
    ImageRef,
    Metadata,
    Name,
    NonEmptyText,
    Resources,
)
from compiler.core.models.registry import Registry
from compiler.core.models.rollout import RolloutStrategy
from compiler.core.models.training import Orchestrator, WandbArtifact
from compiler.core.serving_runtimes import ProtocolVersion, ServerName

RiskTier = Literal["minimal", "limited", "high", "unacceptable"]
Column = Annotated[
    str,
    StringConstraints(min_length=1),
    Field(description="A column of the contract; `table.column` when it has several tables."),
]
Cron = Annotated[
    str,
    StringConstraints(pattern=patterns.CRON),
    Field(description="A five-field cron schedule (UTC).", examples=["0 6 * * 1"]),
]


class TrainingData(CharterModel):
    """The contracts of the data the model learns from and meets in production, and their servers."""

    training: DataRef
    validation: DataRef | None = None
    production: DataRef | None = None
    """Production traffic the drift gate compares with the reference: its contract and server."""


class Training(CharterModel):
    """How the model is trained: an image and a command, run by the pipeline."""

    image: ImageRef
    command: list[NonEmptyText] = Field(min_length=1, examples=[["python", "-m", "train"]])
    resources: Resources | None = None
    """CPU, memory and GPUs of the training container (a Kubernetes Job, a KFP task, an Airflow pod)."""
    timeout_minutes: int = Field(default=120, ge=1, le=4320)
    orchestrator: Orchestrator = "github-actions"
    """Where the image runs: `github-actions` (`docker run` on the pipeline's runner), or in the cluster of
    `environment`: `kubernetes-job`, `kubeflow-pipelines` or `airflow`. The gates stay in the GitHub workflow."""
    environment: Name | None = Field(default=None, examples=["training"])
    """The Environment whose cluster, namespace, service account and scheduling an orchestrated training uses."""
    lineage: list[WandbArtifact] = Field(default_factory=list, max_length=50)
    """Weights & Biases artifacts and models the training starts from (a base model, a dataset, features), as
    `wandb-artifact://<entity>/<project>/<name>:<version>`: the card and the report's lineage name them beside the
    data versions and the training run the evidence records."""

    @model_validator(mode="after")
    def _where(self) -> Training:
        if self.orchestrator != "github-actions" and self.environment is None:
            raise ValueError(f"`orchestrator: {self.orchestrator}` runs in a cluster: name its `environment`")
        if self.orchestrator == "github-actions" and self.environment is not None:
            raise ValueError("`environment` is where an orchestrator runs; `github-actions` runs on the runner")
        return self


class EvaluationRef(CharterModel):
    """The evaluation suite that gates this model."""

    suite: Name


class Serving(CharterModel):
    """How the model is served."""

    runtime: Literal["kserve", "kubernetes"]
    """`kserve` renders an InferenceService; `kubernetes` a Deployment and Service."""
    model_format: Literal[
        "sklearn", "xgboost", "lightgbm", "onnx", "pytorch", "tensorflow", "huggingface", "mlflow", "custom"
    ]
    storage_uri: Annotated[str, StringConstraints(pattern=patterns.STORAGE_URI)] = Field(
        examples=["s3://models/credit-scorer/1.4.0"]
    )
    endpoint_url: Annotated[str, StringConstraints(pattern=r"^https?://[^/?#@\s]+/?$", max_length=300)] | None = Field(
        default=None, examples=["https://minio.models.acme.internal:9000"]
    )
    """An S3-compatible endpoint (MinIO, Ceph) of an `s3://` storageUri, for the train job's upload: contacted only
    when charter.yaml `spec.endpoints.s3` lists it. Leave out for AWS S3."""
    serving_runtime: ServerName | None = None
    """KServe's serving runtime (its ClusterServingRuntime): triton, torchserve, tfserving, huggingface (vLLM
    for generation), sklearn, xgboost, lightgbm, or mlserver (MLflow). Without it Charter names the runtime
    KServe would choose, except for `pytorch`, which goes to Triton rather than TorchServe."""
    protocol_version: ProtocolVersion | None = None
    """The inference protocol (`v1`, `v2` = Open Inference Protocol, `grpc-v1`, `grpc-v2`); the runtime's
    first by default."""
    image: ImageRef | None = None
    """The serving image; required by the `kubernetes` runtime."""
    port: int = Field(default=8080, ge=1, le=65535)
    resources: Resources | None = None
    service_account: Name | None = Field(default=None, examples=["credit-default-reader"])
    """The Kubernetes service account the server runs as, the one allowed to read `storageUri` (IRSA, Workload
    Identity, or KServe's storage secret on it). Overrides the Environment's `serviceAccount`; without either the
    namespace's `default` account reads the model."""
    registry: Registry | None = None
    """The model registry (MLflow) where each version is registered with its evidence and promoted by alias."""

    @model_validator(mode="after")
    def _image_for_kubernetes(self) -> Serving:
        if self.runtime == "kubernetes" and self.image is None:
            raise ValueError("runtime `kubernetes` needs `image`")
        if self.runtime == "kubernetes" and (self.serving_runtime or self.protocol_version):
            raise ValueError("`servingRuntime` and `protocolVersion` are KServe's: runtime `kubernetes` serves `image`")
        return self


class Canary(CharterModel):
    """Send part of the traffic to the new version before full rollout."""

    traffic_percent: int = Field(ge=1, le=99)
    bake_minutes: int = Field(default=10, ge=0, le=1440)
    """How long the canary serves its share before the analysis decides: promote, or roll back."""


class Autoscaling(CharterModel):
    min_replicas: int = Field(ge=1)
    max_replicas: int = Field(ge=1)
    target_cpu_percent: int = Field(default=70, ge=1, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Autoscaling:
        if self.max_replicas < self.min_replicas:
            raise ValueError("maxReplicas is below minReplicas")
        return self


class Deployment(CharterModel):
    """One environment the model is deployed to."""

    environment: Name
    replicas: int = Field(default=1, ge=0, le=1000)
    canary: Canary | None = None
    rollout: RolloutStrategy | None = None
    """Progressive delivery decided in the cluster by analysis (Argo Rollouts; runtime `kubernetes`), in place
    of `canary`, which the deploy workflow drives."""
    autoscaling: Autoscaling | None = None

    @model_validator(mode="after")
    def _one_strategy(self) -> Deployment:
        if self.canary is not None and self.rollout is not None:
            raise ValueError("choose `canary` (driven by the workflow) or `rollout` (Argo Rollouts), not both")
        return self


DriftMethod = Literal["psi", "ks", "chi2", "wasserstein", "jensenshannon", "hellinger"]


class FeatureDrift(CharterModel):
    """One watched column judged by its own method and threshold."""

    feature: Column
    method: DriftMethod
    threshold: float = Field(gt=0, examples=[0.1])


class Drift(CharterModel):
    method: DriftMethod | Literal["auto"] = "psi"
    """psi, ks (statistic), chi2 (p-value), wasserstein (normalised by the reference's standard deviation),
    jensenshannon or hellinger (over the PSI bins); each drifts above its threshold, chi2 below it. `auto` chooses
    per column by type and reference size, after evidently's defaults, with their thresholds: up to 1,000 rows
    the KS p-value (numbers) or chi-squared p-value (categories) below 0.05; above, the normalised Wasserstein
    distance (numbers) or Jensen-Shannon distance (categories) above 0.1."""
    threshold: float | None = Field(default=None, gt=0, examples=[0.2])
    """Required with every method but `auto`, which chooses its own."""
    features: list[Column] = Field(default_factory=list)
    """Features to watch; empty means all of the model's features."""
    per_feature: list[FeatureDrift] = Field(default_factory=list)
    """Watched columns judged by another method or threshold than `method` and `threshold`."""
    min_sample_size: int = Field(default=30, ge=1, examples=[30])
    """Fewer values than this on either side (the reference or the current sample) and a feature's verdict is
    "not enough data", never drift or stable."""
    drift_share: float | None = Field(default=None, gt=0, le=1, examples=[0.5])
    """Dataset drift: the gate fails when at least this share of the watched columns drifted. Without it, one
    drifted column fails the gate."""
    prediction: Column | None = None
    """A column holding the model's output in both the reference and the current data, watched as a feature."""
    label: bool = True
    """Watch the model's label too, when both the reference and the current data have it (labels arrive late)."""

    @model_validator(mode="after")
    def _threshold(self) -> Drift:
        if self.method == "auto" and self.threshold is not None:
            raise ValueError("`method: auto` chooses each column's threshold; remove `threshold`, or choose a method")
        if self.method != "auto" and self.threshold is None:
            raise ValueError(f"`method: {self.method}` needs a `threshold`")
        return self


Duration = Annotated[
    str,
    StringConstraints(pattern=r"^(0|[1-9][0-9]{0,4}[hdw])$"),
    Field(description="A duration: hours, days or weeks (`12h`, `7d`, `4w`), or 0.", examples=["7d"]),
]


class ProductionPerformance(CharterModel):
    """The evaluation suite's performance and fairness bounds judged again on production predictions whose labels
    have arrived, so concept drift and a fairness regression are caught after deployment too."""

    data: DataRef
    """The contract (and server) of the labelled production predictions, in the columns the eval gate reads."""
    timestamp: Column
    """The column saying when each prediction was made."""
    label_delay: Duration = "0"
    """How long labels take to arrive: predictions younger than this are not judged yet."""
    window: Duration = "4w"
    """How far back, before the label delay, predictions are judged."""


class PerformanceDrop(CharterModel):
    """Retrain when the production monitor (`charter gate eval --production` on `monitoring.performance`) measures
    `metric` worse than `threshold`: below it for a metric the suite bounds with `min`, above it for one bounded
    with `max` (set it inside the suite's bound to retrain before the bound fails)."""

    metric: PerformanceMetricName
    """A metric the evaluation suite bounds on the whole data (not only a slice)."""
    threshold: float = Field(examples=[0.82])


class RetrainTriggers(CharterModel):
    """What starts a retraining besides its schedule."""

    drift: bool = False
    """The drift gate of the monitor failed (the monitor dispatches the retraining)."""
    performance_drop: PerformanceDrop | None = None
    data_version: bool = False
    """A new version of the training data: a commit to the default branch that changes the `.dvc` file or
    `dvc.lock` its contract's server names (`customProperties: [{property: dvc, ...}]`)."""


class Retrain(CharterModel):
    """Continuous training. Each retraining trains a *candidate*, never the served model: the version becomes
    `<version>-retrain.<run>` (and `serving.storageUri` follows it), the candidate goes through the same data gate,
    training, evaluation gate and evidence as any version, and the run opens a pull request with the bumped spec and
    the candidate's evidence. Owners review and merge it like any change; the merge deploys it."""

    schedule: Cron | None = None
    """When to retrain (five-field cron, UTC), in the orchestrator `training.orchestrator` names: the retraining
    workflow's own schedule on GitHub Actions; a CronJob, a Kubeflow Pipelines recurring run or an Airflow DAG
    schedule in the cluster, whose only act is to dispatch that workflow, so the gates still run."""
    triggers: RetrainTriggers = Field(default_factory=RetrainTriggers)
    dispatch_image: ImageRef | None = None
    """With a schedule and `training.orchestrator` `kubernetes-job` or `kubeflow-pipelines`: an image with
    `python3`, pinned by digest, that the cluster's timer runs to dispatch the retraining workflow."""

    @model_validator(mode="after")
    def _something_starts_it(self) -> Retrain:
        triggers = self.triggers
        if self.schedule is None and not (triggers.drift or triggers.performance_drop or triggers.data_version):
            raise ValueError("`retrain` needs a `schedule` or at least one of `triggers`")
        return self


class Monitoring(CharterModel):
    """How production traffic is watched: drift, and performance and fairness once labels arrive."""

    schedule: Cron
    drift: Drift
    retrain_on_drift: bool = Field(default=False, json_schema_extra={"deprecated": True})
    """Deprecated: `retrain: {triggers: {drift: true}}` replaces it and proposes the retrained model as a candidate
    version in a pull request. `retrainOnDrift` alone still dispatches the model's pipeline on drift."""
    retrain: Retrain | None = None
    """Continuous training: a schedule and triggers, each retraining proposed as a new version for review."""
    reference: DataRef | None = None
    """The contract of the reference data; the training data by default."""
    performance: ProductionPerformance | None = None


class Transparency(CharterModel):
    """What people who meet the model are told (EU AI Act Art. 50)."""

    disclosure: NonEmptyText
    """How users learn that they are dealing with an AI system."""
    contact: str | None = None


class ModelSpec(CharterModel):
    task: Task
    version: Annotated[str, StringConstraints(min_length=1)] = Field(examples=["1.4.0"])
    """The model's version; quote it (`"1.10"`), YAML reads 1.10 as a number."""
    risk_tier: RiskTier
    """The EU AI Act's tiers: minimal, limited, high, unacceptable."""
    intended_use: list[NonEmptyText] = Field(default_factory=list)
    out_of_scope_use: list[NonEmptyText] = Field(default_factory=list)
    transparency: Transparency | None = None
    data: TrainingData
    features: list[Column] = Field(min_length=1)
    label: Column | None = None
    sensitive_features: list[Column] = Field(default_factory=list)
    """Columns the fairness checks group by; they need not be features."""
    training: Training
    evaluation: EvaluationRef
    serving: Serving | None = None
    deployments: list[Deployment] = Field(default_factory=list)
    monitoring: Monitoring | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        if self.task != "generation" and self.label is None:
            raise ValueError(f"task `{self.task}` needs `label`")
        seen: set[str] = set()
        for deployment in self.deployments:
            if deployment.environment in seen:
                raise ValueError(f"environment `{deployment.environment}` is listed twice in deployments")
            seen.add(deployment.environment)
        if self.deployments and self.serving is None:
            raise ValueError("deployments need `serving`")
        return self


class Model(CharterModel):
    """An ML model: data, training, evaluation, serving, monitoring."""

    api_version: Literal["charter/v1alpha1"]
    kind: Literal["Model"]
    metadata: Metadata
    spec: ModelSpec
