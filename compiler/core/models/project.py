"""Project: where specs live, which policy packs apply, where output goes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from compiler.core.models import patterns
from compiler.core.models.common import CharterModel, Metadata
from compiler.core.models.endpoints import TrustedEndpoints
from compiler.core.pins import PINS

DEFAULT_SPEC_GLOBS = ("**/*.yaml", "**/*.yml")
DEFAULT_PACKS = ("fairness", "eu-ai-act", "data-governance", "production-readiness", "supply-chain")


PolicyDir = Annotated[
    str,
    StringConstraints(pattern=patterns.POLICY_DIR, min_length=1, max_length=500),
    Field(description="A policy directory relative to the project root, inside its repository."),
]
# Output directories Charter must never write into, whatever charter.yaml says.
RESERVED_DIRS = (".git", ".charter")


def _not_reserved(directory: str) -> str:
    first = directory.split("/", 1)[0]
    if first.casefold() in RESERVED_DIRS:
        reserved = " or ".join(RESERVED_DIRS)
        raise ValueError(f"`{first}` is not an output directory: Charter never writes into {reserved}")
    return directory


# Relative, inside the project: no absolute paths, no `..`, plain characters, not in .git or .charter.
OutputDir = Annotated[
    str,
    StringConstraints(pattern=patterns.OUTPUT_DIR, max_length=200),
    AfterValidator(_not_reserved),
    Field(description="A directory relative to the project root; `..` is not allowed."),
]


# Globs and policy directories stay inside the project root (THREATS.md: charter.yaml chooses paths).
RelativeGlob = Annotated[
    str,
    StringConstraints(pattern=patterns.RELATIVE_GLOB, min_length=1, max_length=500),
    Field(description="A path or glob relative to the project root; no leading `/` and no `..`."),
]

WorkflowsDir = Annotated[
    str,
    StringConstraints(pattern=patterns.WORKFLOWS_DIR, max_length=200),
    AfterValidator(_not_reserved),
    Field(
        description="A directory relative to the project root; or, for a project below its repository's root, "
        "`../.github/workflows` (one `../` per level) so that GitHub runs its workflows."
    ),
]


class Outputs(CharterModel):
    """Where generated files go, relative to the project root."""

    workflows: WorkflowsDir = ".github/workflows"
    """GitHub runs only the workflows in `.github/workflows` at the repository root. A project in a directory of a
    larger repository (`ml/charter.yaml`) writes `../.github/workflows`: its workflows are then the root's, every
    step runs in the project's directory and their `paths:` filters name its files from the root. `charter build`
    refuses a directory outside the git repository (CH449) and warns when GitHub would not read it (CH442)."""
    deploy: OutputDir = "deploy"
    docs: OutputDir = "docs/models"
    allow_extra: list[RelativeGlob] = Field(default_factory=list, examples=[["deploy/README.md", "docs/models/*.png"]])
    """Files in the output directories that Charter does not generate and that may stay there, as globs relative
    to the project root. Anything else in an output directory is an error (`charter build --check`, `charter plan`):
    Argo CD and GitHub act on every file there. In `.github/workflows`, which also holds the repository's own
    workflows, Charter claims only the files named like its own (`charter-*`, `model-*`, `monitor-*`) or carrying
    its generated header."""


class PolicyConfig(CharterModel):
    """Which policies apply."""

    packs: list[str] = Field(default_factory=lambda: list(DEFAULT_PACKS))
    """Built-in packs to turn on."""
    paths: list[PolicyDir] = Field(default_factory=list, examples=[["policies/"]])
    """The organisation's own policy directories."""
    severity_overrides: dict[str, Literal["error", "warning", "info", "off"]] = Field(
        default_factory=dict, examples=[{"production-readiness/min-replicas": "warning"}]
    )
    """Per policy or `policy/rule`: a new severity, or `off`."""
    params: dict[str, dict[str, str | int | float | bool]] = Field(default_factory=dict)
    """Per policy: parameter values that replace its defaults."""


class CharterSource(CharterModel):
    """Which Charter the generated pipelines install: a commit of its repository, pinned like every action
    they use. Its `setup` action installs Charter from that commit and its dependencies from that commit's
    hashed lock, so nothing is installed by name alone. Leave both out to use the release this `charter` knows.
    """

    repository: Annotated[str, StringConstraints(pattern=patterns.GITHUB_REPOSITORY)] = Field(
        default=PINS["charter"].repository, examples=["charter-dev/charter"]
    )
    """Charter's repository, or your organisation's mirror of it."""
    commit: Annotated[str, StringConstraints(pattern=patterns.COMMIT_SHA)] = Field(
        default=PINS["charter"].sha, examples=[PINS["charter"].sha]
    )
    """The full commit SHA the pipelines install Charter from."""


class CiDefaults(CharterModel):
    """Defaults for generated CI workflows."""

    runner: str = "ubuntu-24.04"
    python_version: str = "3.12"
    timeout_minutes: int = Field(default=30, ge=1, le=360)
    charter: CharterSource = Field(default_factory=CharterSource)
    report_artifact: bool = True
    """Publish the governance site (`charter report`) of each pull request as a workflow artifact."""


class EvidenceConfig(CharterModel):
    """What the generated model pipelines do with the evidence of each run."""

    propose: Literal["none", "pull-request"] = "none"
    """`pull-request`: each run opens a pull request of its own holding its records under `evidence/` (never a
    push to the default branch); `none`: the records are a workflow artifact only."""


class DeploymentConfig(CharterModel):
    """How configs reach clusters."""

    mode: Literal["push", "gitops"] = "push"
    """`push`: the pipeline runs `kubectl apply`; `gitops`: Argo CD pulls."""
    repo_url: Annotated[str, StringConstraints(pattern=patterns.REPO_URL)] | None = Field(
        default=None, examples=["https://github.com/acme/credit-scoring.git"]
    )
    """The Git repository Argo CD pulls from; required by `gitops`."""

    @model_validator(mode="after")
    def _repo_for_gitops(self) -> DeploymentConfig:
        if self.mode == "gitops" and self.repo_url is None:
            raise ValueError("mode `gitops` needs `repoUrl`, the repository Argo CD pulls from")
        return self


class AwsAccess(CharterModel):
    """An IAM role that trusts GitHub's OIDC provider for this repository."""

    role_arn: Annotated[str, StringConstraints(pattern=patterns.ROLE_ARN)]
    region: Annotated[str, StringConstraints(pattern=patterns.AWS_REGION)] = Field(examples=["eu-west-1"])


class GcpAccess(CharterModel):
    """Workload identity federation: a provider that trusts GitHub, and the service account it impersonates."""

    workload_identity_provider: Annotated[str, StringConstraints(pattern=patterns.GCP_PROVIDER)]
    service_account: Annotated[str, StringConstraints(pattern=patterns.GCP_SERVICE_ACCOUNT)]


class AzureAccess(CharterModel):
    """An Entra ID application with a federated credential for this repository."""

    client_id: Annotated[str, StringConstraints(pattern=patterns.UUID)]
    tenant_id: Annotated[str, StringConstraints(pattern=patterns.UUID)]
    subscription_id: Annotated[str, StringConstraints(pattern=patterns.UUID)]
    storage_account: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{3,24}$")]
    """The storage account of the contracts' azure servers."""


class CloudAccess(CharterModel):
    """How generated workflows reach data in the cloud: GitHub's OIDC token exchanged for short-lived
    credentials by each cloud's official action. No long-lived cloud secret is ever used."""

    aws: AwsAccess | None = None
    """For `s3` servers."""
    gcp: GcpAccess | None = None
    """For `s3` servers with a `gs://` location (Google Cloud Storage)."""
    azure: AzureAccess | None = None
    """For `azure` servers."""


Owner = Annotated[str, StringConstraints(pattern=patterns.GITHUB_OWNER)]


class GovernanceOwners(CharterModel):
    """Who approves a change to each part of governance: GitHub users (`alice`) or teams (`org/team`).

    Read from the base revision of a pull request, never from the change itself."""

    policies: list[Owner] = Field(default_factory=list, examples=[["acme-bank/model-risk"]])
    """Policies, packs, parameters and severity overrides (Policy specs and `spec.policies`)."""
    waivers: list[Owner] = Field(default_factory=list)
    """Waiver specs (besides every approver the waiver names)."""
    environments: list[Owner] = Field(default_factory=list)
    """Environment specs: tiers, clusters, approvals, promotion order."""
    trust: list[Owner] = Field(default_factory=list)
    """`spec.ci`, `spec.cloud`, `spec.outputs`, the deployment repository and `spec.governance` itself."""


class GovernanceConfig(CharterModel):
    """Who approves governance changes, and how long an exception may last."""

    owners: GovernanceOwners = Field(default_factory=GovernanceOwners)
    max_waiver_days: int = Field(default=90, ge=1, le=36500)
    """The longest a waiver may run from today; one that expires later is an error."""


class ProjectSpec(CharterModel):
    specs: list[RelativeGlob] = Field(default_factory=lambda: list(DEFAULT_SPEC_GLOBS))
    """Glob patterns of spec files, relative to the project root."""
    exclude: list[RelativeGlob] = Field(default_factory=list)
    """Glob patterns to skip (generated outputs are always skipped)."""
    policies: PolicyConfig = Field(default_factory=PolicyConfig)
    outputs: Outputs = Field(default_factory=Outputs)
    ci: CiDefaults = Field(default_factory=CiDefaults)
    deployment: DeploymentConfig = Field(default_factory=DeploymentConfig)
    cloud: CloudAccess = Field(default_factory=CloudAccess)
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig)
    # --- trusted endpoints (issue 30): where gates may send credentials; a governance setting of the Project.
    endpoints: TrustedEndpoints = Field(default_factory=TrustedEndpoints)
    """The endpoints, database hosts and storage accounts the gates may contact, per server type."""
    governance: GovernanceConfig = Field(default_factory=GovernanceConfig)


class Project(CharterModel):
    """The repository's Charter settings, in `charter.yaml` at its root."""

    api_version: Literal["charter/v1alpha1"]
    kind: Literal["Project"]
    metadata: Metadata
    spec: ProjectSpec = Field(default_factory=ProjectSpec)


def output_dirs(project: Project | None) -> list[str]:
    """The output directories, relative to the project root: never read as specs."""
    if project:
        return [project.spec.outputs.workflows, project.spec.outputs.deploy, project.spec.outputs.docs]
    return [".github", "deploy", "docs/models"]
