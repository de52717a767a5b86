"""CH470-CH475: a `monitoring.retrain` that could not run as written, at the line that asks for it.

- CH470 (warning): the deprecated `retrainOnDrift` beside `retrain`, which replaces it (and wins).
- CH471: `performanceDrop` names a metric the evaluation suite does not bound on the whole data, so the production
  monitor (`charter gate eval --production`) never measures it.
- CH472: `dataVersion` on a training server that names no DVC file: no commit would ever say the data changed.
- CH473: `performanceDrop` without `monitoring.performance`: nothing says where labelled production predictions are.
- CH474: a `serving.storageUri` without the version as a path segment: the candidate would overwrite the served model.
- CH475: a schedule in the cluster (`kubernetes-job`, `kubeflow-pipelines`) without the `dispatchImage` it runs.
"""

from __future__ import annotations

from compiler.core.diagnostics import Diagnostic, PathSegment
from compiler.core.models import EvaluationSuite, Model
from compiler.core.models.model import Retrain
from compiler.core.odcs import read_odcs
from compiler.core.resolved import Resolved
from compiler.core.specs import Spec

_RETRAIN: tuple[PathSegment, ...] = ("spec", "monitoring", "retrain")
_IN_CLUSTER = ("kubernetes-job", "kubeflow-pipelines")


def retrain_findings(resolved: Resolved) -> list[Diagnostic]:
    findings: list[Diagnostic] = []
    for spec in sorted(resolved.by_kind.get("Model", {}).values(), key=lambda s: (s.file, s.name)):
        if not isinstance(spec.model, Model) or spec.model.spec.monitoring is None:
            continue
        monitoring = spec.model.spec.monitoring
        if monitoring.retrain is None:
            continue
        if monitoring.retrain_on_drift:
            findings.append(
                spec.finding(
                    "CH470",
                    "`retrainOnDrift` is deprecated and ignored beside `retrain`, which replaces it",
                    ["spec", "monitoring", "retrainOnDrift"],
                    key=True,
                    hint="remove `retrainOnDrift`; `retrain: {triggers: {drift: true}}` retrains on drift",
                )
            )
        findings.extend(_performance(spec, spec.model, resolved, monitoring.retrain))
        findings.extend(_data_version(spec, spec.model, resolved, monitoring.retrain))
        findings.extend(_storage(spec, spec.model))
        findings.extend(_dispatcher(spec, spec.model, monitoring.retrain))
    return findings


def _performance(spec: Spec, model: Model, resolved: Resolved, retrain: Retrain) -> list[Diagnostic]:
    drop = retrain.triggers.performance_drop
    if drop is None:
        return []
    at = [*_RETRAIN, "triggers", "performanceDrop"]
    if model.spec.monitoring is None or model.spec.monitoring.performance is None:
        return [
            spec.finding(
                "CH473",
                "`performanceDrop` is judged on labelled production predictions, but the model has no "
                "`monitoring.performance` saying where they are",
                at,
                key=True,
                hint="add `monitoring.performance: {data: {contract: ..., server: ...}, timestamp: ...}`",
            )
        ]
    links = resolved.links.get(spec.name)
    suite = links.suite.model if links is not None and links.suite is not None else None
    if not isinstance(suite, EvaluationSuite):
        return []  # an unknown suite has its own finding (CH401)
    bounded = sorted({bound.metric for bound in suite.spec.metrics if bound.slice is None})
    if drop.metric in bounded:
        return []
    return [
        spec.finding(
            "CH471",
            f"`performanceDrop` watches `{drop.metric}`, which suite `{model.spec.evaluation.suite}` "
            "does not bound on the whole data, so the production monitor never measures it",
            [*at, "metric"],
            hint=f"watch one of {', '.join(f'`{m}`' for m in bounded) or 'the suite metrics (it bounds none)'}, "
            f"or add `{{metric: {drop.metric}, min: ...}}` to the suite",
        )
    ]


def _data_version(spec: Spec, model: Model, resolved: Resolved, retrain: Retrain) -> list[Diagnostic]:
    if not retrain.triggers.data_version:
        return []
    links = resolved.links.get(spec.name)
    contract = links.training if links is not None else None
    if contract is None:
        return []  # an unknown contract has its own finding (CH401)
    servers = read_odcs(contract.data).servers
    wanted = model.spec.data.training.server
    chosen = [s for s in servers if s.name == wanted] if wanted is not None else list(servers[:1])
    if len(chosen) == 1 and chosen[0].dvc_file is not None:
        return []
    where = f"server `{chosen[0].name}`" if len(chosen) == 1 else "the training data's server"
    return [
        spec.finding(
            "CH472",
            f"`dataVersion` retrains on a new DVC data version, but {where} of contract `{contract.name}` names "
            "no DVC file",
            [*_RETRAIN, "triggers", "dataVersion"],
            hint="track the data with `dvc add` and name the `.dvc` file on the server: "
            "`customProperties: [{property: dvc, value: data/train.csv.dvc}]`",
        )
    ]


def _storage(spec: Spec, model: Model) -> list[Diagnostic]:
    serving = model.spec.serving
    if serving is None or model.spec.version in serving.storage_uri.rstrip("/").split("/"):
        return []
    return [
        spec.finding(
            "CH474",
            f"a retraining stores its candidate where `serving.storageUri` says with the version replaced, but "
            f"{serving.storage_uri!r} has no path segment `{model.spec.version}`: the candidate would overwrite "
            "the served model",
            list(_RETRAIN),
            key=True,
            hint=f"put the version in the URI: `{serving.storage_uri.rstrip('/')}/{model.spec.version}`",
        )
    ]


def _dispatcher(spec: Spec, model: Model, retrain: Retrain) -> list[Diagnostic]:
    orchestrator = model.spec.training.orchestrator
    if retrain.schedule is None or orchestrator not in _IN_CLUSTER or retrain.dispatch_image is not None:
        return []
    return [
        spec.finding(
            "CH475",
            f"with `orchestrator: {orchestrator}` the schedule runs in the cluster, which dispatches the retraining "
            "workflow from a container, but `retrain` names no `dispatchImage`",
            [*_RETRAIN, "schedule"],
            hint="add `dispatchImage:` an image with python3, pinned by digest (`python:3.12-slim@sha256:...`)",
        )
    ]
