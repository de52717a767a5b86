"""Training where ML teams train (issue 28): `training.orchestrator` renders the model's training as a Kubernetes
Job, a Kubeflow Pipelines v2 pipeline or an Airflow DAG, each judged by the tool that runs it.

- the Job passes Kubernetes' own schema (kubernetes-validate, strict) with the training resources and GPUs, the
  training Environment's service account, node selector and tolerations;
- the KFP module is compiled by `kfp`'s own compiler, and the IR it writes is asserted;
- the Airflow DAG is imported by Airflow's own DagBag without errors, and the pod it would start is asserted.
kfp lives in `.venv-kfp`, installed from the very lock the KFP train job installs (charter build writes it beside
the pipeline); Airflow in `.venv-airflow` (requirements/orchestrators.txt, hashed): both pin much of what Charter's
own lock holds (`make orchestrators`). Without them those tests are skipped, saying how to get them (and fail under
`make test`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from live_servers import free_port
from scripts_support import load_script

from compiler.commands.cli import main

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW = Path(os.environ.get("CHARTER_AIRFLOW_PYTHON", ROOT / ".venv-airflow" / "bin" / "python"))
KFP = Path(os.environ.get("CHARTER_KFP_PYTHON", ROOT / ".venv-kfp" / "bin" / "python"))
oracles = load_script("oracles")

TRAINING_ENVIRONMENT = """\
apiVersion: charter/v1alpha1
kind: Environment
metadata:
  name: training
  owner: team-retail-analytics
spec:
  tier: development
  cluster: retail-train
  namespace: demand-training
  serviceAccount: demand-forecast-trainer
  githubEnvironment: training
  scheduling:
    nodeSelector: {cloud.google.com/gke-accelerator: nvidia-l4}
    tolerations:
      - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}
"""
IMAGE = (
    "ghcr.io/acme-retail/demand-forecast-train@sha256:481c5ca0c9b91babcb664f13258436cfd607db277cda3a505d950f3e27a28107"
)
ENV = {
    "CHARTER_MODEL": "demand-forecast",
    "CHARTER_MODEL_VERSION": "1.4.0",
    "CHARTER_MODEL_URI": "gs://acme-retail-models/demand-forecast/1.4.0",
    "CHARTER_PREDICTIONS_URI": "gs://acme-retail-models/demand-forecast/1.4.0/predictions.parquet",
}


def _project(tmp_path: Path, orchestrator: str, command: str = "[python, -m, demand_forecast.train]") -> Path:
    """demand-forecast trained by `orchestrator` in a `training` Environment with a GPU node pool."""
    project = tmp_path / "demand-forecast"
    shutil.copytree(ROOT / "examples" / "demand-forecast", project)
    (project / "environments" / "training.yaml").write_text(TRAINING_ENVIRONMENT, "utf-8")
    model = project / "models" / "demand-forecast.yaml"
    text = model.read_text("utf-8")
    text = text.replace("    command: [python, -m, demand_forecast.train]\n", f"    command: {command}\n")
    text = text.replace('limits: {cpu: "4", memory: 8Gi}', 'limits: {cpu: "4", memory: 8Gi, gpu: 1}')
    # The example trains on Airflow in its own `training` Environment: this one replaces it.
    trains_on_airflow = (
        "    orchestrator: airflow          # an Airflow DAG run in the cluster of environments/training.yaml\n"
    )
    assert trains_on_airflow in text
    text = text.replace(trains_on_airflow, f"    orchestrator: {orchestrator}\n")
    model.write_text(text, "utf-8")
    return project


def _built(tmp_path: Path, orchestrator: str, name: str, **kwargs: str) -> Path:
    project = _project(tmp_path, orchestrator, **kwargs)
    assert main(["build", str(project)]) == 0
    assert main(["build", str(project), "--check"]) == 0
    return project / "deploy" / "_training" / "demand-forecast" / name


def airflow_loads(tmp_path: Path, script: str, dag_folder: Path) -> Any:
    """Run `script` (which loads `dag_folder` into Airflow's own DagBag) in the Airflow venv, in an Airflow home of
    its own under `tmp_path`; the JSON its last line prints."""
    home = tmp_path / "airflow-home"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "KUBECONFIG": str(_kubeconfig(tmp_path)),
    }
    done = subprocess.run(
        [str(AIRFLOW), "-c", script, str(dag_folder)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _needs(python: Path) -> None:
    if python.is_file():
        return
    reason = f"no {python}: `make orchestrators` installs kfp and Airflow from their hashed locks"
    if os.environ.get("CHARTER_REQUIRE_ORACLES") or os.environ.get("CI"):
        pytest.fail(reason)  # `make test` installs them: a missing oracle is a failure there, not a skip
    pytest.skip(reason)


def _on_the_runner(tmp_path: Path) -> Path:
    """demand-forecast without `orchestrator` and `environment` (the example trains on Airflow), built."""
    project = tmp_path / "demand-forecast"
    shutil.copytree(ROOT / "examples" / "demand-forecast", project, ignore=shutil.ignore_patterns("deploy"))
    model = project / "models" / "demand-forecast.yaml"
    lines = model.read_text("utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(("    orchestrator: ", "    environment: training"))]
    assert len(kept) == len(lines) - 2
    model.write_text("".join(kept), "utf-8")
    assert main(["build", str(project)]) == 0
    return project


def test_github_actions_stays_the_default_and_renders_no_training_file(tmp_path: Path) -> None:
    project = _on_the_runner(tmp_path)
    assert main(["build", str(project), "--check"]) == 0
    assert not (project / "deploy" / "_training").exists()
    names = [step.get("name") for step in _train_job(project)["steps"]]
    assert "Run the training image" in names  # `docker run` on the runner


def test_the_kubernetes_job_carries_resources_gpus_account_and_scheduling(tmp_path: Path) -> None:
    job_file = _built(tmp_path, "kubernetes-job", "job.yaml")
    job = yaml.safe_load(job_file.read_text("utf-8"))
    assert (job["kind"], job["metadata"]["generateName"], job["metadata"]["namespace"]) == (
        "Job",
        "train-demand-forecast-",
        "demand-training",
    )
    assert (job["spec"]["backoffLimit"], job["spec"]["activeDeadlineSeconds"]) == (0, 3600)
    pod = job["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "demand-forecast-trainer"
    assert pod["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    (container,) = pod["containers"]
    assert (container["image"], container["args"]) == (IMAGE, ["python", "-m", "demand_forecast.train"])
    assert {e["name"]: e["value"] for e in container["env"]} == ENV
    assert container["resources"] == {
        "requests": {"cpu": "2", "memory": "8Gi"},
        "limits": {"cpu": "4", "memory": "8Gi", "nvidia.com/gpu": "1"},
    }
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    if oracles.kubernetes_validate_missing() is None:
        assert oracles.kubernetes_errors(job, job_file.name) == []


def test_kfp_compiles_the_pipeline_with_its_resources_and_scheduling(tmp_path: Path) -> None:
    _needs(KFP)
    module = _built(tmp_path, "kubeflow-pipelines", "pipeline.py")
    ir_file = tmp_path / "pipeline.yaml"
    subprocess.run([str(KFP), str(module), str(ir_file)], check=True, cwd=tmp_path, timeout=120)
    pipeline, platform = yaml.safe_load_all(ir_file.read_text("utf-8"))
    assert pipeline["pipelineInfo"]["name"] == "train-demand-forecast"
    container = pipeline["deploymentSpec"]["executors"]["exec-train"]["container"]
    assert (container["image"], container["args"]) == (IMAGE, ["python", "-m", "demand_forecast.train"])
    assert {e["name"]: e["value"] for e in container["env"]} == ENV
    resources = container["resources"]
    accelerator = resources["accelerator"]
    assert (accelerator["resourceType"], accelerator["resourceCount"]) == ("nvidia.com/gpu", "1")
    assert (resources["resourceCpuRequest"], resources["resourceCpuLimit"]) == ("2", "4")
    assert (resources["resourceMemoryRequest"], resources["resourceMemoryLimit"]) == ("8Gi", "8Gi")
    assert platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-train"] == {
        "activeDeadlineSeconds": "3600",
        "nodeSelector": {"labels": {"cloud.google.com/gke-accelerator": "nvidia-l4"}},
        "tolerations": [{"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"}],
    }


def test_a_hostile_command_stays_data_in_the_generated_module(tmp_path: Path) -> None:
    _needs(KFP)
    hostile = "x'''\\n\"); import os; os.system('id') #\u202e"
    module = _built(tmp_path, "kubeflow-pipelines", "pipeline.py", command=json.dumps(["python", hostile]))
    assert module.read_text("utf-8").isascii()
    ir_file = tmp_path / "pipeline.yaml"
    subprocess.run([str(KFP), str(module), str(ir_file)], check=True, cwd=tmp_path, timeout=120)
    pipeline = next(yaml.safe_load_all(ir_file.read_text("utf-8")))
    assert pipeline["deploymentSpec"]["executors"]["exec-train"]["container"]["args"] == ["python", hostile]


_LOAD_DAG = """\
import json, sys
from airflow.models.dagbag import DagBag
from kubernetes.client import ApiClient
bag = DagBag(dag_folder=sys.argv[1], include_examples=False)
dags = {dag_id: dag.schedule_interval for dag_id, dag in bag.dags.items()}
pod = bag.dags["charter-train-demand-forecast"].get_task("train").build_pod_request_obj()
print(json.dumps({"errors": bag.import_errors, "dags": dags, "pod": ApiClient().sanitize_for_serialization(pod)}))
"""


def test_airflow_imports_the_dag_and_its_pod_runs_the_training(tmp_path: Path) -> None:
    _needs(AIRFLOW)
    dag = _built(tmp_path, "airflow", "dag.py")
    loaded = airflow_loads(tmp_path, _LOAD_DAG, dag.parent)
    assert loaded["errors"] == {}
    assert loaded["dags"] == {"charter-train-demand-forecast": None}  # triggered by the GitHub workflow only
    pod = loaded["pod"]
    assert pod["metadata"]["namespace"] == "demand-training"
    spec = pod["spec"]
    assert (spec["serviceAccountName"], spec["restartPolicy"]) == ("demand-forecast-trainer", "Never")
    assert spec["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    assert spec["tolerations"] == [{"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"}]
    (container,) = spec["containers"]
    assert (container["image"], container["args"]) == (IMAGE, ["python", "-m", "demand_forecast.train"])
    assert {e["name"]: e["value"] for e in container["env"]} == ENV
    assert container["resources"] == {
        "limits": {"cpu": "4", "memory": "8Gi", "nvidia.com/gpu": "1"},
        "requests": {"cpu": "2", "memory": "8Gi"},
    }
    assert container["securityContext"]["runAsNonRoot"] is True


def _findings(project: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["check", str(project), "--format", "json"]) == 1
    findings: list[dict[str, object]] = json.loads(capsys.readouterr().out)["diagnostics"]
    return findings


def test_an_unknown_orchestrator_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path, "argo-workflows")
    (finding,) = [f for f in _findings(project, capsys) if f["severity"] == "error"]
    model = project / "models" / "demand-forecast.yaml"
    line = model.read_text("utf-8").splitlines().index("    orchestrator: argo-workflows") + 1
    assert (finding["code"], finding["file"], finding["line"], finding["column"]) == ("CH203", str(model), line, 19)
    assert "kubernetes-job" in str(finding["message"])


def test_an_orchestrator_needs_a_known_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path, "kubernetes-job")
    (project / "environments" / "training.yaml").unlink()
    (finding,) = [f for f in _findings(project, capsys) if f["severity"] == "error"]
    model = project / "models" / "demand-forecast.yaml"
    lines = model.read_text("utf-8").splitlines()
    line = next(number for number, text in enumerate(lines, 1) if text.startswith("    environment: training"))
    assert (finding["file"], finding["line"], finding["column"]) == (str(model), line, 18)
    assert "training" in str(finding["message"])


def test_training_in_the_cluster_needs_an_object_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path, "airflow")
    model = project / "models" / "demand-forecast.yaml"
    text = model.read_text("utf-8").replace("gs://acme-retail-models/", "pvc://models/")
    model.write_text(text, "utf-8")
    (finding,) = [f for f in _findings(project, capsys) if f["severity"] == "error"]
    line = text.splitlines().index("    orchestrator: airflow") + 1
    assert (finding["code"], finding["line"], finding["column"]) == ("CH480", line, 19)
    assert "'pvc://models/demand-forecast/1.4.0' is not on s3:// or gs://" in str(finding["message"])


def test_the_card_says_where_the_model_trains(tmp_path: Path) -> None:
    _built(tmp_path, "kubeflow-pipelines", "pipeline.py")
    card = (tmp_path / "demand-forecast" / "docs" / "models" / "demand-forecast.md").read_text("utf-8")
    assert (
        "## Training\n\nTrained by Kubeflow Pipelines in environment **training** (namespace `demand-training`, "
        "service account `demand-forecast-trainer`): `deploy/_training/demand-forecast/pipeline.py`, 1 GPU(s), "
        "on nodes `cloud.google.com/gke-accelerator=nvidia-l4`.\n\n## Environments and approvals\n"
    ) in card
    runner = _on_the_runner(tmp_path / "runner")
    assert "## Training" not in (runner / "docs" / "models" / "demand-forecast.md").read_text("utf-8")


def _train_job(project: Path) -> dict[str, Any]:
    workflow = yaml.safe_load((project / ".github" / "workflows" / "model-demand-forecast.yml").read_text("utf-8"))
    job: dict[str, Any] = workflow["jobs"]["train"]
    return job


@pytest.mark.parametrize(
    ("orchestrator", "file", "step", "env"),
    [
        (
            "kubernetes-job",
            "job.yaml",
            "Train in the cluster: a Kubernetes Job",
            {
                "KUBECONFIG": "${{ runner.temp }}/kubeconfig",
                "JOB_FILE": "deploy/_training/demand-forecast/job.yaml",
                "NAMESPACE": "demand-training",
            },
        ),
        (
            "kubeflow-pipelines",
            "pipeline.py",
            "Train in the cluster: a Kubeflow Pipelines run",
            {
                "PIPELINE": "deploy/_training/demand-forecast/pipeline.py",
                "REQUIREMENTS": "deploy/_training/demand-forecast/requirements.txt",
                "KFP_HOST": "${{ secrets.CHARTER_KFP_HOST }}",
                "KFP_TOKEN": "${{ secrets.CHARTER_KFP_TOKEN }}",
            },
        ),
        (
            "airflow",
            "dag.py",
            "Train in the cluster: an Airflow DAG run",
            {
                "DAG_ID": "charter-train-demand-forecast",
                "AIRFLOW_URL": "${{ secrets.CHARTER_AIRFLOW_URL }}",
                "AIRFLOW_USERNAME": "${{ secrets.CHARTER_AIRFLOW_USERNAME }}",
                "AIRFLOW_PASSWORD": "${{ secrets.CHARTER_AIRFLOW_PASSWORD }}",
            },
        ),
    ],
)
def test_the_github_train_job_starts_the_run_and_brings_the_predictions(
    tmp_path: Path, orchestrator: str, file: str, step: str, env: dict[str, str]
) -> None:
    project = _built(tmp_path, orchestrator, file).parents[3]
    job = _train_job(project)
    assert (job["name"], job["environment"], job["timeout-minutes"]) == (
        f"Train demand-forecast 1.4.0 ({orchestrator})",
        "training",
        60 + 20,  # the training, and ci.timeoutMinutes for the rest of the job
    )
    names = [s.get("name") for s in job["steps"]]
    assert "Run the training image" not in names  # no `docker run` on the runner
    (started,) = [s for s in job["steps"] if s.get("name") == step]
    assert started["env"] == env
    fetch = job["steps"][names.index("The predictions the training wrote beside the model")]
    assert (fetch["run"], fetch["env"]) == ('charter model predictions --model "$MODEL"', {"MODEL": "demand-forecast"})
    assert job["steps"][-1]["with"] == {"name": "model-output", "path": "model-output/", "if-no-files-found": "error"}
    reasons = [oracles.actionlint_missing(), oracles.zizmor_missing(), oracles.kubernetes_validate_missing()]
    if not any(reasons):
        assert oracles.check_build(project) == []


def test_the_kfp_train_job_installs_kfp_by_hash_from_the_lock_beside_the_pipeline(tmp_path: Path) -> None:
    requirements = _built(tmp_path, "kubeflow-pipelines", "requirements.txt")
    text = requirements.read_text("utf-8")
    shipped = ROOT / "compiler" / "templates" / "orchestration" / "kubeflow-requirements.txt"
    assert text.endswith(shipped.read_text("utf-8"))
    assert text.startswith("# Generated by charter from models/demand-forecast.yaml; do not edit by hand.\n")
    pins = [line for line in text.splitlines() if "==" in line and not line.startswith("#")]
    assert "kfp==2.17.3 \\" in pins
    assert all(line.endswith("\\") for line in pins)  # every pin is followed by its hashes


def test_the_editor_offers_the_orchestrators_and_the_scheduling_fields() -> None:
    from compiler.lsp import fields

    orchestrator = fields.field_at("Model", ["spec", "training", "orchestrator"])
    assert orchestrator is not None
    assert orchestrator.values == ("github-actions", "kubernetes-job", "kubeflow-pipelines", "airflow")
    scheduling = fields.shape_at("Environment", ["spec", "scheduling"])
    assert [field.name for field in fields.fields_of(scheduling)] == ["nodeSelector", "tolerations"]


def _kubeconfig(folder: Path) -> Path:
    """A kubeconfig whose cluster listens nowhere: the operator builds its pod, and no cluster is contacted."""
    path = folder / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n",
        "utf-8",
    )
    return path


def test_the_train_jobs_airflow_script_drives_a_real_airflow(tmp_path: Path) -> None:
    """`airflow standalone` (its webserver with basic auth, scheduler and SQLite) loads the generated DAG; the train
    job's constant script unpauses it, triggers a run and follows it. No cluster answers the pod, so the run
    fails, and the script says so and exits 1: what the job does when a training fails."""
    import signal
    import time
    import urllib.request
    from base64 import b64encode

    from compiler.stages.render.orchestration_job import AIRFLOW_RUN

    _needs(AIRFLOW)
    dag = _built(tmp_path, "airflow", "dag.py")
    home = tmp_path / "airflow-home"
    port = free_port()
    env = {
        "PATH": f"{AIRFLOW.parent}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dag.parent),
        "AIRFLOW__API__AUTH_BACKENDS": "airflow.api.auth.backend.basic_auth",
        "AIRFLOW__WEBSERVER__WEB_SERVER_HOST": "127.0.0.1",
        "AIRFLOW__WEBSERVER__WEB_SERVER_PORT": str(port),
        "KUBECONFIG": str(_kubeconfig(tmp_path)),
    }
    log = (tmp_path / "airflow.log").open("wb")
    airflow = subprocess.Popen(
        [str(AIRFLOW.parent / "airflow"), "standalone"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        password = ""
        for _ in range(300):
            secret = home / "standalone_admin_password.txt"
            password = secret.read_text("utf-8").strip() if secret.is_file() else ""
            request = urllib.request.Request(f"{url}/api/v1/dags/charter-train-demand-forecast")
            request.add_header("Authorization", "Basic " + b64encode(f"admin:{password}".encode()).decode())
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail("airflow did not load the DAG: " + (tmp_path / "airflow.log").read_text("utf-8")[-3000:])
        script = {"AIRFLOW_URL": url, "DAG_ID": "charter-train-demand-forecast", "AIRFLOW_USERNAME": "admin"}
        done = subprocess.run(
            ["bash", "-c", AIRFLOW_RUN],
            env={"PATH": os.environ["PATH"], **script, "AIRFLOW_PASSWORD": password},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        os.killpg(airflow.pid, signal.SIGTERM)  # the session this test started: Airflow and its workers
        airflow.wait(timeout=60)
        log.close()
    lines = done.stdout.splitlines()
    assert done.returncode == 1, done.stderr[-2000:]
    assert lines[0].startswith("Started run manual__")
    assert lines[0].endswith(" of charter-train-demand-forecast")
    run = lines[0].split()[2]
    assert lines[1] == f"::error title=charter train::run {run} of charter-train-demand-forecast ended failed"
