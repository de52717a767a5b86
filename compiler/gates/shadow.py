"""`charter deploy shadow`: a rollout's shadow window judged on Prometheus, as a gate report that is evidence.

While Argo Rollouts mirrors `shadow.percent` of the live requests to the new version, the AnalysisTemplate
`<model>-shadow` decides in the cluster. This measures the same queries (`compiler.stages.shadow_analysis`, never
PromQL from the command line) over the same window, on the pods of the two ReplicaSets the caller names by their
pod-template hashes (from the Rollout's status), and compares each result with the spec's bounds: the candidate's
error rate and latency with the analysis' `maxErrorRate` and `maxLatencyMs`, each `compare` metric (candidate
minus stable) with `maxDifference` either way. The report (`gate: shadow`) is recorded like the gates' reports
(`charter evidence record`).

A metric beyond a bound is CH780 (NaN, no mirrored request, is beyond every bound); one Prometheus could not
measure is CH781, no verdict, which fails the report (fail closed). The inputs say what was queried, with the
SHA-256 of the answers, so the record names what it judged.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from compiler.core.gate_report import Check, GateReport, Status, check
from compiler.core.models import Environment
from compiler.core.models.model import Deployment
from compiler.gates.errors import UnusableInput
from compiler.gates.project import ProjectSpecs
from compiler.integrations.prometheus import PrometheusError, instant

BEYOND_BOUND = "CH780"
NOT_MEASURED = "CH781"
UNUSABLE = "CH782"
TIMEOUT_SECONDS = 10.0
# A ReplicaSet's pod-template hash (Kubernetes' rand.SafeEncodeString of a hash): it is joined into the queries.
POD_HASH = re.compile(r"^[a-z0-9]{1,20}$")


@dataclass(frozen=True)
class ShadowOptions:
    model: str
    environment: str
    canary_hash: str
    stable_hash: str


def build(project: ProjectSpecs, options: ShadowOptions) -> GateReport:
    """Measure every metric of the shadow window and judge it; UnusableInput (CH782) before any query when the
    specs hold no shadow for this deployment or a hash is not one."""
    deployment, namespace, address = _deployment(project, options)
    rollout = deployment.rollout
    assert rollout is not None  # _deployment refused a deployment without one
    assert rollout.shadow is not None
    from compiler.stages import shadow_analysis

    view = shadow_analysis(options.model, rollout, address)
    report = GateReport(
        "shadow",
        f"model `{options.model}` in {options.environment} · {rollout.shadow.percent}% of requests mirrored for "
        f"{rollout.shadow.duration_minutes} min · candidate {options.canary_hash} against stable {options.stable_hash}",
        subject={
            "model": options.model,
            "environment": options.environment,
            "percent": rollout.shadow.percent,
            "durationMinutes": rollout.shadow.duration_minutes,
            "candidate": options.canary_hash,
            "stable": options.stable_hash,
        },
    )
    answers: list[list[str]] = []
    for metric in view["metrics"]:
        query = (
            metric["query"]
            .replace("{{args.namespace}}", namespace)
            .replace("{{args.canary-hash}}", options.canary_hash)
            .replace("{{args.stable-hash}}", options.stable_hash)
        )
        finding, answer = _judge(metric, query, address)
        report.add(finding)
        answers.append([query, answer])
    digest = hashlib.sha256(json.dumps(answers, separators=(",", ":")).encode()).hexdigest()
    report.inputs.append(
        {
            "path": address,
            "namespace": namespace,
            "window": f"{rollout.shadow.duration_minutes}m",
            "queries": len(answers),
            "digest": f"sha256:{digest}",
        }
    )
    return report


def _deployment(project: ProjectSpecs, options: ShadowOptions) -> tuple[Deployment, str, str]:
    """The deployment whose shadow is measured, its namespace and Prometheus."""
    _, model = project.model(options.model)
    env = project.resolved.get("Environment", options.environment)
    if env is None or not isinstance(env.model, Environment):
        raise UnusableInput(f"no valid Environment named `{options.environment}`", code=UNUSABLE)
    deployment = next((d for d in model.spec.deployments if d.environment == options.environment), None)
    if deployment is None or deployment.rollout is None or deployment.rollout.shadow is None:
        raise UnusableInput(
            f"Model `{options.model}` has no `rollout.shadow` in its deployment to `{options.environment}`",
            code=UNUSABLE,
        )
    if model.spec.serving is None or model.spec.serving.runtime != "kubernetes":
        raise UnusableInput(f"Model `{options.model}` is not served by runtime `kubernetes`", code=UNUSABLE)
    if env.model.spec.prometheus is None:
        raise UnusableInput(f"Environment `{options.environment}` names no `prometheus`", code=UNUSABLE)
    for role, given in (("candidate", options.canary_hash), ("stable", options.stable_hash)):
        if POD_HASH.fullmatch(given) is None:
            raise UnusableInput(
                f"`{given[:80]}` is not a pod-template hash of the {role} ReplicaSet (lowercase letters and digits)",
                code=UNUSABLE,
            )
    return deployment, env.model.spec.namespace, env.model.spec.prometheus


def _judge(metric: dict[str, Any], query: str, address: str) -> tuple[Check, str]:
    """The check of one metric, and Prometheus' answer as recorded in the digest."""
    name, low, high = metric["name"], metric["min"], metric["max"]
    title = f"{name} of the shadow candidate" if low is None else f"{name}: candidate minus stable"
    expected = metric["label"]
    bounds = {"min": low, "max": high}  # what `charter check` judges the recorded value against again
    try:
        value = instant(address, query, TIMEOUT_SECONDS)
    except PrometheusError as error:
        # Prometheus' own words, clipped: the report is filed as evidence and shown in pull requests.
        message = f"{name} not measured, which fails the shadow window: {str(error)[:300]}"
        unmeasured = check(NOT_MEASURED, name, title, "no-verdict", expected=expected, message=message, details=bounds)
        return unmeasured, "no answer"
    measured: float | None = value
    if not math.isfinite(value):  # JSON has no NaN or infinity, and neither is a measurement within any bound
        shown = "NaN (no mirrored request in the window?)" if math.isnan(value) else str(value)
        measured, message = None, f"{name} measured {shown}, beyond {expected}"
    elif high is not None and not value <= high:
        message = f"{name} measured {value:g}, above the bound {high!r}"
    elif low is not None and not value >= low:
        message = f"{name} measured {value:g}, below the bound {low!r}"
    else:
        message = ""
    status: Status = "fail" if message else "pass"
    options = {"expected": expected, "message": message, "details": bounds}
    return check(BEYOND_BOUND, name, title, status, value=measured, **options), repr(value)
