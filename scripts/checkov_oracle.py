"""checkov on what `charter build` renders, as the cluster would run it.

    python scripts/checkov_oracle.py DIR...     checkov on the deploy/ manifests of each built project

checkov knows Kubernetes' own kinds, not an Argo Rollouts Rollout or a KServe InferenceService, so each is
first written as the workload its controller creates from it: a Rollout as the Deployment of its pod template
(the ReplicaSets Argo Rollouts makes carry that template unchanged), an InferenceService as the Pod of its
predictor (KServe copies the predictor's pod fields and runs `model` as the container `kserve-container`).
Deployments, Services and NetworkPolicies go as they are, so graph checks such as CKV2_K8S_6 (a
NetworkPolicy selects the pods) see them together. checkov runs in its own venv (`make checkov`, .venv-checkov:
it pins packaging below 24), offline (`--skip-download`).

A failed check is a finding unless WAIVED lists it with the reason it does not apply.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
# Failed checks that do not apply to what Charter renders, each with the reason.
WAIVED = {
    "CKV_K8S_43": "a KServe predictor's image is its ClusterServingRuntime's, pinned by the cluster, not the manifest",
    "CKV_K8S_8": "KServe's ServingRuntime and Knative's queue-proxy give the predictor its liveness probe",
    "CKV_K8S_9": "KServe's ServingRuntime and Knative's queue-proxy give the predictor its readiness probe",
}


@dataclass(frozen=True)
class Finding:
    check: str
    resource: str
    file: str
    title: str

    def __str__(self) -> str:
        return f"{self.file}: [checkov {self.check}] {self.resource}: {self.title}"


def checkov_path() -> str | None:
    return str(CHECKOV) if CHECKOV.is_file() else shutil.which("checkov")


def checkov_missing() -> str | None:
    return None if checkov_path() else "checkov is not installed: `make checkov` (its own venv, .venv-checkov)"


def as_run(document: dict[str, Any]) -> dict[str, Any] | None:
    """The Kubernetes object the cluster runs for `document`, or None for what checkov has nothing to check."""
    kind = (document.get("apiVersion"), document.get("kind"))
    if kind == ("argoproj.io/v1alpha1", "Rollout"):
        spec = document["spec"]
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": document["metadata"],
            "spec": {key: spec[key] for key in ("replicas", "selector", "template")},
        }
    if kind == ("serving.kserve.io/v1beta1", "InferenceService"):
        return _predictor_pod(document)
    if kind[0] == "argoproj.io/v1alpha1":
        return None  # an Argo CD Application or an AnalysisTemplate: no pods
    return document


_POD_FIELDS = (
    "serviceAccountName",
    "automountServiceAccountToken",
    "securityContext",
    "imagePullSecrets",
    "nodeSelector",
    "tolerations",
)


def _predictor_pod(service: dict[str, Any]) -> dict[str, Any]:
    predictor = service["spec"]["predictor"]
    model = predictor["model"]
    container = {"name": "kserve-container", "image": model.get("image", f"{model.get('runtime', 'custom')}:runtime")}
    container.update({key: model[key] for key in ("imagePullPolicy", "resources", "securityContext") if key in model})
    meta = service["metadata"]
    # KServe labels the predictor's pods with the InferenceService's name, and copies its labels onto them.
    labels = {**meta.get("labels", {}), "serving.kserve.io/inferenceservice": meta["name"]}
    spec = {key: predictor[key] for key in _POD_FIELDS if key in predictor}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"{meta['name']}-predictor", "namespace": meta["namespace"], "labels": labels},
        "spec": {**spec, "containers": [container]},
    }


def as_run_tree(deploy: Path, out: Path) -> list[Path]:
    """Every manifest under `deploy` written as the cluster runs it, one directory per environment and model."""
    written = []
    for path in sorted(deploy.rglob("*.yaml")):
        if "canary" in path.relative_to(deploy).parts:
            continue  # the same objects again, with a traffic share
        documents = [as_run(d) for d in yaml.safe_load_all(path.read_text("utf-8")) if d is not None]
        kept = [d for d in documents if d is not None]
        if kept:
            target = out / path.relative_to(deploy)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(yaml.safe_dump_all(kept, sort_keys=False), "utf-8")
            written.append(target)
    return written


def run(directory: Path) -> dict[str, Any]:
    """checkov's JSON report of one directory of Kubernetes manifests."""
    done = subprocess.run(
        [
            checkov_path() or "checkov",
            "--directory",
            str(directory),
            "--framework",
            "kubernetes",
            "--skip-download",
            "--compact",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed ({done.returncode}): {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    found: dict[str, Any] = report[0] if isinstance(report, list) else report
    return found


def results(report: dict[str, Any], key: str) -> Iterator[Finding]:
    for check in report.get("results", {}).get(key, []):
        yield Finding(check["check_id"], check["resource"], check["file_path"], check["check_name"])


def check_deploy(deploy: Path) -> tuple[list[Finding], list[Finding]]:
    """(failed and not waived, passed) for the manifests under `deploy`."""
    with tempfile.TemporaryDirectory(prefix="charter-checkov-") as tmp:
        as_run_tree(deploy, Path(tmp))
        report = run(Path(tmp))
    failed = [finding for finding in results(report, "failed_checks") if finding.check not in WAIVED]
    return failed, list(results(report, "passed_checks"))


def main(argv: Sequence[str]) -> int:
    if not argv or (missing := checkov_missing()):
        print(__doc__ if not argv else missing, file=sys.stderr)
        return 2
    findings = [finding for root in argv for finding in check_deploy(Path(root) / "deploy")[0]]
    for finding in findings:
        print(finding)
    print(f"{len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
