"""Environment: where models run, and who must approve a deployment there."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from compiler.core.models.common import CharterModel, Metadata, Name, NonEmptyText
from compiler.core.models.rollout import KServeSettings, PrometheusAddress
from compiler.core.models.scheduling import Scheduling

# A DNS name of two labels at least; each model's host is `<model>.<domain>`, a label more.
Domain = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$", max_length=189),
    Field(examples=["models.example.com"]),
]


class Ingress(CharterModel):
    """How requests from outside the cluster reach the models served here (runtime `kubernetes`): one
    `networking.k8s.io/v1` Ingress per model."""

    class_name: Name = Field(examples=["nginx"])
    """The IngressClass whose controller serves the Ingresses (`ingressClassName`)."""
    domain: Domain
    """Each model is served at `<model>.<domain>` (as KServe's `domainTemplate` names hosts), so two models in
    one environment never claim the same host."""
    tls_secret: Name | None = Field(default=None, examples=["models-example-com-tls"])
    """A TLS Secret (in `namespace`) whose certificate covers `*.<domain>`; without it the Ingress is HTTP."""


class EnvironmentSpec(CharterModel):
    tier: Literal["development", "staging", "production"]
    """What the environment is for; production rules apply to `production`."""
    cluster: NonEmptyText = Field(examples=["eu-west-1-prod"])
    """The Kubernetes cluster (kubeconfig context) to deploy to."""
    namespace: Name
    github_environment: NonEmptyText = Field(examples=["production"])
    """The GitHub environment whose protection rules hold approvals and secrets."""
    approvals: int = Field(default=0, ge=0, le=6)
    """Required reviewers on the GitHub environment (GitHub allows up to 6)."""
    promotes_from: Name | None = None
    """The environment a model must reach first (staging before production)."""
    service_account: Name | None = Field(default=None, examples=["model-reader"])
    """The Kubernetes service account models served here run as, the one allowed to read their `storageUri`;
    a model's `serving.serviceAccount` overrides it."""
    image_pull_secrets: list[Name] = Field(default_factory=list, examples=[["registry-credentials"]])
    """Secrets (in `namespace`) the kubelet pulls the serving images with."""
    scheduling: Scheduling | None = None
    """Node selector and tolerations of the pods a model runs here: its server, and its training where
    `training.environment` names this environment (GPU pools are usually tainted)."""
    kserve: KServeSettings = Field(default_factory=KServeSettings)
    """The cluster's KServe: each InferenceService states its deployment mode explicitly."""
    prometheus: PrometheusAddress | None = None
    """The cluster's Prometheus, which the analysis of a deployment's `rollout` queries."""
    traffic_router: Literal["istio"] | None = None
    """The traffic router Argo Rollouts drives here: `istio` (a VirtualService per model splits and mirrors
    requests between the stable and the canary Services). A `rollout` with `shadow` needs one."""
    ingress: Ingress | None = None
    """The Ingress of each model served here with runtime `kubernetes`. KServe creates its own, with the class of
    its cluster configuration (CH466)."""


class Environment(CharterModel):
    """A deployment target: cluster, namespace, approvals, promotion order."""

    api_version: Literal["charter/v1alpha1"]
    kind: Literal["Environment"]
    metadata: Metadata
    spec: EnvironmentSpec
