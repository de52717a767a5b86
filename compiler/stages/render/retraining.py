"""Continuous training (`monitoring.retrain`): the retraining workflow, what the monitor dispatches, and the
schedule in the cluster.

A retraining never produces a served model by itself. The workflow `retrain-<model>.yml` is the model's pipeline
with a `candidate` job in front: `charter model candidate` bumps the spec's version to `<version>-retrain.<run>`
(and its `serving.storageUri` with it), `charter build` regenerates what that changes, and the job pushes the branch
`charter/retrain/<model>/<run id>`. The data gate, training, evaluation gate and evidence of the pipeline then run on
that branch, and the evidence job opens a pull request with the candidate spec and its evidence: owners review and
merge it like any change, and the merge deploys it through the model's pipeline.

What starts it:
- `schedule`: on `github-actions`, the workflow's own `schedule`; with an orchestrator, a timer in the cluster whose
  only act is to dispatch the workflow (a CronJob, a Kubeflow Pipelines recurring run, an Airflow DAG schedule),
  so the gates still run on GitHub;
- `drift` and `performanceDrop`: the monitor workflow dispatches it when its drift gate fails, or when
  `charter model performance-drop` says the production evaluation measured the metric past its threshold;
- `dataVersion`: a push to the default branch that changes the training server's `.dvc` file or `dvc.lock`.
"""

from __future__ import annotations

import posixpath
from typing import Any

from compiler.core.models.model import ModelSpec, Retrain
from compiler.core.odcs import read_odcs
from compiler.core.retrain_versions import base_version
from compiler.core.specs import Spec
from compiler.core.templating import render_template, yaml_scalar
from compiler.stages.render import orchestration, workflow_home

REASONS = ("manual", "schedule", "drift", "performanceDrop", "dataVersion")
DISPATCH_SECRET = "charter-github-dispatch"
"""The Kubernetes Secret (in the training namespace) whose `repository` and `token` (a token allowed `actions:
write` on the repository, nothing else) the cluster's timer dispatches the workflow with."""
DEFAULT_BRANCH = "main"
# The timer's whole act: one workflow_dispatch through GitHub's REST API. Constant text; values come from env.
DISPATCH = """\
import json, os, urllib.request
api, repo, workflow = os.environ["GITHUB_API_URL"], os.environ["GITHUB_REPOSITORY"], os.environ["CHARTER_WORKFLOW"]
body = json.dumps({"ref": os.environ["CHARTER_REF"], "inputs": {"reason": "schedule"}}).encode()
url = f"{api}/repos/{repo}/actions/workflows/{workflow}/dispatches"
request = urllib.request.Request(url, data=body, method="POST")
request.add_header("Authorization", "Bearer " + os.environ["GITHUB_TOKEN"])
request.add_header("Accept", "application/vnd.github+json")
request.add_header("X-GitHub-Api-Version", "2022-11-28")
with urllib.request.urlopen(request, timeout=60) as response:
    print(f"Dispatched {workflow} on {repo}: HTTP {response.status}")
"""
_TIMERS = {
    "kubernetes-job": ("retrain-cronjob.yaml", None),
    "kubeflow-pipelines": ("retrain.py", "kfp_retrain.py.tmpl"),
    "airflow": ("retrain_dag.py", "airflow_retrain_dag.py.tmpl"),
}


def workflow_file(model: str) -> str:
    return f"retrain-{model}.yml"


def branch(model: str) -> str:
    """The candidate's branch, without the run id the workflow appends."""
    return f"charter/retrain/{model}"


def retrain_of(body: ModelSpec) -> Retrain | None:
    return body.monitoring.retrain if body.monitoring is not None else None


def workflow_view(body: ModelSpec, name: str, training_contract: Spec | None, home: str) -> dict[str, Any] | None:
    """What the pipeline template needs to render the retraining workflow; None without `monitoring.retrain`."""
    retrain = retrain_of(body)
    if retrain is None:
        return None
    in_cluster = body.training.orchestrator in orchestration.ORCHESTRATED
    data_files = _dvc_files(body, training_contract) if retrain.triggers.data_version else []
    return {
        "file": workflow_file(name),
        "schedule": retrain.schedule if not in_cluster else None,
        "timer": body.training.orchestrator if in_cluster and retrain.schedule else None,
        "data_paths": workflow_home.watched(home, data_files, []),
        "branch": branch(name),
        "reasons": REASONS,
        "base_version": base_version(body.version),
    }


def _dvc_files(body: ModelSpec, contract: Spec | None) -> list[str]:
    """The `.dvc` file or `dvc.lock` the training server names (CH472 when none), relative to the project root."""
    servers = read_odcs(contract.data).servers if contract is not None else ()
    wanted = body.data.training.server
    chosen = [s for s in servers if s.name == wanted] if wanted is not None else list(servers[:1])
    files = [s.dvc_file for s in chosen if s.dvc_file is not None]
    return [posixpath.normpath(file) for file in files]


def monitor_view(body: ModelSpec, name: str, pipeline_file: str) -> dict[str, Any]:
    """Which workflow the monitor dispatches on drift (the retraining; the pipeline for the deprecated
    `retrainOnDrift` alone), and whether it judges production performance for a `performanceDrop`."""
    retrain = retrain_of(body)
    if retrain is not None:
        drift = workflow_file(name) if retrain.triggers.drift else None
        drop = retrain.triggers.performance_drop
        performance = {"metric": drop.metric, "threshold": drop.threshold} if drop is not None else None
        file = workflow_file(name)
        return {"drift_dispatch": drift, "candidate": True, "performance": performance, "retrain_file": file}
    legacy = body.monitoring is not None and body.monitoring.retrain_on_drift
    return {"drift_dispatch": pipeline_file if legacy else None, "candidate": False, "performance": None}


def timer_files(
    body: ModelSpec, environments: dict[str, Spec], deploy_dir: str, model: dict[str, Any], source: str
) -> list[tuple[str, str]]:
    """The schedule in the cluster of an orchestrated training: a CronJob, a KFP recurring run's module or an
    Airflow DAG beside the training file; none on the runner or without a schedule."""
    retrain = retrain_of(body)
    found = orchestration.training_environment(body, environments)
    if retrain is None or retrain.schedule is None or found is None:
        return []
    orchestrator = body.training.orchestrator
    file, template = _TIMERS[orchestrator]
    folder = orchestration.training_path(deploy_dir, model["name"], orchestrator).rsplit("/", 1)[0]
    place = orchestration.where(body, found[1], found[0])
    settings = {
        "model": model["name"],
        "schedule": retrain.schedule,
        "namespace": place.namespace,
        "service_account": place.service_account,
        "image": retrain.dispatch_image,
        "secret": DISPATCH_SECRET,
        "env": {
            "CHARTER_WORKFLOW": workflow_file(model["name"]),
            "CHARTER_REF": DEFAULT_BRANCH,
            "GITHUB_API_URL": "https://api.github.com",
        },
        "dispatch": DISPATCH,
    }
    if template is not None:
        return [(f"{folder}/{file}", orchestration.python_module(template, settings, source, "RETRAIN"))]
    text = render_template(
        "retrain-cronjob.yaml.j2", source=source, model=model, env={"name": place.environment}, timer=settings
    )
    return [(f"{folder}/{file}", text)]


def card_view(retrain: Retrain | None) -> dict[str, Any] | None:
    """What the model card says of continuous training: when it retrains."""
    if retrain is None:
        return None
    drop = retrain.triggers.performance_drop
    return {
        "schedule": retrain.schedule,
        "drift": retrain.triggers.drift,
        "performance": {"metric": drop.metric, "threshold": drop.threshold} if drop is not None else None,
        "data_version": retrain.triggers.data_version,
    }


_APPLY_CRONJOB = 'kubectl apply --server-side --field-manager charter --filename "$CRONJOB"\n'
# kfp in a venv of its own, from the hashed lock beside the pipeline (as the KFP train job installs it).
_SCHEDULE_KFP = """\
python -m venv "$RUNNER_TEMP/kfp"
"$RUNNER_TEMP/kfp/bin/python" -m pip install --disable-pip-version-check --no-input --quiet --require-hashes \\
  --no-deps --requirement "$REQUIREMENTS"
"$RUNNER_TEMP/kfp/bin/python" "$RECURRING_RUN" --schedule
"""


def schedule_job(body: ModelSpec, environments: dict[str, Spec], deploy_dir: str, name: str) -> dict[str, Any] | None:
    """The model pipeline's job that puts the schedule in the cluster on a push to the default branch: the CronJob
    (`kubectl apply`) or the recurring run (`retrain.py --schedule`). None without one, and for Airflow, whose DAG
    folder carries the schedule with the DAG."""
    retrain = retrain_of(body)
    found = orchestration.training_environment(body, environments)
    orchestrator = body.training.orchestrator
    if retrain is None or retrain.schedule is None or found is None or orchestrator == "airflow":
        return None
    folder = orchestration.training_path(deploy_dir, name, orchestrator).rsplit("/", 1)[0]
    timer = f"{folder}/{_TIMERS[orchestrator][0]}"
    if orchestrator == "kubernetes-job":
        env = [("KUBECONFIG", "${{ runner.temp }}/kubeconfig"), ("CRONJOB", yaml_scalar(timer))]
        run, kube = _APPLY_CRONJOB, True
    else:
        env = [
            ("RECURRING_RUN", yaml_scalar(timer)),
            ("REQUIREMENTS", yaml_scalar(f"{folder}/requirements.txt")),
            ("KFP_HOST", "${{ secrets.CHARTER_KFP_HOST }}"),
            ("KFP_TOKEN", "${{ secrets.CHARTER_KFP_TOKEN }}"),
        ]
        run, kube = _SCHEDULE_KFP, False
    environment = found[1].spec.github_environment
    return {"github_environment": environment, "run": run.rstrip("\n"), "env": env, "kube": kube}
