"""Continuous training in the cluster (issue 28): with `training.orchestrator`, the retraining schedule is a timer
in the cluster whose only act is to dispatch the retraining workflow, so the gates still run on GitHub.

- kubernetes-job: a CronJob, through kubernetes-validate (strict), applied by the model pipeline;
- kubeflow-pipelines: a recurring run, compiled by kfp's own compiler, with KFP's six-field cron;
- airflow: a DAG with the schedule, imported by Airflow's own DagBag, not paused on creation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import yaml
from test_orchestrators import AIRFLOW, KFP, _needs, airflow_loads
from test_retraining import DISPATCH_IMAGE, SCHEDULED, _built, _project, _step, _workflow, oracles

from compiler.stages.render import retraining

# --- the schedule in the cluster ----------------------------------------------------------------------------------

IN_CLUSTER = SCHEDULED + f"      dispatchImage: {DISPATCH_IMAGE}\n"
DISPATCH_ENV = {
    "CHARTER_WORKFLOW": "retrain-demand-forecast.yml",
    "CHARTER_REF": "main",
    "GITHUB_API_URL": "https://api.github.com",
}


def _timer(tmp_path: Path, orchestrator: str, name: str) -> Path:
    project = _built(_project(tmp_path, IN_CLUSTER, orchestrator=orchestrator))
    # The cluster's timer dispatches the workflow: the workflow has no schedule of its own (no double retraining).
    assert set(_workflow(project, "retrain-demand-forecast.yml")[True]) == {"workflow_dispatch"}
    return project / "deploy" / "_training" / "demand-forecast" / name


def test_the_cronjob_dispatches_the_retraining_workflow_on_schedule(tmp_path: Path) -> None:
    cronjob_file = _timer(tmp_path, "kubernetes-job", "retrain-cronjob.yaml")
    cronjob = yaml.safe_load(cronjob_file.read_text("utf-8"))
    assert (cronjob["kind"], cronjob["metadata"]["name"], cronjob["metadata"]["namespace"]) == (
        "CronJob",
        "retrain-demand-forecast",
        "demand-training",
    )
    spec = cronjob["spec"]
    assert (spec["schedule"], spec["timeZone"], spec["concurrencyPolicy"]) == ("0 4 1 * *", "Etc/UTC", "Forbid")
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert (pod["serviceAccountName"], pod["automountServiceAccountToken"]) == ("demand-forecast-trainer", False)
    (container,) = pod["containers"]
    assert (container["image"], container["command"]) == (DISPATCH_IMAGE, ["python3", "-c"])
    assert container["args"] == [retraining.DISPATCH]
    assert {e["name"]: e.get("value") for e in container["env"] if "value" in e} == DISPATCH_ENV
    secrets = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
    assert secrets == {
        "GITHUB_REPOSITORY": {"name": "charter-github-dispatch", "key": "repository"},
        "GITHUB_TOKEN": {"name": "charter-github-dispatch", "key": "token"},
    }
    if oracles.kubernetes_validate_missing() is None:
        assert oracles.kubernetes_errors(cronjob, cronjob_file.name) == []
    # The model pipeline applies it on a push to the default branch, with the training environment's kubeconfig.
    job = _workflow(cronjob_file.parents[3], "model-demand-forecast.yml")["jobs"]["retraining-schedule"]
    assert (job["if"], job["environment"], job["permissions"]) == (
        "github.event_name == 'push'",
        "training",
        {"contents": "read"},
    )
    apply = _step(job, "Put the schedule in the cluster")
    assert apply["run"] == 'kubectl apply --server-side --field-manager charter --filename "$CRONJOB"\n'
    assert apply["env"]["CRONJOB"] == "deploy/_training/demand-forecast/retrain-cronjob.yaml"


def test_kfp_compiles_the_recurring_run_that_dispatches_the_retraining(tmp_path: Path) -> None:
    _needs(KFP)
    module = _timer(tmp_path, "kubeflow-pipelines", "retrain.py")
    ir_file = tmp_path / "retrain.yaml"
    subprocess.run([str(KFP), str(module), str(ir_file)], check=True, cwd=tmp_path, timeout=120)
    pipeline, platform = yaml.safe_load_all(ir_file.read_text("utf-8"))
    assert pipeline["pipelineInfo"]["name"] == "retrain-demand-forecast"
    container = pipeline["deploymentSpec"]["executors"]["exec-dispatch"]["container"]
    assert (container["image"], container["command"], container["args"]) == (
        DISPATCH_IMAGE,
        ["python3", "-c"],
        [retraining.DISPATCH],
    )
    assert {e["name"]: e["value"] for e in container["env"]} == DISPATCH_ENV
    executor = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-dispatch"]
    assert executor["secretAsEnv"][0]["secretName"] == "charter-github-dispatch"
    assert executor["secretAsEnv"][0]["keyToEnv"] == [
        {"envVar": "GITHUB_REPOSITORY", "secretKey": "repository"},
        {"envVar": "GITHUB_TOKEN", "secretKey": "token"},
    ]
    # Kubeflow Pipelines reads six-field cron expressions, seconds first.
    cron = subprocess.run(
        [str(KFP), "-c", "import runpy, sys; print(runpy.run_path(sys.argv[1])['cron']())", str(module)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cron.stdout == "0 0 4 1 * *\n"
    job = _workflow(module.parents[3], "model-demand-forecast.yml")["jobs"]["retraining-schedule"]
    scheduled = _step(job, "Put the schedule in the cluster")
    assert scheduled["run"].endswith('"$RUNNER_TEMP/kfp/bin/python" "$RECURRING_RUN" --schedule\n')
    assert scheduled["env"]["RECURRING_RUN"] == "deploy/_training/demand-forecast/retrain.py"


_LOAD_RETRAIN_DAG = """\
import json, sys
from airflow.models.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1], include_examples=False)
dag = bag.dags["charter-retrain-demand-forecast"]
print(json.dumps({"errors": bag.import_errors, "dags": {d: bag.dags[d].schedule_interval for d in bag.dags},
                  "tasks": [t.task_id for t in dag.tasks], "paused": dag.is_paused_upon_creation}))
"""


def test_airflow_imports_the_retraining_dag_with_its_schedule(tmp_path: Path) -> None:
    _needs(AIRFLOW)
    dag = _timer(tmp_path, "airflow", "retrain_dag.py")
    loaded = airflow_loads(tmp_path, _LOAD_RETRAIN_DAG, dag.parent)
    assert loaded["errors"] == {}
    assert loaded["dags"] == {"charter-train-demand-forecast": None, "charter-retrain-demand-forecast": "0 4 1 * *"}
    assert (loaded["tasks"], loaded["paused"]) == (["dispatch"], False)


# --- what the timers do, against stand-ins of the APIs they call -------------------------------------------------


def test_the_timers_dispatch_reaches_githubs_workflow_dispatch_api(tmp_path: Path) -> None:
    """The script every timer runs (the CronJob's, the recurring run's, the DAG's), against GitHub's API stand-in."""
    from fake_github import TOKEN, serving
    from test_act_model import GitHubWithPulls

    env = {
        "PATH": os.environ["PATH"],
        "CHARTER_WORKFLOW": "retrain-credit-default.yml",
        "CHARTER_REF": "main",
        "GITHUB_REPOSITORY": "acme/lending",
        "GITHUB_TOKEN": TOKEN,
    }
    with serving(GitHubWithPulls()) as github:
        done = subprocess.run(
            [sys.executable, "-c", retraining.DISPATCH],
            env={**env, "GITHUB_API_URL": github.api_url},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Dispatched retrain-credit-default.yml on acme/lending: HTTP 204\n"
    assert github.dispatched == [("retrain-credit-default.yml", {"ref": "main", "inputs": {"reason": "schedule"}})]


class _PipelinesApi(BaseHTTPRequestHandler):
    """The Kubeflow Pipelines API (v2beta1) as far as `retrain.py --schedule` calls it: experiments by name, and
    the recurring runs of one, with one run of the same name already there (the schedule before this change)."""

    calls: ClassVar[list[tuple[str, str, Any]]] = []
    experiments: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.loads(raw) if raw else None
        self.calls.append((method, self.path, body))
        path = urlsplit(self.path).path
        answer: Any = {}
        if (method, path) == ("GET", "/apis/v2beta1/experiments"):
            answer = {"experiments": self.experiments, "total_size": len(self.experiments)}
        elif (method, path) == ("POST", "/apis/v2beta1/experiments"):
            self.experiments.append({**body, "experiment_id": "e-1"})
            answer = self.experiments[-1]
        elif (method, path) == ("GET", "/apis/v2beta1/recurringruns"):
            old = {"recurring_run_id": "r-old", "display_name": "retrain-demand-forecast", "experiment_id": "e-1"}
            answer = {"recurringRuns": [old, {**old, "recurring_run_id": "r-other", "display_name": "nightly"}]}
        elif (method, path) == ("POST", "/apis/v2beta1/recurringruns"):
            answer = {**body, "recurring_run_id": "r-new"}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_the_recurring_run_replaces_the_models_schedule_on_the_pipelines_api(tmp_path: Path) -> None:
    _needs(KFP)
    module = _built(_project(tmp_path, IN_CLUSTER, orchestrator="kubeflow-pipelines"))
    module = module / "deploy" / "_training" / "demand-forecast" / "retrain.py"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PipelinesApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "KFP_HOST": f"http://127.0.0.1:{server.server_port}"}
        done = subprocess.run(
            [str(KFP), str(module), "--schedule"], env=env, capture_output=True, text=True, timeout=120, check=False
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Recurring run r-new dispatches the retraining of demand-forecast at 0 0 4 1 * *" in done.stdout
    calls = [(method, urlsplit(path).path) for method, path, _ in _PipelinesApi.calls]
    assert calls == [
        ("GET", "/apis/v2beta1/experiments"),
        ("POST", "/apis/v2beta1/experiments"),
        ("GET", "/apis/v2beta1/recurringruns"),
        ("DELETE", "/apis/v2beta1/recurringruns/r-old"),  # this model's schedule before, not the other one
        ("POST", "/apis/v2beta1/recurringruns"),
    ]
    assert _PipelinesApi.calls[1][2] == {"display_name": "charter-demand-forecast", "namespace": "demand-training"}
    created = _PipelinesApi.calls[-1][2]
    assert created["trigger"] == {"cron_schedule": {"cron": "0 0 4 1 * *"}}
    assert (created["display_name"], created["experiment_id"], created["mode"]) == (
        "retrain-demand-forecast",
        "e-1",
        "ENABLE",
    )
    assert (created["max_concurrency"], created["no_catchup"], created["service_account"]) == (
        1,
        True,
        "demand-forecast-trainer",
    )
    spec = created["pipeline_spec"]  # the compiled pipeline and its Kubernetes platform spec (the Secret's keys)
    assert spec["pipeline_spec"]["pipelineInfo"]["name"] == "retrain-demand-forecast"
    executor = spec["platform_spec"]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-dispatch"]
    assert executor["secretAsEnv"][0]["secretName"] == "charter-github-dispatch"
