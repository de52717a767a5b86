"""CH460-CH462: deployment strategies a cluster would not carry out as written, at the line that asks for them.

- CH460: a `rollout` whose environment names no Prometheus: its analysis would have nothing to query.
- CH461: a `rollout` on the `kserve` runtime in gitops mode: Argo Rollouts manages Deployments' pods, not
  InferenceServices, and no job runs to analyse the steps. In push mode the deploy job steps
  `canaryTrafficPercent` and runs the analysis itself (`charter deploy analyze`), so the rollout is carried out.
- CH462: a `canary` on a KServe RawDeployment environment: KServe ignores `canaryTrafficPercent` there without a
  warning (KServe issues 4074, 5335), so the "canary" would take all traffic at once.
- CH456: a `rollout` with `shadow` whose environment names no `trafficRouter`: mirroring is done by the router
  (Argo Rollouts' `setMirrorRoute`), and without one no request would reach the candidate.
- CH457: `shadow` on the `kserve` runtime: KServe (Knative) splits traffic between revisions but cannot mirror it.
- CH458 (info): `shadow` in gitops mode: the cluster's analysis decides, but no generated job records its results
  as evidence (none holds the cluster's credentials to read the Rollout's ReplicaSets).
- CH463: a serving runtime that cannot load the model's format; CH464: a protocol the runtime does not speak;
  CH465 (warning): TorchServe, in limited maintenance.
- CH466 (warning): a KServe model in an environment with `ingress`: KServe documents no per-InferenceService
  ingress class; it creates the Ingress itself with the `ingressClassName` of its `inferenceservice-config`
  ConfigMap, so the environment's class would not be the one serving the model.
"""

from __future__ import annotations

from compiler.core import serving_runtimes
from compiler.core.diagnostics import Diagnostic
from compiler.core.models import Environment, Model
from compiler.core.models.model import Deployment, Serving
from compiler.core.resolved import Resolved
from compiler.core.specs import Spec


def strategy_findings(resolved: Resolved, gitops: bool = False) -> list[Diagnostic]:
    findings: list[Diagnostic] = []
    for spec in sorted(resolved.by_kind.get("Model", {}).values(), key=lambda s: (s.file, s.name)):
        if not isinstance(spec.model, Model) or spec.model.spec.serving is None:
            continue
        runtime = spec.model.spec.serving.runtime
        findings.extend(runtime_findings(spec, spec.model.spec.serving))
        for index, deployment in enumerate(spec.model.spec.deployments):
            env_spec = resolved.get("Environment", deployment.environment)
            if env_spec is None or not isinstance(env_spec.model, Environment):
                continue  # an unknown environment has its own finding (CH401)
            env = env_spec.model.spec
            at: list[str | int] = ["spec", "deployments", index]
            if deployment.rollout is not None and runtime == "kserve" and gitops:
                findings.append(
                    spec.finding(
                        "CH461",
                        "in gitops mode a `rollout` is rendered as an Argo Rollouts Rollout, which cannot manage a "
                        "KServe InferenceService",
                        [*at, "rollout"],
                        key=True,
                        hint="use `canary`, or deploy in push mode (the deploy job steps canaryTrafficPercent and "
                        "runs the analysis), or serve with runtime `kubernetes` and your own image",
                    )
                )
            elif deployment.rollout is not None and env.prometheus is None:
                findings.append(
                    spec.finding(
                        "CH460",
                        f"the rollout's analysis queries Prometheus, but environment `{env_spec.name}` names none",
                        [*at, "rollout"],
                        key=True,
                        hint=f"add `prometheus: http://<service>.<namespace>.svc:9090` to the spec of environment "
                        f"`{env_spec.name}` ({env_spec.file})",
                    )
                )
            findings.extend(shadow_findings(spec, deployment, env_spec, runtime, at, gitops))
            findings.extend(ingress_findings(spec, env_spec, runtime, at))
            stepped = deployment.canary is not None or deployment.rollout is not None
            if stepped and runtime == "kserve" and env.kserve.deployment_mode == "RawDeployment":
                findings.append(
                    spec.finding(
                        "CH462",
                        f"environment `{env_spec.name}` serves KServe in RawDeployment mode, which ignores "
                        "canaryTrafficPercent: the canary would take all traffic at once",
                        [*at, "canary" if deployment.canary is not None else "rollout"],
                        key=True,
                        hint="serve this environment in `kserve: {deploymentMode: Serverless}`, or remove `canary` "
                        "(or `rollout`) and roll out whole",
                    )
                )
    return findings


def shadow_findings(
    spec: Spec, deployment: Deployment, env_spec: Spec, runtime: str, at: list[str | int], gitops: bool = False
) -> list[Diagnostic]:
    """Shadow traffic is mirrored by a traffic router that Argo Rollouts drives: KServe has none to drive, and an
    Environment without `trafficRouter` says its cluster has none."""
    if deployment.rollout is None or deployment.rollout.shadow is None or not isinstance(env_spec.model, Environment):
        return []
    env_name, env_file = env_spec.name, env_spec.file
    where = [*at, "rollout", "shadow"]
    if runtime == "kserve":
        return [
            spec.finding(
                "CH457",
                "KServe cannot mirror traffic: its InferenceService splits requests between revisions "
                "(canaryTrafficPercent) but sends none to two at once",
                where,
                key=True,
                hint="remove `shadow` (compare the versions with `canary` steps and their analysis), or serve with "
                "runtime `kubernetes` and your own image, where Argo Rollouts mirrors through the traffic router",
            )
        ]
    if env_spec.model.spec.traffic_router is None:
        return [
            spec.finding(
                "CH456",
                f"shadow traffic is mirrored by a traffic router, but environment `{env_name}` names none",
                where,
                key=True,
                hint=f"add `trafficRouter: istio` to the spec of environment `{env_name}` ({env_file}) if its "
                "cluster runs Istio, or remove `shadow`",
            )
        ]
    if gitops:
        return [
            spec.finding(
                "CH458",
                "in gitops mode the shadow window is judged in the cluster, but its results are not recorded as "
                "evidence: no generated job holds the cluster's credentials to find the versions' pods",
                where,
                key=True,
                hint="run `charter deploy shadow` (with the Rollout's currentPodHash and stableRS) from a runner "
                "that reaches the cluster and its Prometheus, and `charter evidence record` its report",
            )
        ]
    return []


def ingress_findings(spec: Spec, env_spec: Spec, runtime: str, at: list[str | int]) -> list[Diagnostic]:
    """KServe creates a model's ingress itself, with its cluster configuration's class: not the environment's."""
    if not isinstance(env_spec.model, Environment) or env_spec.model.spec.ingress is None or runtime != "kserve":
        return []
    return [
        spec.finding(
            "CH466",
            f"environment `{env_spec.name}` names ingress class `{env_spec.model.spec.ingress.class_name}`, but "
            "KServe creates this model's ingress itself, with the class of its cluster configuration",
            [*at, "environment"],
            key=True,
            hint="set `ingressClassName` (and `ingressDomain`) in the `ingress` entry of KServe's "
            "`inferenceservice-config` ConfigMap to match, or serve with runtime `kubernetes`",
        )
    ]


def runtime_findings(spec: Spec, serving: Serving) -> list[Diagnostic]:
    """The KServe serving runtime against the model's format and the protocol asked of it."""
    if serving.serving_runtime is None:
        return []
    at: list[str | int] = ["spec", "serving", "servingRuntime"]
    chosen = serving_runtimes.RUNTIMES[serving.serving_runtime]
    if serving.model_format not in chosen.formats:
        able = serving_runtimes.serving(serving.model_format)
        return [
            spec.finding(
                "CH463",
                f"serving runtime `{serving.serving_runtime}` ({chosen.cluster_runtime}) cannot load "
                f"`modelFormat: {serving.model_format}`; it serves {', '.join(sorted(chosen.formats))}",
                at,
                hint=f"choose {' or '.join(f'`{name}`' for name in able)}"
                if able
                else "leave `servingRuntime` out and give `image` (a custom predictor)",
            )
        ]
    findings = []
    if serving.protocol_version is not None and serving.protocol_version not in chosen.protocols:
        findings.append(
            spec.finding(
                "CH464",
                f"serving runtime `{serving.serving_runtime}` speaks {', '.join(chosen.protocols)}, "
                f"not `{serving.protocol_version}`",
                ["spec", "serving", "protocolVersion"],
                hint=f"use `protocolVersion: {chosen.protocols[0]}`, or a runtime that speaks "
                f"`{serving.protocol_version}`",
            )
        )
    if serving.serving_runtime in serving_runtimes.UNMAINTAINED:
        findings.append(
            spec.finding(
                "CH465",
                serving_runtimes.UNMAINTAINED[serving.serving_runtime],
                at,
                hint="serve TorchScript with `servingRuntime: triton`, or a custom predictor (`image`)",
            )
        )
    return findings
