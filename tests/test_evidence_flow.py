"""The evidence job of the generated model pipeline keeps what the gates said (issue 22).

Measured: when the evaluation gate exits 2, `charter evidence record` refused its report ("names no model
it judged", though `--model` was given) and `|| exit 1` ended the step, so the passing data gate's record
was never uploaded nor proposed. Here the job's own script runs, as the workflow has it, on a passing data
report and an evaluation report of a gate that could not run.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.commands.cli import main
from compiler.gates.data import synthetic

ROOT = Path(__file__).resolve().parent.parent
CREDIT = ROOT / "examples" / "credit-scoring"


def _evidence_steps() -> list[dict[str, Any]]:
    workflow = yaml.safe_load((CREDIT / ".github/workflows/model-credit-default.yml").read_text("utf-8"))
    steps: list[dict[str, Any]] = workflow["jobs"]["evidence"]["steps"]
    return steps


def _artifact_digest(report: Path) -> str:
    """upload-artifact's `artifact-digest`: the sha256 of the archive GitHub stores, the report its one file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(report.name, report.read_bytes())
    return "sha256:" + hashlib.sha256(buffer.getvalue()).hexdigest()


def test_what_follows_the_records_runs_even_when_one_cannot_be_recorded() -> None:
    steps = _evidence_steps()
    record = next(i for i, step in enumerate(steps) if step.get("name") == "Record the gates' reports under evidence/")
    assert [step.get("if") for step in steps[record + 1 :]] == ["${{ !cancelled() }}"] * len(steps[record + 1 :])


def test_an_evaluation_that_could_not_run_does_not_cost_the_data_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "credit-scoring"
    shutil.copytree(CREDIT, project)
    monkeypatch.chdir(project)
    synthetic.write(synthetic.credit_applications(60_000, seed=11), Path("applications.parquet"))
    data = ["gate", "data", ".", "--contract", "credit-applications", "--model", "credit-default"]
    assert (
        main([*data, "--now", "2024-07-01T06:00:00Z", "--data", "applications.parquet", "--report", "data-gate.json"])
        == 0
    )
    missing = ["gate", "eval", ".", "--model", "credit-default", "--predictions", "model-output/predictions.parquet"]
    assert main([*missing, "--report", "eval-gate.json"]) == 2
    capsys.readouterr()
    (script,) = [
        step["run"] for step in _evidence_steps() if step.get("name") == "Record the gates' reports under evidence/"
    ]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # `charter` as the job has it: the Charter of this checkout.
    (bin_dir / "charter").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m compiler "$@"\n', "utf-8")
    (bin_dir / "charter").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        # The run as GitHub Actions names it, and upload-artifact's `artifact-digest` of each gate's report.
        "GITHUB_RUN_ID": "4242",
        "GITHUB_WORKFLOW_REF": "acme/credit/.github/workflows/model-credit-default.yml@refs/heads/main",
        "DATA_GATE_DIGEST": _artifact_digest(project / "data-gate.json"),
        "EVAL_GATE_DIGEST": _artifact_digest(project / "eval-gate.json"),
    }
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "recorded evidence/credit-default/3.2.0/data.json: data gate pass" in done.stdout
    assert "eval-gate.json: the gate could not run (verdict error); there is nothing measured to record" in done.stderr
    record = json.loads((project / "evidence/credit-default/3.2.0/data.json").read_text("utf-8"))
    assert record["origin"] == {
        "runId": 4242,
        "workflow": ".github/workflows/model-credit-default.yml",
        "ref": "refs/heads/main",
        "artifact": "data-gate",
        "artifactDigest": env["DATA_GATE_DIGEST"],
    }


def test_a_gate_that_could_not_run_names_the_model_it_ran_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "credit-scoring"
    shutil.copytree(CREDIT, project)
    monkeypatch.chdir(project)
    missing = ["gate", "eval", ".", "--model", "credit-default", "--predictions", "model-output/predictions.parquet"]
    assert main([*missing, "--report", "eval-gate.json"]) == 2
    report = json.loads(Path("eval-gate.json").read_text("utf-8"))
    assert report["verdict"] == "error"
    assert (report["judged"]["model"], report["judged"]["version"]) == ("credit-default", "3.2.0")


def test_a_new_version_builds_and_waits_for_its_evidence_to_deploy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Measured: after a version bump `check` erred "no evaluation evidence for version 3.3.0", `build` wrote
    nothing, and the pipeline kept rendering 3.2.0: the new version could never be trained nor measured."""
    project = tmp_path / "credit-scoring"
    shutil.copytree(CREDIT, project)
    model = project / "models" / "credit-default.yaml"
    model.write_text(model.read_text("utf-8").replace('version: "3.2.0"', 'version: "3.3.0"', 1), "utf-8")
    assert main(["check", str(project)]) == 0
    out = capsys.readouterr().out
    line = (
        model.read_text("utf-8")
        .splitlines()
        .index('  version: "3.3.0"                 # always quote versions: YAML reads 3.10 as the number 3.1')
        + 1
    )
    assert (
        f"credit-default.yaml:{line}:12: warning[CH500 eu-ai-act-evidence/evaluation-evidence] "
        "no evaluation evidence for version 3.3.0 "
    ) in out
    assert main(["build", str(project)]) == 0
    pipeline = (project / ".github/workflows/model-credit-default.yml").read_text("utf-8")
    assert 'name: "Train credit-default 3.3.0 (kubeflow-pipelines)"' in pipeline
    assert "3.2.0" not in pipeline


def test_the_deploy_jobs_require_the_versions_evidence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demand = ROOT / "examples" / "demand-forecast"
    workflow = yaml.safe_load((demand / ".github/workflows/model-demand-forecast.yml").read_text("utf-8"))
    deploys = {name: job for name, job in workflow["jobs"].items() if name.startswith("deploy-")}
    assert deploys
    for job in deploys.values():
        names = [step.get("name") for step in job["steps"]]
        require = names.index("Evidence of this version")
        assert require < names.index("Cluster credentials of the environment")
        assert job["steps"][require]["run"] == 'charter evidence require --model "$MODEL"'
    project = tmp_path / "demand-forecast"
    shutil.copytree(demand, project)
    assert main(["evidence", "require", "--project", str(project), "--model", "demand-forecast"]) == 0
    model = project / "models" / "demand-forecast.yaml"
    model.write_text(model.read_text("utf-8").replace('version: "1.4.0"', 'version: "1.5.0"', 1), "utf-8")
    assert main(["evidence", "require", "--project", str(project), "--model", "demand-forecast"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("::error title=charter evidence::no evaluation evidence for demand-forecast 1.5.0 ")
