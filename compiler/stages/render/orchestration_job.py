"""The GitHub train job of an orchestrated training: it starts the run in the cluster, waits for it, and brings the
predictions the image wrote beside the model to the evaluation gate (`charter model predictions`).

It is bound to the GitHub environment of `training.environment`, whose secrets reach the cluster:
- `kubernetes-job`: `KUBE_CONFIG` (a kubeconfig allowed to create Jobs in the namespace); `kubectl create` makes a
  new Job from the generated manifest and the job follows its status until it succeeded or failed;
- `kubeflow-pipelines`: the secrets `CHARTER_KFP_HOST` (the Pipelines API) and `CHARTER_KFP_TOKEN` (a
  bearer token, when the API wants one); kfp is installed by hash from the lock beside the pipeline, into a venv of
  its own, and the generated module compiles the pipeline with kfp's compiler, starts the run as the environment's
  service account and waits for it;
- `airflow`: the secrets `CHARTER_AIRFLOW_URL`, `CHARTER_AIRFLOW_USERNAME`, `CHARTER_AIRFLOW_PASSWORD`
  (Airflow's stable REST API, basic auth); the job unpauses the DAG, triggers a run and follows its state.
Every script is constant text: names reach it through `env:`, never as script text.
"""

from __future__ import annotations

from typing import Any

from compiler.core.models.model import ModelSpec
from compiler.core.models.project import CloudAccess
from compiler.core.templating import yaml_scalar
from compiler.stages.render import data_access

_STORE_CLOUD = {"s3": "aws", "gs": "gcp"}
_KUBERNETES_JOB = """\
job=$(kubectl create --filename "$JOB_FILE" --output name)
echo "Created $job in $NAMESPACE"
while :; do
  state=$(kubectl get --namespace "$NAMESPACE" "$job" --output 'jsonpath={.status.succeeded}/{.status.failed}')
  case "$state" in
    1/*) echo "$job succeeded"; break ;;
    */[1-9]*)
      kubectl logs --namespace "$NAMESPACE" "$job" --tail=200 || true
      echo "::error title=charter train::$job failed in $NAMESPACE"
      exit 1 ;;
  esac
  sleep 15
done
"""
# kfp in a venv of its own (it pins requests exactly), from the hashed lock charter build wrote beside the pipeline.
_KUBEFLOW = """\
python -m venv "$RUNNER_TEMP/kfp"
"$RUNNER_TEMP/kfp/bin/python" -m pip install --disable-pip-version-check --no-input --quiet --require-hashes \\
  --no-deps --requirement "$REQUIREMENTS"
"$RUNNER_TEMP/kfp/bin/python" "$PIPELINE" --submit
"""
# Airflow's stable REST API (v1): unpause the DAG, trigger a run, follow its state. Standard library only.
AIRFLOW_RUN = """\
python3 - <<'PY'
import base64, json, os, sys, time, urllib.parse, urllib.request
base, dag = os.environ["AIRFLOW_URL"].rstrip("/"), urllib.parse.quote(os.environ["DAG_ID"], safe="")
auth = base64.b64encode(f'{os.environ["AIRFLOW_USERNAME"]}:{os.environ["AIRFLOW_PASSWORD"]}'.encode()).decode()
def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{base}/api/v1/dags/{dag}{path}", data=data, method=method)
    request.add_header("Authorization", f"Basic {auth}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)
call("PATCH", "", {"is_paused": False})
run = call("POST", "/dagRuns", {"conf": {}})["dag_run_id"]
print(f"Started run {run} of {os.environ['DAG_ID']}")
while (state := call("GET", f"/dagRuns/{urllib.parse.quote(run, safe='')}")["state"]) in ("queued", "running"):
    time.sleep(15)
if state != "success":
    print(f"::error title=charter train::run {run} of {os.environ['DAG_ID']} ended {state}")
    sys.exit(1)
print(f"Run {run} succeeded")
PY
"""


def cluster_job(
    body: ModelSpec, orchestrator: str, file: str, place: dict[str, str], cloud: CloudAccess
) -> dict[str, Any]:
    """What the template's orchestrated train job needs: its GitHub environment, extras, cloud credential steps
    (to read the predictions beside the stored model), and the step that runs the training in the cluster."""
    scheme = (body.serving.storage_uri if body.serving else "").split("://", 1)[0]
    store = data_access.ServerChoice("", "s3", _STORE_CLOUD[scheme]) if scheme in _STORE_CLOUD else None
    stores = [store] if store is not None else []
    extras = data_access.extras(stores)
    return {
        "orchestrator": orchestrator,
        "github_environment": place["github_environment"],
        "extras": extras,
        "cloud": data_access.cloud_steps(stores, cloud),
        "step": _step(orchestrator, file, place["namespace"], place["model"]),
    }


def _step(orchestrator: str, file: str, namespace: str, model: str) -> dict[str, Any]:
    """The step's name, script and `env:` (values already YAML: spec text quoted, GitHub expressions as is)."""
    if orchestrator == "kubernetes-job":
        env = [
            ("KUBECONFIG", "${{ runner.temp }}/kubeconfig"),
            ("JOB_FILE", yaml_scalar(file)),
            ("NAMESPACE", yaml_scalar(namespace)),
        ]
        return {"name": "Train in the cluster: a Kubernetes Job", "run": _KUBERNETES_JOB, "env": env, "kube": True}
    if orchestrator == "kubeflow-pipelines":
        env = [
            ("PIPELINE", yaml_scalar(file)),
            ("REQUIREMENTS", yaml_scalar(file.rsplit("/", 1)[0] + "/requirements.txt")),
            ("KFP_HOST", "${{ secrets.CHARTER_KFP_HOST }}"),
            ("KFP_TOKEN", "${{ secrets.CHARTER_KFP_TOKEN }}"),
        ]
        return {"name": "Train in the cluster: a Kubeflow Pipelines run", "run": _KUBEFLOW, "env": env, "kube": False}
    env = [
        ("DAG_ID", yaml_scalar(f"charter-train-{model}")),
        ("AIRFLOW_URL", "${{ secrets.CHARTER_AIRFLOW_URL }}"),
        ("AIRFLOW_USERNAME", "${{ secrets.CHARTER_AIRFLOW_USERNAME }}"),
        ("AIRFLOW_PASSWORD", "${{ secrets.CHARTER_AIRFLOW_PASSWORD }}"),
    ]
    return {"name": "Train in the cluster: an Airflow DAG run", "run": AIRFLOW_RUN, "env": env, "kube": False}
