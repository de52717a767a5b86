"""The Kubernetes manifests of one model in one environment: what it serves with, where, and who may reach it.

- `kserve`: an InferenceService with its deployment mode explicit (`serving.kserve.io/deploymentMode`), the
  predictor without a service account token (CKV_K8S_38), and with a canary its `canaryTrafficPercent` copy.
- `kubernetes`: a Deployment (and a `<name>-canary` one for a workflow canary), or, with a `rollout`, an Argo
  Rollouts Rollout and the AnalysisTemplates that decide it (with a traffic router, the VirtualService and the
  stable and canary Services it edits; with `shadow`, the mirror: render/shadow.py); then its Service, HPA and
  PodDisruptionBudget.
- Both: a default-deny NetworkPolicy (CKV2_K8S_6) with the ingress the runtime serves on (from any source, the
  ingress controller included), and the environment's pull secrets, node selector and tolerations on the pods.
- `kubernetes` with the environment's `ingress`: an Ingress of its class for `<model>.<domain>` to the Service.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from compiler.core import serving_runtimes
from compiler.core.models.common import Resources
from compiler.core.models.environment import EnvironmentSpec
from compiler.core.models.model import Deployment, ModelSpec, Serving
from compiler.core.models.rollout import Analysis, RolloutStrategy
from compiler.core.templating import render_template
from compiler.stages.render import shadow

DEFAULT_RESOURCES = {
    "requests": {"cpu": "500m", "memory": "1Gi"},
    "limits": {"cpu": "1", "memory": "2Gi"},
}
# Knative's queue-proxy fronts a Serverless predictor: 8012 (HTTP), 8013 (HTTP/2), 9090 and 9091 (metrics).
_QUEUE_PROXY_PORTS = (8012, 8013, 9090, 9091)
_KSERVE_POD_LABEL = "serving.kserve.io/inferenceservice"


def resources(given: Resources | None) -> dict[str, Any]:
    out = {kind: dict(values) for kind, values in DEFAULT_RESOURCES.items()}
    gpu = None
    if given is not None:
        for kind in ("requests", "limits"):
            listed = getattr(given, kind)
            if listed is not None:
                for field in ("cpu", "memory"):
                    value = getattr(listed, field)
                    if value is not None:
                        out[kind][field] = str(value)
                gpu = listed.gpu if listed.gpu is not None else gpu
    return {**out, "gpu": gpu}


def server(serving: Serving) -> dict[str, str] | None:
    """The KServe runtime and protocol an InferenceService names: the spec's, or the default for its format."""
    name = serving.serving_runtime or serving_runtimes.DEFAULTS.get(serving.model_format)
    if serving.runtime != "kserve" or name is None:
        return None  # `custom`: the image's own server
    chosen = serving_runtimes.RUNTIMES[name]
    return {
        "name": name,
        "runtime": chosen.cluster_runtime,
        "protocol": serving.protocol_version or chosen.protocols[0],
    }


def placement(env: EnvironmentSpec) -> dict[str, Any]:
    """Where the pods run and what they pull with, from the Environment."""
    scheduling = env.scheduling
    return {
        "image_pull_secrets": env.image_pull_secrets,
        "node_selector": sorted(scheduling.node_selector.items()) if scheduling else [],
        "tolerations": [toleration.model_dump(exclude_none=True) for toleration in scheduling.tolerations]
        if scheduling
        else [],
    }


def network(serving: Serving, env: EnvironmentSpec) -> dict[str, Any]:
    """The NetworkPolicy's view: which pods, which ports in, and the model store's port out when not 443."""
    if serving.runtime == "kserve":
        ports = [8080, *(_QUEUE_PROXY_PORTS if env.kserve.deployment_mode == "Serverless" else ())]
        label = _KSERVE_POD_LABEL
    else:
        ports, label = [serving.port], "charter.dev/model"
    store_port = urlsplit(serving.endpoint_url).port if serving.endpoint_url else None
    return {"pod_label": label, "ingress_ports": sorted(set(ports)), "store_port": store_port}


def model_manifests(
    body: ModelSpec, deployment: Deployment, env: EnvironmentSpec, context: dict[str, Any], manifest_dir: str
) -> dict[str, str]:
    """path -> text of every manifest of one environment."""
    serving = body.serving
    if serving is None:
        return {}
    context = {
        **context,
        "serving": serving,
        "server": server(serving),
        "resources": resources(serving.resources),
        "placement": placement(env),
    }
    if serving.runtime == "kserve":
        files = _kserve(deployment, context, manifest_dir)
    elif deployment.rollout is not None:
        files = _rollout(deployment, deployment.rollout, env, context, manifest_dir)
    else:
        files = _deployments(deployment, context, manifest_dir)
    files[f"{manifest_dir}/networkpolicy.yaml"] = render_template(
        "networkpolicy.yaml.j2", **context, network=network(serving, env)
    )
    if env.ingress is not None and serving.runtime == "kubernetes":  # KServe creates its own Ingress (CH466)
        ingress = env.ingress
        routed = {"class_name": ingress.class_name, "tls_secret": ingress.tls_secret}
        routed["host"] = f"{context['model']['name']}.{ingress.domain}"
        files[f"{manifest_dir}/ingress.yaml"] = render_template("ingress.yaml.j2", **context, ingress=routed)
    return files


def _kserve(deployment: Deployment, context: dict[str, Any], manifest_dir: str) -> dict[str, str]:
    scaling = deployment.autoscaling
    replicas = {
        "min_replicas": scaling.min_replicas if scaling else deployment.replicas,
        "max_replicas": scaling.max_replicas if scaling else deployment.replicas,
    }
    files = {
        f"{manifest_dir}/inferenceservice.yaml": render_template(
            "inferenceservice.yaml.j2", **context, deployment=replicas, canary_percent=None
        )
    }
    # A push-mode `rollout`: one canary manifest per step, each applied by the deploy job in turn. Applied, not
    # patched: the field stays Charter's (server-side apply), so the full manifest's apply removes it.
    weights = [step.weight for step in deployment.rollout.steps] if deployment.rollout else []
    weights = [deployment.canary.traffic_percent] if deployment.canary else weights
    for number, percent in enumerate(weights, start=1):
        files[f"{manifest_dir}/{canary_dir(number)}/inferenceservice.yaml"] = render_template(
            "inferenceservice.yaml.j2", **context, deployment=replicas, canary_percent=percent
        )
    return files


def canary_dir(step: int) -> str:
    """Where the canary manifest of a step is, under the environment's manifests: the first step's is `canary`."""
    return "canary" if step == 1 else f"canary-step-{step}"


def _deployments(deployment: Deployment, context: dict[str, Any], manifest_dir: str) -> dict[str, str]:
    common = {**context, "autoscaling": deployment.autoscaling}
    name = context["model"]["name"]
    files = {
        f"{manifest_dir}/deployment.yaml": render_template(
            "deployment.yaml.j2", **common, object_name=name, track="stable", replicas=deployment.replicas
        )
    }
    if deployment.canary:
        # Without a traffic router the share is approximated by replicas (one canary pod at least).
        canary_replicas = max(1, -(-deployment.replicas * deployment.canary.traffic_percent // 100))
        files[f"{manifest_dir}/canary/deployment.yaml"] = render_template(
            "deployment.yaml.j2", **common, object_name=f"{name}-canary", track="canary", replicas=canary_replicas
        )
    return files


def _rollout(
    deployment: Deployment, rollout: RolloutStrategy, env: EnvironmentSpec, context: dict[str, Any], manifest_dir: str
) -> dict[str, str]:
    name = context["model"]["name"]
    common = {**context, "autoscaling": deployment.autoscaling, "object_name": name, "track": None}
    analysis = analysis_view(name, rollout.analysis, env.prometheus or "")
    measured = {"address": analysis["address"], "interval": analysis["interval"]}
    measured["failure_limit"] = analysis["failure_limit"]
    templates = [
        {
            **measured,
            "name": name,
            "purpose": f"What decides each canary step of {name}",
            "args": ["canary-hash", "namespace"],
            "metrics": analysis["metrics"],
        }
    ]
    if rollout.experiment is not None:
        templates.append({**measured, **experiment_template(name, rollout)})
    if rollout.shadow is not None:
        templates.append(shadow_analysis(name, rollout, analysis["address"]))
    routed = {"router": env.traffic_router, "mirror": shadow.MIRROR_ROUTE, "primary": shadow.PRIMARY_ROUTE}
    files = {
        f"{manifest_dir}/rollout.yaml": render_template(
            "rollout.yaml.j2",
            **common,
            replicas=deployment.replicas,
            rollout=rollout,
            routing=routed,
            starting_step=shadow.starting_step(rollout),
            experiment_weight=shadow.experiment_weight(rollout, deployment.replicas) if env.traffic_router else None,
        ),
        f"{manifest_dir}/analysistemplate.yaml": render_template(
            "analysistemplate.yaml.j2", **common, templates=templates
        ),
    }
    if env.traffic_router is not None:
        files[f"{manifest_dir}/trafficrouting.yaml"] = render_template("trafficrouting.yaml.j2", **common, **routed)
    return files


def pods_of(name: str, track: str) -> str:
    """The regular expression of a track's pod names. The canary's ReplicaSet is `<rollout>-<hash>`; an
    experiment's is `<experiment>-<template>-<hash>`, its experiment `<rollout>-<hash>-<revision>-<step>`
    (Argo Rollouts' utils/experiment ReplicasetNameFromExperiment)."""
    if track == "canary":
        return f"{name}-{{{{args.canary-hash}}}}-.*"
    return f"{name}-.*-{track}-{{{{args.{track}-hash}}}}-.*"


def _placed(query: str, name: str, track: str) -> str:
    """A user's query with Charter's placeholders replaced: the pods of `track`, and the namespace argument."""
    return query.replace("{{pods}}", pods_of(name, track)).replace("{{namespace}}", "{{args.namespace}}")


def experiment_template(name: str, rollout: RolloutStrategy) -> dict[str, Any]:
    """The AnalysisTemplate of the A/B experiment: the candidate's metric minus the baseline's, within tolerance."""
    experiment = rollout.experiment
    assert experiment is not None
    metric = next(m for m in rollout.analysis.metrics if m.name == experiment.metric)
    difference = f"({_placed(metric.query, name, 'candidate')}) - ({_placed(metric.query, name, 'baseline')})"
    condition = (
        f"result[0] >= {-experiment.tolerance!r}"
        if experiment.higher_is_better
        else f"result[0] <= {experiment.tolerance!r}"
    )
    return {
        "name": f"{name}-ab",
        "purpose": f"What decides the A/B experiment of {name}: candidate minus baseline on {metric.name}",
        "args": ["baseline-hash", "candidate-hash", "namespace"],
        "metrics": [{"name": f"ab-{metric.name}", "query": difference, "condition": condition}],
    }


def analysis_view(name: str, analysis: Analysis, address: str) -> dict[str, Any]:
    """The AnalysisTemplate's metrics: Charter's queries from validated metric names, conditions from numbers
    (and the numbers themselves, `min` and `max`, which `charter deploy analyze` compares in push mode)."""
    metrics = service_metrics(name, analysis, f"{max(2, 2 * analysis.interval_minutes)}m")
    for metric in analysis.metrics:
        bounds = [f"result[0] >= {metric.min!r}"] if metric.min is not None else []
        bounds += [f"result[0] <= {metric.max!r}"] if metric.max is not None else []
        label = " and ".join(bound.replace("result[0] ", "") for bound in bounds)
        query = _placed(metric.query, name, "canary")
        metrics.append(
            {
                "name": metric.name,
                "query": query,
                "condition": " && ".join(bounds),
                "label": label,
                "min": metric.min,
                "max": metric.max,
            }
        )
    return {
        "address": address,
        "interval": f"{analysis.interval_minutes}m",
        "failure_limit": analysis.failure_limit,
        "metrics": metrics,
    }


def shadow_analysis(name: str, rollout: RolloutStrategy, address: str) -> dict[str, Any]:
    """The AnalysisTemplate `<name>-shadow` as rendered: what `charter deploy shadow` measures for evidence."""
    assert rollout.shadow is not None
    service = service_metrics(name, rollout.analysis, shadow.window(rollout.shadow))
    return shadow.shadow_view(name, rollout, address, service)


def service_metrics(name: str, analysis: Analysis, window: str) -> list[dict[str, Any]]:
    """The canary's error rate and (with `maxLatencyMs`) latency over `window`, against the analysis' bounds.

    The canary's pods are those of its ReplicaSet, `<name>-<pod-template-hash>-<suffix>`: the `pod` and
    `namespace` labels every Kubernetes service discovery of Prometheus attaches select them, with no relabelling.
    """
    canary = f'namespace="{{{{args.namespace}}}}",pod=~"{name}-{{{{args.canary-hash}}}}-.*"'
    requests = analysis.requests_metric
    metrics: list[dict[str, Any]] = [
        {
            "name": "error-rate",
            "query": f'sum(rate({requests}{{{canary},code=~"5.."}}[{window}])) '
            f"/ sum(rate({requests}{{{canary}}}[{window}]))",
            "condition": f"result[0] <= {analysis.max_error_rate!r}",
            "label": f"5xx share <= {analysis.max_error_rate!r}",
            "min": None,
            "max": analysis.max_error_rate,
        }
    ]
    if analysis.max_latency_ms is not None:
        quantile = analysis.latency_quantile
        metrics.append(
            {
                "name": "latency",
                "query": f"histogram_quantile({quantile!r}, sum by (le) "
                f"(rate({analysis.latency_metric}_bucket{{{canary}}}[{window}])))",
                "condition": f"result[0] <= {analysis.max_latency_ms / 1000!r}",
                "label": f"p{quantile * 100:g} latency <= {analysis.max_latency_ms} ms",
                "min": None,
                "max": analysis.max_latency_ms / 1000,
            }
        )
    return metrics


def rollout_summary(deployment: Deployment, env: EnvironmentSpec, kserve: bool = False) -> str | None:
    """What the model card says a `rollout` does: the steps and the metrics that decide them, as rendered."""
    rollout = deployment.rollout
    if rollout is None:
        return None
    share = "of the traffic" if kserve or env.traffic_router else "of the pods"  # a router splits requests
    steps = ", then ".join(f"{step.weight}% {share} for {step.pause_minutes} min" for step in rollout.steps)
    metrics = analysis_view("", rollout.analysis, env.prometheus or "")["metrics"]
    decided = "; ".join(f"{metric['name']} ({metric['label']})" for metric in metrics)
    if kserve:
        return (
            f"KServe canary driven by the deploy job: {steps}, then all; after each step the job measures "
            f"{decided} on Prometheus (`charter deploy analyze`), and a metric beyond its bound or not measured "
            "sets canaryTrafficPercent to 0 (all traffic back to the revision served before) and fails the job"
        )
    experiment = rollout.experiment
    first = (
        f"A/B experiment first: the serving and the new version on {experiment.replicas} pod(s) each for "
        f"{experiment.duration_minutes} min, the new one's {experiment.metric} at most {experiment.tolerance!r} "
        f"{'below' if experiment.higher_is_better else 'above'} the serving one's or the rollout stops. "
        if experiment is not None
        else ""
    )
    return (
        first
        + shadow.summary(rollout)
        + (
            f"Argo Rollouts canary: {steps}, then all; every {rollout.analysis.interval_minutes} min the analysis "
            f"measures {decided} on Prometheus, and more than {rollout.analysis.failure_limit} failed measurement(s) "
            "of a metric abort the rollout and return all traffic to the stable version"
        )
    )


def kserve_summary(serving: Serving | None, env: EnvironmentSpec) -> str | None:
    """What the model card says of an InferenceService: its mode, runtime and protocol, as rendered."""
    if serving is None or serving.runtime != "kserve":
        return None
    chosen = server(serving)
    runtime = f", runtime {chosen['runtime']} (protocol {chosen['protocol']})" if chosen else ", its image's server"
    return f"KServe {env.kserve.deployment_mode} mode{runtime}"
