"""Issue 27: every InferenceService Charter renders holds up against the KServe SDK's own models.

The SDK (`kserve` on PyPI) runs in its venv (.venv-kserve, `make kserve`); scripts/kserve_oracle.py walks its
OpenAPI-generated models strictly (the SDK itself drops unknown fields and coerces types) and then round-trips the
object. Before: the GPU quantity was rendered as an integer, which the SDK's V1ResourceRequirements (a map of
strings) would have coerced; now it is a string, as Kubernetes writes it back.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scripts_support import CREDIT_CANARY_EDITS, built_examples, edit_files, load_script, needs

from compiler.commands.cli import main

ROOT = Path(__file__).resolve().parent.parent
MODEL = "models/credit-default.yaml"
FORMAT = "    modelFormat: xgboost\n"
STAGING_APPROVALS = "  approvals: 1                     # one reviewer from the owning team\n"
kserve = load_script("kserve_oracle")

# credit-scoring (a push-mode rollout whose steps are canary InferenceServices of their own), edited: each runtime
# and protocol, a custom predictor, GPUs with RawDeployment and the Environment's placement, and a one-step canary.
VARIANTS: dict[str, dict[str, list[tuple[str, str]]]] = {
    "pytorch-triton": {MODEL: [(FORMAT, "    modelFormat: pytorch\n")]},
    "torchserve-v2": {MODEL: [(FORMAT, "    modelFormat: pytorch\n    servingRuntime: torchserve\n")]},
    "mlflow": {MODEL: [(FORMAT, "    modelFormat: mlflow\n")]},
    "tensorflow-grpc": {MODEL: [(FORMAT, "    modelFormat: tensorflow\n    protocolVersion: grpc-v1\n")]},
    "xgboost-mlserver": {MODEL: [(FORMAT, "    modelFormat: xgboost\n    servingRuntime: mlserver\n")]},
    "huggingface": {MODEL: [(FORMAT, "    modelFormat: huggingface\n")]},
    "custom": {MODEL: [(FORMAT, "    modelFormat: custom\n    image: ghcr.io/acme/serve@sha256:" + "1" * 64 + "\n")]},
    "gpu-raw": {
        MODEL: [('limits: {cpu: "1", memory: 2Gi}', 'limits: {cpu: "1", memory: 2Gi, gpu: 1}')],
        "environments/staging.yaml": [
            (
                STAGING_APPROVALS,
                "  approvals: 1\n  kserve: {deploymentMode: RawDeployment}\n"
                "  imagePullSecrets: [registry-credentials]\n  scheduling:\n"
                "    nodeSelector: {nvidia.com/gpu.present: 'true'}\n"
                "    tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]\n",
            )
        ],
    },
    "canary": CREDIT_CANARY_EDITS,
}


@pytest.fixture(scope="module", autouse=True)
def needs_the_sdk() -> None:
    needs(kserve.kserve_sdk_missing())


def variant(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    shutil.copytree(ROOT / "examples" / "credit-scoring", root)
    edit_files(root, VARIANTS[name])
    assert main(["build", str(root)]) == 0, name
    return root


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[tuple[str, Any]]]:
    """Every InferenceService of the examples and of the variants, named `<project>/<path in deploy/>`."""
    tmp = tmp_path_factory.mktemp("kserve-sdk")
    with built_examples("charter-kserve-sdk-") as examples:
        roots = {**examples, **{name: variant(tmp, name) for name in VARIANTS}}
        yield [
            (f"{name}/{file}", document)
            for name, root in roots.items()
            for file, document in kserve.inference_services(root / "deploy")
        ]


def test_every_rendered_inference_service_passes_the_sdk(rendered: list[tuple[str, Any]]) -> None:
    files = {file for file, _ in rendered}
    # What the variants are for: each is really among what the SDK judged.
    assert {
        "canary/production/credit-default/canary/inferenceservice.yaml",
        "gpu-raw/staging/credit-default/inferenceservice.yaml",
        "credit-scoring/production/credit-default/canary-step-2/inferenceservice.yaml",
        "custom/staging/credit-default/inferenceservice.yaml",
    } <= files, sorted(files)
    models = {file: document["spec"]["predictor"]["model"] for file, document in rendered}
    gpu = models["gpu-raw/staging/credit-default/inferenceservice.yaml"]["resources"]["limits"]
    assert gpu["nvidia.com/gpu"] == "1"
    assert models["tensorflow-grpc/staging/credit-default/inferenceservice.yaml"]["protocolVersion"] == "grpc-v1"
    judged, findings = kserve.sdk_errors(rendered)
    assert not findings, "\n".join(map(str, findings))
    assert judged == len(rendered) >= 30


def corrupt(document: Any, edit: str) -> Any:
    broken = copy.deepcopy(document)
    predictor = broken["spec"]["predictor"]
    if edit == "misspelled":
        predictor["canaryTraficPercent"] = predictor.pop("canaryTrafficPercent")
    elif edit == "nested-unknown":
        predictor["model"]["resources"]["limit"] = predictor["model"]["resources"].pop("limits")
    elif edit == "coerced":
        predictor["minReplicas"] = str(predictor["minReplicas"])
    elif edit == "integer-gpu":
        predictor["model"]["resources"]["limits"]["nvidia.com/gpu"] = 1
    elif edit == "required":
        del predictor["model"]["modelFormat"]
    elif edit == "list-as-text":
        predictor["model"]["securityContext"]["capabilities"]["drop"] = "ALL"
    return broken


def test_what_the_sdk_would_drop_or_bend_is_a_finding(rendered: list[tuple[str, Any]]) -> None:
    canary = dict(rendered)["credit-scoring/production/credit-default/canary/inferenceservice.yaml"]
    edits = ("misspelled", "nested-unknown", "coerced", "integer-gpu", "required", "list-as-text")
    judged, findings = kserve.sdk_errors((edit, corrupt(canary, edit)) for edit in edits)
    assert judged == len(edits)
    assert [str(finding) for finding in findings] == [
        "misspelled: [kserve SDK] /spec/predictor: unknown field `canaryTraficPercent` in V1beta1PredictorSpec "
        "(the SDK would drop it)",
        "nested-unknown: [kserve SDK] /spec/predictor/model/resources: unknown field `limit` in "
        "V1ResourceRequirements (the SDK would drop it)",
        'coerced: [kserve SDK] /spec/predictor/minReplicas: expected int, got str "3"',
        "integer-gpu: [kserve SDK] /spec/predictor/model/resources/limits/nvidia.com/gpu: expected str, got int 1",
        "required: [kserve SDK] /spec/predictor/model: V1beta1ModelSpec: Invalid value for `model_format`, "
        "must not be `None`",
        "list-as-text: [kserve SDK] /spec/predictor/model/securityContext/capabilities/drop: expected a list "
        "(List[str]), got str",
    ]


def test_a_value_that_does_not_come_back_from_the_round_trip_is_named() -> None:
    """The last net: whatever the walk let through but the models did not carry back."""
    before = {"spec": {"predictor": {"minReplicas": 3, "model": {"runtime": "kserve-xgbserver"}}}}
    after = {"spec": {"predictor": {"minReplicas": 3, "model": {"name": ""}}}}  # `name`: the SDK's default
    assert list(kserve._differences(before, after, "")) == ["/spec/predictor/model/runtime"]
