"""Serving runs as a service account that may read `storageUri` (issue 22).

Measured: the InferenceService and the Deployment named no service account, so the namespace's `default`
account had to read the model's bucket, or nothing could. An Environment's `serviceAccount` (every model served
there) or a model's `serving.serviceAccount` (overriding it) is now rendered as the pod's `serviceAccountName`,
and what is rendered still passes KServe's schema and Kubernetes' own.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from scripts_support import load_script

from compiler.commands.cli import main

ROOT = Path(__file__).resolve().parent.parent
oracles = load_script("oracles")


def _predictor(path: Path) -> dict[str, object]:
    predictor: dict[str, object] = yaml.safe_load(path.read_text("utf-8"))["spec"]["predictor"]
    return predictor


def test_the_environment_names_the_inference_service_account() -> None:
    deploy = ROOT / "examples" / "credit-scoring" / "deploy"
    for manifest in (
        deploy / "staging" / "credit-default" / "inferenceservice.yaml",
        deploy / "production" / "credit-default" / "inferenceservice.yaml",
        deploy / "production" / "credit-default" / "canary" / "inferenceservice.yaml",
    ):
        assert '    serviceAccountName: "credit-risk-models"\n' in manifest.read_text("utf-8")
        assert _predictor(manifest)["serviceAccountName"] == "credit-risk-models"
        if oracles.kserve_missing() is None:
            document = yaml.safe_load(manifest.read_text("utf-8"))
            assert oracles.kserve_errors(document, manifest.name) == []


def test_the_model_names_the_deployment_service_account() -> None:
    deploy = ROOT / "examples" / "demand-forecast" / "deploy"
    for environment, file, kind in (("staging", "deployment", "Deployment"), ("production", "rollout", "Rollout")):
        manifest = deploy / environment / "demand-forecast" / f"{file}.yaml"
        documents = list(yaml.safe_load_all(manifest.read_text("utf-8")))
        (deployment,) = [d for d in documents if d["kind"] == kind]
        pod = deployment["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == "demand-forecast-reader"
        if oracles.kubernetes_validate_missing() is None and oracles.argo_rollouts_missing() is None:
            assert oracles.manifest_errors(deployment, manifest.name) == []


def test_the_models_account_overrides_the_environments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "credit-scoring"
    shutil.copytree(ROOT / "examples" / "credit-scoring", project)
    model = project / "models" / "credit-default.yaml"
    text = model.read_text("utf-8")
    model.write_text(
        text.replace("    modelFormat: xgboost\n", "    modelFormat: xgboost\n    serviceAccount: scorer\n"), "utf-8"
    )
    assert main(["build", str(project)]) == 0
    staging = project / "deploy" / "staging" / "credit-default" / "inferenceservice.yaml"
    assert _predictor(staging)["serviceAccountName"] == "scorer"


def test_a_service_account_is_a_dns_label(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "credit-scoring"
    shutil.copytree(ROOT / "examples" / "credit-scoring", project)
    staging = project / "environments" / "staging.yaml"
    staging.write_text(staging.read_text("utf-8").replace("credit-risk-models", "Models_Reader"), "utf-8")
    capsys.readouterr()
    assert main(["check", str(project), "--format", "json"]) == 1

    findings = json.loads(capsys.readouterr().out)["diagnostics"]
    (finding,) = [f for f in findings if f["code"] == "CH205"]
    assert (finding["file"], finding["line"], finding["column"]) == (str(staging), 14, 19)
    assert finding["message"] == "`serviceAccount` must be a DNS label (got `Models_Reader`)"
