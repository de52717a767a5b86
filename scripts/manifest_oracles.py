"""The manifest oracles of scripts/oracles.py: each Kubernetes object `charter build` renders, by its kind.

  - core Kubernetes kinds: kubernetes-validate, strict (unknown fields rejected), against the oldest
    and the newest Kubernetes version it ships schemas for;
  - KServe InferenceService, Argo Rollouts Rollout, AnalysisTemplate (and Experiment): their CRDs'
    openAPIV3Schema, vendored, made strict (additionalProperties: false wherever `properties` is given and
    unknown fields are not preserved);
  - Argo CD Application and Istio VirtualService: the structure Charter emits, strictly, typed as their projects
    document them (neither ships a CRD schema on PyPI or npm that could be vendored: @kubernetes-models/istio
    holds compiled validators that accept unknown fields).
`Finding` is what every oracle reports, here and in scripts/oracles.py.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parent.parent
KSERVE_SCHEMA = ROOT.parent / "shared" / "schemas-external" / "kserve-inferenceservice-v1beta1.json"
# Argo Rollouts' CRDs (argoproj/argo-rollouts manifests/crds), by kind, made strict like KServe's.
ARGO_ROLLOUTS_SCHEMAS = {
    kind: ROOT / "tests" / "schemas-external" / f"argo-rollouts-{kind.lower()}-v1alpha1.json"
    for kind in ("Rollout", "AnalysisTemplate", "Experiment")
}
CORE_KINDS = {
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("policy/v1", "PodDisruptionBudget"),
    ("batch/v1", "Job"),  # training.orchestrator: kubernetes-job
    ("batch/v1", "CronJob"),  # its monitoring.retrain.schedule
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("networking.k8s.io/v1", "Ingress"),  # an environment's `ingress`
}


@dataclass(frozen=True)
class Finding:
    oracle: str
    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: [{self.oracle}] {self.message}"


# --- Kubernetes ----------------------------------------------------------------------


@functools.cache
def kubernetes_versions() -> tuple[str, ...]:
    """The oldest and the newest Kubernetes versions kubernetes-validate ships strict schemas for."""
    import kubernetes_validate

    schemas = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    shipped = sorted(
        (tuple(int(part) for part in entry.name[1:].split("-")[0].split(".")), entry.name[1:].split("-")[0])
        for entry in schemas.iterdir()
        if entry.name.endswith("-local-strict")
    )
    return (shipped[0][1], shipped[-1][1])


def kubernetes_errors(document: Any, file: str, versions: Sequence[str] | None = None) -> list[Finding]:
    """Strict: unknown fields are errors, and so is a kind without a schema (the CLI only warns)."""
    import kubernetes_validate

    findings = []
    for version in versions or kubernetes_versions():
        oracle = f"kubernetes-validate {version} strict"
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = "/".join(map(str, error.absolute_path))
            findings.append(Finding(oracle, file, f"{where}: {error.message}"))
        except kubernetes_validate.SchemaNotFoundError as error:
            findings.append(Finding(oracle, file, error.message))
    return findings


def strict_schema(node: Any) -> Any:
    """additionalProperties: false wherever `properties` is given and unknown fields are not preserved."""
    if isinstance(node, dict):
        out = {key: strict_schema(value) for key, value in node.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [strict_schema(item) for item in node]
    return node


@functools.cache
def _crd_validator(path: Path) -> jsonschema.protocols.Validator:
    """A CRD's openAPIV3Schema (a vendored JSON file), made strict."""
    schema = strict_schema(json.loads(path.read_text("utf-8")))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)  # type: ignore[no-any-return]


def _schema_findings(oracle: str, file: str, validator: jsonschema.protocols.Validator, document: Any) -> list[Finding]:
    return [
        Finding(oracle, file, f"{'/'.join(map(str, error.absolute_path))}: {error.message}")
        for error in validator.iter_errors(document)
    ]


def argo_rollouts_missing() -> str | None:
    absent = [str(path) for path in ARGO_ROLLOUTS_SCHEMAS.values() if not path.is_file()]
    return f"the Argo Rollouts CRD schemas are missing: {', '.join(absent)}" if absent else None


def argo_rollouts_errors(document: Any, file: str) -> list[Finding]:
    kind = document["kind"]
    validator = _crd_validator(ARGO_ROLLOUTS_SCHEMAS[kind])
    return _schema_findings(f"argo-rollouts {kind} CRD strict", file, validator, document)


def kserve_errors(document: Any, file: str) -> list[Finding]:
    return _schema_findings("kserve CRD strict", file, _crd_validator(KSERVE_SCHEMA), document)


# The Argo CD Application fields Charter emits, typed as Argo CD documents them
# (argoproj.io/v1alpha1 Application: spec.project, spec.source, spec.destination,
# spec.syncPolicy); anything else is an error, so a stray key cannot slip in.
_NAME = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"}
_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
_METADATA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "namespace"],
    "properties": {"name": _NAME, "namespace": _NAME, "labels": _STRINGS, "annotations": _STRINGS},
}
ARGOCD_APPLICATION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "argoproj.io/v1alpha1"},
        "kind": {"const": "Application"},
        "metadata": _METADATA,
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["project", "source", "destination"],
            "properties": {
                "project": {"type": "string", "minLength": 1},
                "source": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["repoURL", "path"],
                    "properties": {
                        "repoURL": {"type": "string", "minLength": 1},
                        "targetRevision": {"type": "string"},
                        "path": {"type": "string", "minLength": 1},
                    },
                },
                "destination": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string"},
                        "server": {"type": "string"},
                        "namespace": {"type": "string"},
                    },
                    "oneOf": [{"required": ["name"]}, {"required": ["server"]}],
                },
                "syncPolicy": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "automated": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "prune": {"type": "boolean"},
                                "selfHeal": {"type": "boolean"},
                                "allowEmpty": {"type": "boolean"},
                            },
                        },
                        "syncOptions": {"type": "array", "items": {"type": "string", "pattern": r"^[A-Za-z]+=\S+$"}},
                    },
                },
            },
        },
    },
}


def argocd_errors(document: Any, file: str) -> list[Finding]:
    return _schema_findings("argocd Application", file, jsonschema.Draft7Validator(ARGOCD_APPLICATION), document)


# The Istio VirtualService fields Charter emits (networking.istio.io/v1, istio.io/latest/docs/reference/config/
# networking/virtual-service: hosts, http[].name, http[].route[].destination {host, port.number}, weight 0-100),
# strictly: Argo Rollouts edits the weights of the named route and adds its managed routes.
_DESTINATION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["host"],
    "properties": {
        "host": _NAME,
        "port": {
            "type": "object",
            "additionalProperties": False,
            "required": ["number"],
            "properties": {"number": {"type": "integer", "minimum": 1, "maximum": 65535}},
        },
    },
}
ISTIO_VIRTUAL_SERVICE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "networking.istio.io/v1"},
        "kind": {"const": "VirtualService"},
        "metadata": _METADATA,
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["hosts", "http"],
            "properties": {
                "hosts": {"type": "array", "minItems": 1, "items": _NAME},
                "http": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name", "route"],
                        "properties": {
                            "name": {"type": "string", "minLength": 1},
                            "route": {
                                "type": "array",
                                "minItems": 1,
                                "items": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["destination"],
                                    "properties": {
                                        "destination": _DESTINATION,
                                        "weight": {"type": "integer", "minimum": 0, "maximum": 100},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def istio_errors(document: Any, file: str) -> list[Finding]:
    validator = jsonschema.Draft7Validator(ISTIO_VIRTUAL_SERVICE)
    return _schema_findings("istio VirtualService", file, validator, document)


# --- one object ------------------------------------------------------------------------


def manifest_errors(document: Any, file: str) -> list[Finding]:
    """The oracle for one Kubernetes object, by its apiVersion and kind."""
    if not isinstance(document, dict):
        return [Finding("manifest", file, "not a mapping")]
    key = (document.get("apiVersion"), document.get("kind"))
    if key in CORE_KINDS:
        return kubernetes_errors(document, file)
    if key == ("serving.kserve.io/v1beta1", "InferenceService"):
        return kserve_errors(document, file)
    if key == ("argoproj.io/v1alpha1", "Application"):
        return argocd_errors(document, file)
    if key == ("networking.istio.io/v1", "VirtualService"):
        return istio_errors(document, file)
    if key[0] == "argoproj.io/v1alpha1" and key[1] in ARGO_ROLLOUTS_SCHEMAS:
        return argo_rollouts_errors(document, file)
    return [Finding("manifest", file, f"no oracle for {key[0]} {key[1]}")]
