"""Stage 5, render: checked specs -> the files a team commits (path -> text).

Pure and deterministic: the same specs give the same bytes whatever the
order of files or the machine. Every path is built from validated names
(DNS labels) under the Project's output directories, never from free text.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from typing import Any

from compiler.core.models.environment import Environment
from compiler.core.models.model import Deployment, Model, Monitoring
from compiler.core.models.project import Project, ProjectSpec
from compiler.core.models.suite import EvaluationSuite
from compiler.core.models.waiver import Waiver
from compiler.core.outputs import Output
from compiler.core.pins import PINS, charter_setup
from compiler.core.resolved import ModelLinks, Resolved
from compiler.core.specs import Spec
from compiler.core.templating import render_template
from compiler.evidence.card import card_view
from compiler.evidence.store import EvidenceByModel, ModelEvidence
from compiler.stages.render import (
    data_access,
    manifests,
    orchestration,
    promotion,
    retraining,
    training_job,
    workflow_home,
)
from compiler.stages.render.shadow import judged_at

_HF_TASKS = {
    "binary-classification": "tabular-classification",
    "multiclass-classification": "tabular-classification",
    "regression": "tabular-regression",
    "ranking": "text-ranking",
    "generation": "text-generation",
}


def render_outputs(
    resolved: Resolved,
    project: Project | None,
    today: datetime.date,
    evidence: EvidenceByModel | None = None,
    home: str = "",
) -> list[Output]:
    """`evidence`: the committed records per model (Checked.evidence); model cards show what they measured.
    `home`: the project's directory seen from where its workflows run (workflow_home.home), "" for its own."""
    settings = project.spec if project else ProjectSpec()
    project_file = next((spec.file for spec in resolved.specs if spec.kind == "Project"), "charter.yaml")
    setup = charter_setup(settings.ci.charter.repository, settings.ci.charter.commit)
    base = {"pins": PINS, "ci": settings.ci, "charter_setup": setup, "home": home, "here": workflow_home.at(home)}
    outputs = [
        Output(
            f"{settings.outputs.workflows}/charter-pull-request.yml",
            render_template(
                "pull-request.yml.j2",
                source=_relative(project_file, resolved),
                environments=promotion.verified_on_pull_requests(resolved.by_kind.get("Environment", {}).values()),
                **base,
            ),
            project_file,
        )
    ]
    for spec in sorted(resolved.by_kind.get("Model", {}).values(), key=lambda s: s.name):
        if isinstance(spec.model, Model):
            found = (evidence or {}).get(spec.name)
            rendered = _model_outputs(
                spec, spec.model, resolved, settings=settings, base=base, today=today, evidence=found
            )
            outputs.extend(replace(output, model=spec.name) for output in rendered)
    return sorted(outputs, key=lambda output: output.path)


def _relative(file: str, resolved: Resolved) -> str:
    """Spec paths as seen from the project root, for headers and `paths:` filters."""
    root = _root_prefix(resolved)
    return file[len(root) :] if root and file.startswith(root) else file


def _root_prefix(resolved: Resolved) -> str:
    project = next((spec for spec in resolved.specs if spec.kind == "Project"), None)
    if project is None or "/" not in project.file:
        return ""
    return project.file.rsplit("/", 1)[0] + "/"


@dataclass(frozen=True)
class _ModelRender:
    """What every file rendered for one model shares."""

    spec: Spec
    model: Model
    resolved: Resolved
    settings: ProjectSpec
    base: dict[str, Any]
    source: str
    view: dict[str, Any]
    links: ModelLinks | None
    environments: list[tuple[Deployment, Spec, Environment]]


def _model_outputs(
    spec: Spec,
    model: Model,
    resolved: Resolved,
    *,
    settings: ProjectSpec,
    base: dict[str, Any],
    today: datetime.date,
    evidence: ModelEvidence | None,
) -> list[Output]:
    links = resolved.links.get(spec.name)
    source = _relative(spec.file, resolved)
    view = _model_view(spec, model)
    linked = links.environments if links else {}
    view["training"] = orchestration.card_view(
        model.spec, linked, settings.outputs.deploy, spec.name, manifests.resources
    )
    view["registry"] = model.spec.serving.registry.name if model.spec.serving and model.spec.serving.registry else None
    view["lineage"] = list(model.spec.training.lineage)
    environments = _ordered_environments(model, linked)
    job = _ModelRender(spec, model, resolved, settings, base, source, view, links, environments)
    outputs: list[Output] = []
    deployments = [_deployment(job, deployment, env_spec, env, outputs) for deployment, env_spec, env in environments]
    outputs.append(_pipeline(job, deployments))
    trained = orchestration.training_files(
        model.spec, linked, settings.outputs.deploy, view, source, manifests.resources
    )
    outputs.extend(Output(path, text, spec.file) for path, text in trained)  # the Job, KFP pipeline or Airflow DAG
    monitor = _monitor(job)
    if monitor is not None:
        outputs.append(monitor)
    retrain = retraining.workflow_view(model.spec, spec.name, links.training if links else None, base["home"])
    if retrain is not None:  # the pipeline again, on a candidate version, proposed in a pull request
        outputs.append(_pipeline(job, [], retrain))
        timers = retraining.timer_files(model.spec, linked, settings.outputs.deploy, view, source)
        outputs.extend(Output(path, text, spec.file) for path, text in timers)
    card = _model_card(
        spec, model, resolved, view=view, deployments=deployments, source=source, today=today, evidence=evidence
    )
    outputs.append(Output(f"{settings.outputs.docs}/{spec.name}.md", card, spec.file))
    return outputs


def _deployment(
    job: _ModelRender, deployment: Deployment, env_spec: Spec, env: Environment, outputs: list[Output]
) -> dict[str, Any]:
    """The manifests of one environment (added to `outputs`), and what the pipeline's deploy job needs."""
    spec, body, settings = job.spec, job.model.spec, job.settings
    manifest_dir = f"{settings.outputs.deploy}/{env_spec.name}/{spec.name}"
    account = (body.serving.service_account if body.serving else None) or env.spec.service_account
    context: dict[str, Any] = {"model": job.view, "env": {**env.spec.model_dump(), "name": env_spec.name}}
    context.update(source=job.source, service_account=account)
    canary = deployment.canary.traffic_percent if deployment.canary else None
    bake = deployment.canary.bake_minutes if deployment.canary else 0
    if deployment.rollout is not None:
        bake = deployment.rollout.total_minutes  # the job waits while Argo Rollouts steps and analyses
    files = manifests.model_manifests(body, deployment, env.spec, context, manifest_dir)
    outputs.extend(Output(path, text, spec.file) for path, text in files.items())
    if settings.deployment.mode == "gitops":
        revision = promotion.tracked_revision(env.spec.approvals, env.spec.promotes_from, env_spec.name)
        application = render_template(
            "argocd-application.yaml.j2",
            **context,
            manifest_dir=manifest_dir,
            repo_url=settings.deployment.repo_url,
            target_revision=revision,
        )
        outputs.append(
            Output(f"{settings.outputs.deploy}/argocd/{spec.name}-{env_spec.name}.yaml", application, spec.file)
        )
    previous = env.spec.promotes_from
    before = next((e[2].spec for e in job.environments if e[1].name == previous), None) if previous else None
    runtime = promotion.runtime_of(body.serving.runtime if body.serving else "kubernetes", deployment.rollout)
    where = promotion.Target(env_spec.name, env.spec.namespace, spec.name, manifest_dir, runtime)
    rollout = deployment.rollout if runtime == "kserve" else None  # the push-mode job drives a KServe rollout
    stepped = [(step.weight, step.pause_minutes) for step in rollout.steps] if rollout else []
    mirrored = deployment.rollout.shadow if deployment.rollout and runtime == "argo-rollouts" else None
    shadow = (
        promotion.ShadowWindow(mirrored.percent, mirrored.duration_minutes, judged_at(deployment.rollout))
        if mirrored is not None and deployment.rollout is not None
        else None
    )
    return {
        "environment": env_spec.name,
        "github_environment": env.spec.github_environment,
        "tier": env.spec.tier,
        "approvals": env.spec.approvals,
        "replicas": deployment.replicas,
        "namespace": env.spec.namespace,
        "object_name": spec.name,
        "manifest_dir": manifest_dir,
        "canary_percent": canary,
        "rollout": manifests.rollout_summary(deployment, env.spec, kserve=rollout is not None),
        "kserve": manifests.kserve_summary(body.serving, env.spec),
        "bake_minutes": bake,
        "promotes_from": previous if before is not None else None,
        "canary_file": f"{manifest_dir}/canary/" if canary else None,
        "timeout_minutes": settings.ci.timeout_minutes + bake,  # the bake is waiting, not work
        "shadow_artifact": promotion.shadow_artifact(env_spec.name),
        **promotion.job(where, env.spec, before, settings.deployment.mode == "gitops", canary, bake, stepped, shadow),
    }


def _pipeline(job: _ModelRender, deployments: list[dict[str, Any]], retrain: dict[str, Any] | None = None) -> Output:
    """The model's pipeline: data gate, training, evaluation gate, evidence, deployments in promotion order; with
    `retrain` (retraining.workflow_view), the retraining workflow: the same on a candidate version."""
    spec, body, settings, links = job.spec, job.model.spec, job.settings, job.links
    training_contract = links.training if links else None
    cluster = orchestration.cluster_job(body, spec.name, links.environments if links else {}, settings)
    read = [spec, training_contract, links.suite if links else None, *[e[1] for e in job.environments]]
    watched = sorted({_relative(s.file, job.resolved) for s in [*read, cluster["spec"] if cluster else None] if s})
    training_server = data_access.choose(body.data.training, training_contract)
    gated = [d for d in deployments if d["gated"]]
    pipeline = render_template(
        "model-pipeline.yml.j2",
        **job.base,
        source=job.source,
        model=job.view,
        watched=workflow_home.watched(job.base["home"], watched, promotion.merged_evidence(spec.name, gated)),
        suite=body.evaluation.suite,
        training={
            "contract": training_contract.name if training_contract else body.data.training.contract,
            "server": training_server.name,
            "reads": _reads_data([training_server], settings),
            "job": training_job.train_job(body, [training_server], settings.cloud),
            "cluster": cluster,
            "image": body.training.image,
            "command": body.training.command,
            "timeout_minutes": body.training.timeout_minutes,
        },
        deployments=gated,
        gitops=settings.deployment.mode == "gitops",
        propose_evidence=retrain is not None or settings.evidence.propose == "pull-request",
        outputs=settings.outputs,
        retrain=retrain,
        schedule_job=None
        if retrain
        else retraining.schedule_job(body, links.environments if links else {}, settings.outputs.deploy, spec.name),
        spec_file=job.source,
        checkout_ref=retrain["branch"] + "/${{ github.run_id }}" if retrain is not None else "",
    )
    file = retrain["file"] if retrain is not None else _pipeline_file(spec)
    return Output(f"{settings.outputs.workflows}/{file}", pipeline, spec.file)


def _pipeline_file(spec: Spec) -> str:
    return gate_workflow(spec.name, "eval")


def gate_workflow(model: str, gate: str) -> str:
    """The generated workflow (in `outputs.workflows`) whose runs record `gate`'s evidence of `model`."""
    return f"monitor-{model}.yml" if gate == "drift" else f"model-{model}.yml"


def _monitor(job: _ModelRender) -> Output | None:
    """The scheduled drift check, when the model has `monitoring`."""
    spec, body, settings = job.spec, job.model.spec, job.settings
    if body.monitoring is None:
        return None
    contracts = [c for c in job.resolved.specs if c.contract is not None]
    reference_ref = body.monitoring.reference or body.data.training
    reference = data_access.choose(reference_ref, data_access.find_contract(contracts, reference_ref))
    production = body.data.production
    current = (
        data_access.choose(production, data_access.find_contract(contracts, production))
        if production is not None
        else data_access.ServerChoice("", None)
    )
    monitoring = {
        **_monitoring_view(body.monitoring),
        "reference_server": reference.name,
        "current_server": current.name,
        "reads": _reads_data([reference, current], settings),
        "pipeline_file": _pipeline_file(spec),
        **retraining.monitor_view(body, spec.name, _pipeline_file(spec)),
        "performance_reads": _performance_reads(job),
    }
    text = render_template("model-monitor.yml.j2", **job.base, source=job.source, model=job.view, monitoring=monitoring)
    return Output(f"{settings.outputs.workflows}/{gate_workflow(spec.name, 'drift')}", text, spec.file)


def _performance_reads(job: _ModelRender) -> dict[str, Any] | None:
    """What the monitor's production-performance job reads, for a `performanceDrop` trigger."""
    monitoring = job.model.spec.monitoring
    performance = monitoring.performance if monitoring is not None else None
    retrain = monitoring.retrain if monitoring is not None else None
    if performance is None or retrain is None or retrain.triggers.performance_drop is None:
        return None
    contracts = [c for c in job.resolved.specs if c.contract is not None]
    server = data_access.choose(performance.data, data_access.find_contract(contracts, performance.data))
    return {"server": server.name, "reads": _reads_data([server], job.settings)}


def _reads_data(choices: list[data_access.ServerChoice], settings: ProjectSpec) -> dict[str, Any]:
    """What a job that reads these servers installs, which credentials it gets, and the gate's env."""
    return {
        "extras": data_access.extras(choices),
        "cloud": data_access.cloud_steps(choices, settings.cloud),
        "env": data_access.gate_env(choices, settings.cloud),
        # Database credentials: secrets of the GitHub environment the job is bound to.
        "secrets": data_access.secret_env(choices),
        "environment": data_access.DATA_ENVIRONMENT if data_access.secret_env(choices) else None,
    }


def _model_view(spec: Spec, model: Model) -> dict[str, Any]:
    body = model.spec
    return {
        "name": spec.name,
        "version": body.version,
        # Label values allow [A-Za-z0-9._-], at most 63 characters (ASCII: `isalnum` alone lets `é` through).
        "version_label": "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "-" for c in body.version)[
            :63
        ].strip("-._")
        or "unversioned",
        "risk_tier": body.risk_tier,
        "task": body.task,
        "owner": model.metadata.owner or "not stated",
        "description": model.metadata.description,
        "intended_use": body.intended_use,
        "out_of_scope_use": body.out_of_scope_use,
        "transparency": body.transparency.disclosure if body.transparency else None,
        "features": body.features,
        "label": body.label,
        "sensitive_features": body.sensitive_features,
    }


def _ordered_environments(model: Model, environments: dict[str, Spec]) -> list[tuple[Deployment, Spec, Environment]]:
    """Deployments in promotion order: an environment after the one it promotes from."""
    pending = [
        (deployment, environments[deployment.environment])
        for deployment in model.spec.deployments
        if deployment.environment in environments
    ]
    ordered: list[tuple[Any, Spec, Environment]] = []
    placed: set[str] = set()
    names = {spec.name for _, spec in pending}
    while pending:
        for item in sorted(pending, key=lambda pair: pair[1].name):
            env = item[1].model
            assert isinstance(env, Environment)
            before = env.spec.promotes_from
            if before is None or before not in names or before in placed:
                ordered.append((item[0], item[1], env))
                placed.add(item[1].name)
                pending.remove(item)
                break
        else:  # a cycle (already reported by resolve): keep the rest in name order
            ordered.extend((d, s, s.model) for d, s in sorted(pending, key=lambda p: p[1].name))  # type: ignore[misc]
            break
    return ordered


def _card_contracts(roles: list[tuple[str, Spec | None]]) -> tuple[list[dict[str, Any]], set[str]]:
    """The data a card names, by role, and the columns tagged PII or protected in them."""
    contracts = []
    sensitive: set[str] = set()
    for role, contract_spec in roles:
        if contract_spec is None or contract_spec.contract is None:
            continue
        contract = contract_spec.contract
        contracts.append(
            {
                "role": role,
                "name": contract.name or contract.id,
                "version": contract.version or "-",
                "status": contract.status or "-",
                "columns": len(contract.columns),
            }
        )
        sensitive.update(c.name for c in contract.columns if {"pii", "protected"} & set(c.tags))
    return contracts, sensitive


def _model_card(
    spec: Spec,
    model: Model,
    resolved: Resolved,
    *,
    view: dict[str, Any],
    deployments: list[dict[str, Any]],
    source: str,
    today: datetime.date,
    evidence: ModelEvidence | None,
) -> str:
    body = model.spec
    links = resolved.links.get(spec.name)
    suite_spec = links.suite if links else None
    suite = suite_spec.model if suite_spec is not None else None
    assert suite is None or isinstance(suite, EvaluationSuite)
    evaluation = resolved.suite_datasets.get(suite_spec.name) if suite_spec else None
    contracts, sensitive = _card_contracts(
        [
            ("training", links.training if links else None),
            ("validation", links.validation if links else None),
            ("evaluation", evaluation),
        ]
    )
    metrics = []
    fairness = []
    if suite is not None:
        for bound in suite.spec.metrics:
            metrics.append({"metric": bound.metric, "slice": bound.slice, "label": _bound_label(bound)})
        for check in suite.spec.fairness:
            fairness.append({"metric": check.metric, "feature": check.sensitive_feature, "label": _bound_label(check)})
    waivers = _waivers_in_force(resolved, spec.name, today)
    monitoring = _monitoring_view(body.monitoring) if body.monitoring is not None else None
    return render_template(
        "model-card.md.j2",
        source=source,
        model=view,
        hf_task=_HF_TASKS[body.task],
        suite={
            "name": body.evaluation.suite,
            "dataset": suite.spec.dataset.contract if suite else "-",
            "min_group_size": suite.spec.min_group_size if suite else "-",
        },
        metrics=metrics,
        fairness=fairness,
        evidence=card_view(evidence, suite),
        contracts=contracts,
        sensitive_columns=sorted(sensitive),
        deployments=deployments,
        monitoring=monitoring,
        waivers=sorted(waivers, key=lambda w: w["name"]),
    )


def _waivers_in_force(resolved: Resolved, model: str, today: datetime.date) -> list[dict[str, Any]]:
    waivers = []
    for waiver_spec in resolved.by_kind.get("Waiver", {}).values():
        waiver = waiver_spec.model
        if not isinstance(waiver, Waiver) or waiver.spec.expires < today:
            continue
        if (waiver.spec.target.kind, waiver.spec.target.name) == ("Model", model):
            waivers.append(
                {
                    "name": waiver_spec.name,
                    "policy": waiver.spec.policy,
                    "rule": waiver.spec.rule,
                    "expires": waiver.spec.expires.isoformat(),
                    "approvers": waiver.spec.approvers,
                    "justification": waiver.spec.justification,
                }
            )
    return waivers


def _monitoring_view(monitoring: Monitoring) -> dict[str, Any]:
    return {
        "schedule": monitoring.schedule,
        "method": monitoring.drift.method,
        "threshold": "chosen per column" if monitoring.drift.threshold is None else monitoring.drift.threshold,
        "retrain": monitoring.retrain_on_drift if monitoring.retrain is None else monitoring.retrain.triggers.drift,
        "retraining": retraining.card_view(monitoring.retrain),
    }


def _bound_label(bound: Any) -> str:
    parts = []
    if bound.min is not None:
        parts.append(f">= {bound.min}")
    if bound.max is not None:
        parts.append(f"<= {bound.max}")
    return " and ".join(parts)
