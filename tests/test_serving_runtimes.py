"""Issue 27, serving runtimes: KServe's runtime and protocol chosen, validated against the format, rendered.

Before: only `modelFormat` was rendered, so KServe chose the runtime (TorchServe for `pytorch`) and the protocol
went unsaid. Each InferenceService is checked against KServe's CRD made strict.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from scripts_support import load_script

from compiler.commands.cli import main

ROOT = Path(__file__).resolve().parent.parent
SERVED = "deploy/staging/credit-default/inferenceservice.yaml"
FORMAT = "    modelFormat: xgboost\n"
oracles = load_script("oracles")


def project(tmp_path: Path, serving: str) -> Path:
    root = tmp_path / "credit-scoring"
    shutil.copytree(ROOT / "examples" / "credit-scoring", root)
    model = root / "models/credit-default.yaml"
    text = model.read_text("utf-8")
    assert FORMAT in text
    model.write_text(text.replace(FORMAT, serving), "utf-8")
    return root


def predictor_model(root: Path) -> Any:
    (service,) = YAML(typ="safe", pure=True).load_all((root / SERVED).read_text("utf-8"))
    assert oracles.kserve_errors(service, SERVED) == []
    return service["spec"]["predictor"]["model"]


@pytest.mark.parametrize(
    ("serving", "runtime", "protocol"),
    [
        (FORMAT, "kserve-xgbserver", "v1"),
        ("    modelFormat: pytorch\n", "kserve-tritonserver", "v2"),  # not TorchServe
        ("    modelFormat: mlflow\n", "kserve-mlserver", "v2"),
        ("    modelFormat: tensorflow\n    protocolVersion: grpc-v1\n", "kserve-tensorflow-serving", "grpc-v1"),
        ("    modelFormat: xgboost\n    servingRuntime: mlserver\n", "kserve-mlserver", "v2"),
        ("    modelFormat: huggingface\n", "kserve-huggingfaceserver", "v1"),
    ],
)
def test_the_runtime_and_protocol_are_rendered(tmp_path: Path, serving: str, runtime: str, protocol: str) -> None:
    root = project(tmp_path, serving)
    assert main(["build", str(root)]) == 0
    model = predictor_model(root)
    assert (model["runtime"], model["protocolVersion"]) == (runtime, protocol)
    card = (root / "docs/models/credit-default.md").read_text("utf-8")
    assert f"KServe Serverless mode, runtime {runtime} \\(protocol {protocol}\\)" in card


def test_a_custom_format_names_no_runtime(tmp_path: Path) -> None:
    image = "ghcr.io/acme/credit-serve@sha256:" + "1" * 64
    root = project(tmp_path, f"    modelFormat: custom\n    image: {image}\n")
    assert main(["build", str(root)]) == 0
    model = predictor_model(root)
    assert "runtime" not in model
    assert "protocolVersion" not in model
    assert model["image"] == image


def test_a_runtime_that_cannot_load_the_format_is_ch463(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, "    modelFormat: xgboost\n    servingRuntime: tfserving\n")
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert (
        "models/credit-default.yaml:79:21: error[CH463] serving runtime `tfserving` (kserve-tensorflow-serving) "
        "cannot load `modelFormat: xgboost`; it serves tensorflow"
    ) in out, out
    assert "hint: choose `mlserver` or `xgboost`" in out


def test_a_protocol_the_runtime_does_not_speak_is_ch464(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, "    modelFormat: mlflow\n    servingRuntime: mlserver\n    protocolVersion: v1\n")
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert "models/credit-default.yaml:80:22: error[CH464] serving runtime `mlserver` speaks v2, not `v1`" in out, out


def test_torchserve_is_a_warning_with_the_maintained_choice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, "    modelFormat: pytorch\n    servingRuntime: torchserve\n")
    main(["check", str(root)])
    out = capsys.readouterr().out
    assert "models/credit-default.yaml:79:21: warning[CH465] TorchServe is in limited maintenance" in out, out
    assert "hint: serve TorchScript with `servingRuntime: triton`" in out


def test_runtime_fields_on_the_kubernetes_runtime_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "demand-forecast"
    shutil.copytree(ROOT / "examples" / "demand-forecast", root)
    model = root / "models/demand-forecast.yaml"
    text = model.read_text("utf-8").replace(
        "    modelFormat: lightgbm\n", "    modelFormat: lightgbm\n    servingRuntime: lightgbm\n"
    )
    model.write_text(text, "utf-8")
    assert main(["check", str(root)]) == 1
    assert "`servingRuntime` and `protocolVersion` are KServe's: runtime `kubernetes` serves `image`" in (
        capsys.readouterr().out
    )
