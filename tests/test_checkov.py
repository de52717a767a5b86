"""Issue 27, what clusters require: checkov passes on every manifest the examples render, as the cluster runs them.

Before: every served model failed CKV2_K8S_6 (no NetworkPolicy selected its pods) and the KServe predictor
CKV_K8S_38 (its pod mounted a service account token). checkov runs on the workloads the controllers create
(scripts/checkov_oracle.py: a Rollout as its Deployment, an InferenceService as its predictor's Pod); each
failed check must be waived there with a reason. The oracle is first shown to catch both failures.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from scripts_support import EXAMPLES, built_examples, load_script, needs

checkov = load_script("checkov_oracle")


@pytest.fixture(scope="module", autouse=True)
def needs_checkov() -> None:
    """Skip when checkov is missing, except under `make test` and CI, where every oracle must run."""
    needs(checkov.checkov_missing())


@pytest.fixture(scope="module")
def built() -> Iterator[dict[str, Path]]:
    with built_examples("charter-checkov-") as roots:
        yield roots


WORKLOADS = ("Deployment.", "Pod.")  # the kinds that run containers, as checkov names their resources


@pytest.mark.parametrize("example", EXAMPLES)
def test_checkov_passes_every_manifest(built: dict[str, Path], example: str) -> None:
    failed, passed = checkov.check_deploy(built[example] / "deploy")
    assert not failed, "\n".join(map(str, failed))
    workloads = {finding.file for finding in passed if finding.resource.startswith(WORKLOADS)}
    assert {Path(file).name for file in workloads} & {"deployment.yaml", "rollout.yaml", "inferenceservice.yaml"}
    for check in ("CKV2_K8S_6", "CKV_K8S_38"):  # the issue's: a NetworkPolicy, no service account token
        covered = {finding.file for finding in passed if finding.check == check}
        assert covered == workloads, (check, workloads - covered)


def test_every_waiver_has_a_reason() -> None:
    assert checkov.WAIVED
    assert all(len(reason) > 40 for reason in checkov.WAIVED.values())


def copy_deploy(built: dict[str, Path], example: str, tmp_path: Path) -> Path:
    deploy = tmp_path / "deploy"
    shutil.copytree(built[example] / "deploy", deploy)
    return deploy


def test_the_oracle_catches_a_model_without_a_network_policy(built: dict[str, Path], tmp_path: Path) -> None:
    deploy = copy_deploy(built, "demand-forecast", tmp_path)
    # Both environments use the namespace `demand-forecast` (on two clusters): checkov, seeing one cluster,
    # counts either policy for both, so both go.
    for environment in ("staging", "production"):
        (deploy / environment / "demand-forecast/networkpolicy.yaml").unlink()
    failed, _ = checkov.check_deploy(deploy)
    assert {(finding.check, finding.file) for finding in failed} == {
        ("CKV2_K8S_6", "/staging/demand-forecast/deployment.yaml"),
        ("CKV2_K8S_6", "/production/demand-forecast/rollout.yaml"),
    }


def test_the_oracle_catches_a_predictor_with_a_token(built: dict[str, Path], tmp_path: Path) -> None:
    deploy = copy_deploy(built, "credit-scoring", tmp_path)
    served = deploy / "staging/credit-default/inferenceservice.yaml"
    service = yaml.safe_load(served.read_text("utf-8"))
    service["spec"]["predictor"]["automountServiceAccountToken"] = True
    served.write_text(yaml.safe_dump(service), "utf-8")
    failed, _ = checkov.check_deploy(deploy)
    assert {(finding.check, finding.resource) for finding in failed} == {
        ("CKV_K8S_38", "Pod.credit-risk.credit-default-predictor")
    }


def test_the_oracle_checks_the_pods_of_a_rollout(built: dict[str, Path], tmp_path: Path) -> None:
    deploy = copy_deploy(built, "demand-forecast", tmp_path)
    path = deploy / "production/demand-forecast/rollout.yaml"
    documents = list(yaml.safe_load_all(path.read_text("utf-8")))
    documents[0]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    path.write_text(yaml.safe_dump_all(documents), "utf-8")
    failed, _ = checkov.check_deploy(deploy)
    assert {finding.check for finding in failed} == {"CKV_K8S_16"}  # "Container should not be privileged"
