"""KServe's built-in serving runtimes: which model formats each serves, over which protocols.

From KServe's ClusterServingRuntimes (config/runtimes in kserve/kserve): the name Charter's spec uses, the
ClusterServingRuntime an InferenceService names in `predictor.model.runtime`, the `modelFormat` names it
lists in `supportedModelFormats`, and its `protocolVersions`. A format a runtime does not list is one it
cannot load: KServe would leave the InferenceService unready ("no runtime found").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ServerName = Literal["triton", "torchserve", "tfserving", "huggingface", "sklearn", "xgboost", "lightgbm", "mlserver"]
ProtocolVersion = Literal["v1", "v2", "grpc-v1", "grpc-v2"]


@dataclass(frozen=True)
class ServingRuntime:
    cluster_runtime: str
    formats: frozenset[str]
    protocols: tuple[str, ...]
    """The first is the one Charter renders when the spec names none."""


RUNTIMES: dict[str, ServingRuntime] = {
    "triton": ServingRuntime("kserve-tritonserver", frozenset({"onnx", "pytorch", "tensorflow"}), ("v2", "grpc-v2")),
    "torchserve": ServingRuntime("kserve-torchserve", frozenset({"pytorch"}), ("v1", "v2", "grpc-v2")),
    "tfserving": ServingRuntime("kserve-tensorflow-serving", frozenset({"tensorflow"}), ("v1", "grpc-v1")),
    "huggingface": ServingRuntime("kserve-huggingfaceserver", frozenset({"huggingface"}), ("v1", "v2")),
    "sklearn": ServingRuntime("kserve-sklearnserver", frozenset({"sklearn"}), ("v1", "v2")),
    "xgboost": ServingRuntime("kserve-xgbserver", frozenset({"xgboost"}), ("v1", "v2")),
    "lightgbm": ServingRuntime("kserve-lgbserver", frozenset({"lightgbm"}), ("v1", "v2")),
    "mlserver": ServingRuntime("kserve-mlserver", frozenset({"sklearn", "xgboost", "lightgbm", "mlflow"}), ("v2",)),
}

# What Charter chooses when the spec names no runtime: KServe's own choice, except for `pytorch`, which KServe
# gives to TorchServe, in limited maintenance since 2025 (pytorch/serve#3396) and proposed for removal from
# KServe; Triton serves TorchScript and is maintained.
DEFAULTS: dict[str, str] = {
    "sklearn": "sklearn",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "onnx": "triton",
    "pytorch": "triton",
    "tensorflow": "tfserving",
    "huggingface": "huggingface",
    "mlflow": "mlserver",
}
UNMAINTAINED = {"torchserve": "TorchServe is in limited maintenance (pytorch/serve#3396) and proposed for removal"}


def serving(model_format: str) -> list[str]:
    """The runtimes that serve a format, by name."""
    return sorted(name for name, runtime in RUNTIMES.items() if model_format in runtime.formats)
