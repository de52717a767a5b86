"""What the train job needs besides the image and its command: a login to a private registry, and the
credentials the image reads its training data with.

The registry login follows the image's host, never a spec field that could name a command:
- `ghcr.io`: the job's own `GITHUB_TOKEN` with `packages: read` (nothing stored);
- Amazon ECR (`<account>.dkr.ecr.<region>.amazonaws.com`): the Project's AWS role through GitHub's OIDC token
  (`spec.cloud.aws`), and `aws ecr get-login-password`;
- any other registry: the secrets `CHARTER_REGISTRY_USERNAME` and `CHARTER_REGISTRY_PASSWORD` of the GitHub
  environment the job is bound to (`charter-data`, where protection rules guard them); without them the image
  is pulled anonymously, as a public image is.

Inside the container the image gets exactly the credentials of the servers it trains on, passed to
`docker run` as `--env NAME` (docker copies the value from the job's environment): names in arguments,
never values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from compiler.core.diagnostics import Diagnostic
from compiler.core.endpoints import Refusal, judge_s3_endpoint
from compiler.core.models.model import Model, ModelSpec
from compiler.core.models.project import CloudAccess, Project
from compiler.core.specs import Spec
from compiler.stages.render import data_access, train_limits

GHCR = "ghcr.io"
ECR_HOST = re.compile(r"[0-9]{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?")
# What the cloud credential actions export, which the image's SDK reads: only what reading the server needs.
REGISTRY_SECRETS = [
    ("REGISTRY_USERNAME", "secrets.CHARTER_REGISTRY_USERNAME"),
    ("REGISTRY_PASSWORD", "secrets.CHARTER_REGISTRY_PASSWORD"),
]
# storageUri schemes `charter model upload` writes, as the server whose cloud credentials writing needs.
_STORES = {
    "s3": data_access.ServerChoice("", "s3", "aws"),
    "gs": data_access.ServerChoice("", "s3", "gcp"),
}
_CONTAINER_ENV = {
    "aws": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION"),
}


def registry_of(image: str) -> str:
    """The registry an image reference pulls from: its first component when it names a host, else Docker Hub."""
    first, slash, _ = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def registry_login(image: str) -> dict[str, Any]:
    """How the job logs in to the image's registry: `kind` ghcr, ecr or secrets, the registry and its region."""
    registry = registry_of(image)
    if registry == GHCR:
        return {"kind": "ghcr", "registry": registry}
    ecr = ECR_HOST.fullmatch(registry)
    if ecr is not None:
        return {"kind": "ecr", "registry": registry, "region": ecr.group(1)}
    return {"kind": "secrets", "registry": registry}


def container_env(choices: list[data_access.ServerChoice]) -> list[str]:
    """The variables the training container gets, by name: those the job's servers need, no others."""
    names: list[str] = []
    for choice in choices:
        names.extend(name for name, _ in data_access.secret_env([choice]))
        names.extend(_CONTAINER_ENV.get(choice.cloud or "", ()))
    return list(dict.fromkeys(names))


def train_job(model: ModelSpec, choices: list[data_access.ServerChoice], cloud: CloudAccess) -> dict[str, Any]:
    """The train job's login, cloud credential steps, GitHub environment, secrets and container variables, and
    whether it uploads the model to its storageUri (`charter model upload`: s3:// and gs:// only)."""
    login = registry_login(model.training.image)
    storage_uri = model.serving.storage_uri if model.serving else None
    clouds = list(choices)
    if login["kind"] == "ecr":
        clouds.append(data_access.ServerChoice("", None, "aws"))
    store = _STORES.get((storage_uri or "").split("://", 1)[0])
    if store is not None and getattr(cloud, store.cloud or "") is None:
        store = None  # no identity to write it with: the model is not uploaded (README, "The training contract")
    if store is not None:
        clouds.append(store)
    steps = data_access.cloud_steps(clouds, cloud)
    secrets = data_access.secret_env(choices)
    registry_secrets = REGISTRY_SECRETS if login["kind"] == "secrets" else []
    return {
        "login": login,
        "cloud": steps,
        "secrets": secrets,
        "registry_secrets": registry_secrets,
        "environment": data_access.DATA_ENVIRONMENT if secrets or registry_secrets else None,
        "container_env": container_env(choices),
        "limits": train_limits.docker_options(model.training.resources),
        "upload": data_access.extras([store]) if store is not None else None,
    }


def unreachable_registries(specs: Iterable[Spec], project: Project | None) -> list[Diagnostic]:
    """CH443 for a training image in Amazon ECR while no AWS role is named: the train job could not pull it."""
    if project is not None and project.spec.cloud.aws is not None:
        return []
    findings = []
    for spec in specs:
        if not isinstance(spec.model, Model):
            continue
        registry = registry_of(spec.model.spec.training.image)
        if ECR_HOST.fullmatch(registry):
            findings.append(
                spec.finding(
                    "CH443",
                    f"the training image is in Amazon ECR ({registry}), but charter.yaml names no AWS role "
                    "(`spec.cloud.aws`): the train job cannot log in to pull it",
                    ["spec", "training", "image"],
                    hint="add `cloud: {aws: {roleArn: ..., region: ...}}` to charter.yaml, a role GitHub's OIDC "
                    "token may assume that may pull this repository (ecr:GetAuthorizationToken, "
                    "ecr:BatchGetImage, ecr:GetDownloadUrlForLayer)",
                )
            )
    return findings


def untrusted_model_stores(specs: Iterable[Spec], project: Project | None) -> list[Diagnostic]:
    """CH444 for a `serving.endpointUrl` the train job's upload may not contact (charter.yaml does not list it)."""
    findings = []
    for spec in specs:
        serving = spec.model.spec.serving if isinstance(spec.model, Model) else None
        if serving is None or serving.endpoint_url is None:
            continue
        verdict = judge_s3_endpoint(serving.endpoint_url, project)
        if isinstance(verdict, Refusal):
            path = ["spec", "serving", "endpointUrl"]
            findings.append(spec.finding("CH444", verdict.message, path, hint=verdict.hint))
    return findings
