"""The MLflow model registry (issue 28): a real `mlflow server` (SQLite, a local artifact root) on 127.0.0.1.

`charter model register` adds the model's version tagged with its spec and evidence digests, `charter model
promote` points the environment's alias at it, and `charter check` with MLFLOW_TRACKING_URI verifies that what
each environment's alias points at is the registered version with today's evidence. What Charter wrote through the
REST API is read back with MLflow's own client. MLflow lives in `.venv-mlflow` (`make mlflow`, hashed lock).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_servers import free_port

from compiler.commands.cli import main
from compiler.stages import check_path

ROOT = Path(__file__).resolve().parent.parent
MLFLOW = Path(os.environ.get("CHARTER_MLFLOW_PYTHON", ROOT / ".venv-mlflow" / "bin" / "python"))
NAME = "credit-default-scorer"

_READ_BACK = """\
import json, sys
from mlflow import MlflowClient
client = MlflowClient(tracking_uri=sys.argv[1])
found = {}
for alias in sys.argv[2:]:
    try:
        version = client.get_model_version_by_alias("credit-default-scorer", alias)
    except Exception:
        continue
    found[alias] = {"version": version.version, "source": version.source, "tags": version.tags}
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def tracking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not MLFLOW.is_file():
        reason = f"no {MLFLOW}: `make mlflow` installs MLflow from its hashed lock"
        if os.environ.get("CHARTER_REQUIRE_ORACLES") or os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from scripts_support import load_script

    with load_script("example_evidence").mlflow_server(
        tmp_path_factory.mktemp("mlflow"), MLFLOW.parent / "mlflow"
    ) as uri:
        yield uri


EXAMPLE_REGISTRY = "    registry: {type: mlflow, name: credit-default}\n"


def _project(tmp_path: Path, name: str = NAME) -> Path:
    """credit-scoring registered in MLflow as `name`, its committed evidence stamped with today's digest (the
    registry line is part of the model spec, which every record judged) and its registration record gone."""
    project = tmp_path / "credit-scoring"
    shutil.copytree(ROOT / "examples" / "credit-scoring", project)
    model = project / "models" / "credit-default.yaml"
    text = model.read_text("utf-8")
    assert EXAMPLE_REGISTRY in text
    model.write_text(text.replace(EXAMPLE_REGISTRY, f"    registry: {{type: mlflow, name: {name}}}\n"), "utf-8")
    (project / "evidence" / "credit-default" / "3.2.0" / "registration.json").unlink()
    _restamp(project)
    return project


def _restamp(project: Path) -> None:
    checked = check_path(project)
    today = checked.evidence["credit-default"].today.to_json()
    for record in (project / "evidence" / "credit-default").rglob("*.json"):
        data = json.loads(record.read_text("utf-8"))
        data["judged"] = today
        record.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")


def _read_back(uri: str, *aliases: str) -> dict[str, dict[str, object]]:
    done = subprocess.run(
        [str(MLFLOW), "-c", _READ_BACK, uri, *aliases], capture_output=True, text=True, check=True, timeout=120
    )
    found: dict[str, dict[str, object]] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def _charter(monkeypatch: pytest.MonkeyPatch, uri: str, *argv: str) -> int:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return main(list(argv))


def test_register_promote_and_verify_what_each_environment_serves(
    tmp_path: Path, tracking: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    record = project / "evidence" / "credit-default"
    digests = {
        path.stem: "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(record.rglob("*.json"))
    }
    capsys.readouterr()
    assert (
        _charter(monkeypatch, tracking, "model", "register", "--model", "credit-default", "--project", str(project))
        == 0
    )
    assert capsys.readouterr().out == f"charter model register: {NAME} version 1 registered as credit-default 3.2.0\n"
    assert (
        _charter(monkeypatch, tracking, "model", "register", "--model", "credit-default", "--project", str(project))
        == 0
    )
    assert capsys.readouterr().out.endswith("version 1 already registered as credit-default 3.2.0\n")

    # Before promotion: nothing served, a warning per environment, no error.
    assert _charter(monkeypatch, tracking, "check", str(project), "--format", "json") == 0
    findings = [f for f in json.loads(capsys.readouterr().out)["diagnostics"] if f["code"].startswith("CH48")]
    assert [(f["code"], f["message"]) for f in findings] == [
        ("CH482", f"`staging` serves nothing of MLflow model {NAME}, not 3.2.0: not promoted yet"),
        ("CH482", f"`production` serves nothing of MLflow model {NAME}, not 3.2.0: not promoted yet"),
    ]

    for environment in ("staging", "production"):
        argv = [
            "model",
            "promote",
            "--model",
            "credit-default",
            "--environment",
            environment,
            "--project",
            str(project),
        ]
        assert _charter(monkeypatch, tracking, *argv) == 0
        assert capsys.readouterr().out == f"charter model promote: {NAME}@{environment} is version 1\n"

    served = _read_back(tracking, "staging", "production")
    today = check_path(project).evidence["credit-default"].today.digest
    expected_tags = {
        "charter.model": "credit-default",
        "charter.model-version": "3.2.0",
        "charter.spec-digest": today,
        **{f"charter.evidence.{gate}": digest for gate, digest in digests.items()},
    }
    for environment in ("staging", "production"):
        assert served[environment] == {
            "version": "1",
            "source": "s3://acme-models/credit-default/3.2.0",
            "tags": expected_tags,
        }
    assert _charter(monkeypatch, tracking, "check", str(project), "--format", "json") == 0
    assert [f for f in json.loads(capsys.readouterr().out)["diagnostics"] if f["code"].startswith("CH48")] == []


def test_a_served_version_whose_evidence_changed_is_an_error(
    tmp_path: Path, tracking: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path, name="credit-default-replaced")
    argv = ["--model", "credit-default", "--project", str(project)]
    assert _charter(monkeypatch, tracking, "model", "register", *argv) == 0
    assert _charter(monkeypatch, tracking, "model", "promote", *argv, "--environment", "staging") == 0
    # The committed eval evidence is replaced after the version was registered and promoted.
    (eval_record,) = (project / "evidence" / "credit-default").rglob("eval.json")
    eval_record.write_text(eval_record.read_text("utf-8").replace('"pass"', '"pass" '), "utf-8")
    capsys.readouterr()
    assert _charter(monkeypatch, tracking, "check", str(project), "--format", "json") == 1
    (finding,) = [f for f in json.loads(capsys.readouterr().out)["diagnostics"] if f["code"] == "CH481"]
    model = project / "models" / "credit-default.yaml"
    line = model.read_text("utf-8").splitlines().index("    registry: {type: mlflow, name: credit-default-replaced}")
    assert (finding["file"], finding["line"], finding["column"]) == (str(model), line + 1, 36)
    assert finding["message"].startswith(
        "`staging` serves version 1 of MLflow model credit-default-replaced as 3.2.0, but it is not registered with "
        "today's evidence: charter.evidence.eval: sha256:"
    )
    # Promotion refuses too: no version is registered with today's evidence.
    assert _charter(monkeypatch, tracking, "model", "promote", *argv, "--environment", "production") == 1
    assert capsys.readouterr().err.startswith("charter model promote: CH776 no version of credit-default-replaced")


def test_an_unreachable_registry_fails_the_check_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    capsys.readouterr()
    assert _charter(monkeypatch, f"http://127.0.0.1:{free_port()}", "check", str(project), "--format", "json") == 1
    (finding,) = [f for f in json.loads(capsys.readouterr().out)["diagnostics"] if f["code"] == "CH483"]
    assert finding["message"].startswith("cannot verify what the environments serve: GET registered-models/alias: ")


def test_a_registry_name_that_mlflow_refuses_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "credit-scoring"
    shutil.copytree(ROOT / "examples" / "credit-scoring", project)
    model = project / "models" / "credit-default.yaml"
    text = model.read_text("utf-8").replace(EXAMPLE_REGISTRY, "    registry: {type: mlflow, name: risk/credit%}\n")
    model.write_text(text, "utf-8")
    capsys.readouterr()
    assert main(["check", str(project), "--format", "json"]) == 1
    (finding,) = [f for f in json.loads(capsys.readouterr().out)["diagnostics"] if f["file"] == str(model)]
    line = text.splitlines().index("    registry: {type: mlflow, name: risk/credit%}") + 1
    assert (finding["code"], finding["line"], finding["column"]) == ("CH205", line, 36)
    assert finding["message"] == "`name` must be an MLflow model name (got `risk/credit%`)"


def test_the_deploy_jobs_register_and_promote_and_the_card_names_the_aliases(tmp_path: Path) -> None:
    import yaml
    from scripts_support import load_script

    project = _project(tmp_path)
    assert main(["build", str(project)]) == 0
    assert main(["build", str(project), "--check"]) == 0
    workflow = yaml.safe_load((project / ".github" / "workflows" / "model-credit-default.yml").read_text("utf-8"))
    for environment in ("staging", "production"):
        job = workflow["jobs"][f"deploy-{environment}"]
        step = job["steps"][-1]
        assert step["run"] == (
            'charter model register --model "$MODEL"\n'
            'charter model promote --model "$MODEL" --environment "$ENVIRONMENT"\n'
        )
        assert step["env"] == {
            "MODEL": "credit-default",
            "ENVIRONMENT": environment,
            "MLFLOW_TRACKING_URI": "${{ secrets.MLFLOW_TRACKING_URI }}",
            "MLFLOW_TRACKING_TOKEN": "${{ secrets.MLFLOW_TRACKING_TOKEN }}",
        }
        assert job["environment"] == environment  # the secrets live where the approvals are
    card = (project / "docs" / "models" / "credit-default.md").read_text("utf-8")
    assert (
        f"Registered in MLflow as `{NAME}`, each version with the digests of its spec and evidence; each environment "
        f"serves the version its alias names (`models:/{NAME}@staging`, `models:/{NAME}@production`).\n"
    ) in card
    oracles = load_script("oracles")
    if not any([oracles.actionlint_missing(), oracles.zizmor_missing(), oracles.kubernetes_validate_missing()]):
        workflows = [project / ".github" / "workflows" / "model-credit-default.yml"]
        assert oracles.actionlint(workflows) + oracles.zizmor(workflows) == []


def _mlflow_run(uri: str) -> str:
    """A run of MLflow's default experiment (0), made through the REST API as a training job's MLflow logging does."""
    request = urllib.request.Request(
        f"{uri}/api/2.0/mlflow/runs/create",
        data=json.dumps({"experiment_id": "0", "run_name": "train-credit-default"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        run_id: str = json.loads(answer.read())["run"]["info"]["run_id"]
    return run_id


_RUN_OF_VERSION = """\
import sys
from mlflow import MlflowClient
print(MlflowClient(tracking_uri=sys.argv[1]).get_model_version(sys.argv[2], "1").run_id)
"""


def test_register_records_the_version_and_the_mlflow_run_it_came_from(
    tmp_path: Path, tracking: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path, name="credit-default-from-run")
    run = _mlflow_run(tracking)
    argv = ["model", "register", "--model", "credit-default", "--project", str(project), "--run", run, "--record"]
    capsys.readouterr()
    assert _charter(monkeypatch, tracking, *argv) == 0
    assert capsys.readouterr().out.splitlines() == [
        "charter model register: credit-default-from-run version 1 registered as credit-default 3.2.0",
        "charter model register: recorded evidence/credit-default/3.2.0/registration.json",
    ]
    done = subprocess.run(
        [str(MLFLOW), "-c", _RUN_OF_VERSION, tracking, "credit-default-from-run"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout.strip().splitlines()[-1] == run  # MLflow itself links the version to its run
    record = json.loads((project / "evidence" / "credit-default" / "3.2.0" / "registration.json").read_text())
    assert (record["registeredVersion"], record["run"], record["ui"]) == (
        "1",
        {"mlflowRun": run, "experiment": "0"},
        tracking,
    )
    assert main(["build", str(project)]) == 0
    card = (project / "docs" / "models" / "credit-default.md").read_text("utf-8")
    assert f"- Training run: [MLflow run {run}]({tracking}/#/experiments/0/runs/{run}).\n" in card
    assert f"]({tracking}/#/models/credit-default-from-run/versions/1)), recorded in " in card


def test_the_examples_registration_records_are_what_register_records(
    tmp_path: Path, tracking: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """scripts/example_evidence.py registers each example in a fresh MLflow: the same command against this one
    (where the examples' names are new) files the committed record byte for byte."""
    from scripts_support import load_script

    script = load_script("example_evidence")
    for example, (model, run) in sorted(script.REGISTRATIONS.items()):
        project = tmp_path / example
        shutil.copytree(ROOT / "examples" / example, project)
        committed = next((project / "evidence" / model).rglob("registration.json"))
        expected = committed.read_bytes()
        committed.unlink()
        argv = ["model", "register", "--model", model, "--project", str(project), "--record", "--run", run]
        assert _charter(monkeypatch, tracking, *argv, "--ui", script.MLFLOW_UI[example]) == 0
        assert committed.read_bytes() == expected, example


def test_a_run_that_is_neither_mlflow_nor_wandb_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    argv = ["model", "register", "--model", "credit-default", "--project", str(project), "--run", "runs:/abc/model"]
    capsys.readouterr()
    assert _charter(monkeypatch, f"http://127.0.0.1:{free_port()}", *argv) == 2
    assert capsys.readouterr().err == (
        "charter model register: --run `runs:/abc/model` is neither an MLflow run id (32 lower-case hex digits) nor "
        "a W&B artifact (`wandb-artifact://<entity>/<project>/<name>:<version>`)\n"
    )
