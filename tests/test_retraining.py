"""Continuous training (issue 28): `monitoring.retrain` with a schedule and triggers, each retraining a candidate
version that goes through the same gates and evidence and is proposed in a pull request.

- `charter model candidate` bumps the spec's version and storageUri in place (comments kept), and
  `charter model performance-drop` judges a real evaluation report against the trigger's threshold;
- the retraining workflow (retrain-<model>.yml) and the monitor's dispatches, exactly, and through actionlint, zizmor
  and the GitHub workflow schema;
- the schedule in the cluster: the CronJob through kubernetes-validate (strict), the Kubeflow Pipelines recurring
  run through kfp's own compiler, the Airflow DAG through Airflow's DagBag;
- a new DVC data version (a push that changes the `.dvc` file) starts a retraining.
The located errors (CH470-CH475, a bad cron, an unknown trigger) are case directories under tests/cases/.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from scripts_support import load_script
from test_orchestrators import TRAINING_ENVIRONMENT

from compiler.commands.cli import main

ROOT = Path(__file__).resolve().parent.parent
oracles = load_script("oracles")
DISPATCH_IMAGE = "python:3.12-slim@sha256:" + "ab" * 32
PERFORMANCE = """\
    performance:
      data: {contract: sales-history, server: serving-log}
      timestamp: week_start
"""


EXAMPLE_ORCHESTRATOR = (
    "    orchestrator: airflow          # an Airflow DAG run in the cluster of environments/training.yaml\n"
    "    environment: training\n"
)


def _project(tmp_path: Path, retrain: str, *, orchestrator: str = "github-actions", extra: str = "") -> Path:
    """demand-forecast with `retrain` (YAML under `monitoring:`) instead of `retrainOnDrift`, trained by
    `orchestrator` (the example trains on Airflow: github-actions takes its training back into the workflow)."""
    project = tmp_path / "demand-forecast"
    shutil.copytree(ROOT / "examples" / "demand-forecast", project)
    model = project / "models" / "demand-forecast.yaml"
    text = model.read_text("utf-8").replace("    retrainOnDrift: true\n", extra + retrain)
    assert EXAMPLE_ORCHESTRATOR in text
    where = ""
    if orchestrator != "github-actions":
        (project / "environments" / "training.yaml").write_text(TRAINING_ENVIRONMENT, "utf-8")
        where = f"    orchestrator: {orchestrator}\n    environment: training\n"
    model.write_text(text.replace(EXAMPLE_ORCHESTRATOR, where), "utf-8")
    return project


def _built(project: Path) -> Path:
    assert main(["build", str(project)]) == 0
    assert main(["build", str(project), "--check"]) == 0
    return project


def _workflow(project: Path, name: str) -> dict[Any, Any]:
    loaded = yaml.safe_load((project / ".github" / "workflows" / name).read_text("utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _step(job: dict[str, Any], name: str) -> dict[str, Any]:
    return next(step for step in job["steps"] if step.get("name") == name)


SCHEDULED = '    retrain:\n      schedule: "0 4 1 * *"\n      triggers: {drift: true}\n'


# --- the candidate ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("orchestrator", "where"), [("github-actions", ""), ("airflow", " (airflow)")])
def test_the_candidate_bumps_the_version_and_its_storage_and_nothing_else(
    tmp_path: Path, orchestrator: str, where: str
) -> None:
    project = _project(tmp_path, SCHEDULED, orchestrator=orchestrator)
    model = project / "models" / "demand-forecast.yaml"
    before = model.read_text("utf-8").splitlines()
    assert main(["model", "candidate", "--model", "demand-forecast", "--run", "17", "--project", str(project)]) == 0
    after = model.read_text("utf-8").splitlines()
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert changed == [
        (
            '  version: "1.4.0"                 # quoted: versions are strings',
            '  version: "1.4.0-retrain.17"                 # quoted: versions are strings',
        ),
        (
            "    storageUri: gs://acme-retail-models/demand-forecast/1.4.0",
            '    storageUri: "gs://acme-retail-models/demand-forecast/1.4.0-retrain.17"',
        ),
    ]
    # A merged candidate retrained again keeps its base version: no pile of suffixes.
    assert main(["model", "candidate", "--model", "demand-forecast", "--run", "23", "--project", str(project)]) == 0
    text = model.read_text("utf-8")
    assert '  version: "1.4.0-retrain.23"' in text
    assert 'storageUri: "gs://acme-retail-models/demand-forecast/1.4.0-retrain.23"' in text
    # The candidate builds: its workflows, manifests and card follow the new version.
    assert main(["build", str(project)]) == 0
    pipeline = _workflow(project, "model-demand-forecast.yml")
    assert pipeline["jobs"]["train"]["name"] == f"Train demand-forecast 1.4.0-retrain.23{where}"


def test_the_candidate_refuses_specs_with_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path, "    retrain:\n      triggers: {dataVersion: true}\n")  # CH472: not DVC-tracked
    before = (project / "models" / "demand-forecast.yaml").read_bytes()
    assert main(["model", "candidate", "--model", "demand-forecast", "--run", "3", "--project", str(project)]) == 1
    assert "the specs have errors" in capsys.readouterr().err
    assert (project / "models" / "demand-forecast.yaml").read_bytes() == before


def _drop(tmp_path: Path, drop: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    retrain = f"    retrain:\n      triggers:\n        performanceDrop: {drop}\n"
    project = _project(tmp_path, retrain, extra=PERFORMANCE)
    # A real report of the evaluation gate, as `charter gate eval` wrote it: rmse 3.40 (<= 12), r2 0.93 (>= 0.7).
    report = project / "evidence" / "demand-forecast" / "1.4.0" / "eval.json"
    capsys.readouterr()
    status = main(
        ["model", "performance-drop", "--model", "demand-forecast", "--report", str(report), "--project", str(project)]
    )
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_a_performance_drop_is_judged_on_the_gate_report_by_the_bound_direction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = _drop(tmp_path / "a", "{metric: rmse, threshold: 3.0}", capsys)
    assert status == 1, out  # rmse is bounded from above: 3.40 above 3.0 is a drop
    assert "rmse in production is 3.402080898141599, above the threshold 3.0: retrain" in out
    status, out = _drop(tmp_path / "b", "{metric: rmse, threshold: 4.0}", capsys)
    assert (status, "not above 4.0" in out) == (0, True), out
    status, out = _drop(tmp_path / "c", "{metric: r2, threshold: 0.95}", capsys)
    assert status == 1, out  # r2 is bounded from below: 0.93 below 0.95 is a drop
    assert "below the threshold 0.95: retrain" in out


def test_a_report_without_the_metric_is_unusable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(
        tmp_path,
        "    retrain:\n      triggers:\n        performanceDrop: {metric: mae, threshold: 2}\n",
        extra=PERFORMANCE,
    )
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"metrics": [{"metric": "mae", "slice": "promotions", "value": 1.0}]}), "utf-8")
    assert (
        main(
            [
                "model",
                "performance-drop",
                "--model",
                "demand-forecast",
                "--report",
                str(report),
                "--project",
                str(project),
            ]
        )
        == 2
    )
    assert "holds no value of mae" in capsys.readouterr().err


# --- the retraining workflow and the monitor -------------------------------------------------------------------

CANDIDATE_STEP = """\
      - name: The candidate version, in the model spec and the files it generates
        id: bump
        run: |
          charter model candidate --model "$MODEL" --run "$RUN_NUMBER"
          charter build .
          git add --all -- "$SPEC" .charter/manifest.json "$WORKFLOWS" "$DEPLOY" "$DOCS"
          git -c user.name="github-actions[bot]" -c user.email="{BOT_EMAIL}" \\
            commit --quiet --message "Retrain $MODEL: candidate $VERSION-retrain.$RUN_NUMBER ($REASON)"
          git -c "http.extraheader=AUTHORIZATION: basic $(printf 'x-access-token:%s' "$GH_TOKEN" | base64 -w0)" \\
            push --quiet origin "HEAD:refs/heads/$BRANCH/$RUN_ID"
          echo "version=$VERSION-retrain.$RUN_NUMBER" >> "$GITHUB_OUTPUT"
        env:
          GH_TOKEN: ${{ secrets.CHARTER_EVIDENCE_TOKEN || github.token }}
          MODEL: "demand-forecast"
          VERSION: "1.4.0"
          SPEC: "models/demand-forecast.yaml"
          WORKFLOWS: ".github/workflows"
          DEPLOY: "deploy"
          DOCS: "docs/models"
          BRANCH: "charter/retrain/demand-forecast"
          RUN_ID: ${{ github.run_id }}
          RUN_NUMBER: ${{ github.run_number }}
          REASON: ${{ inputs.reason || github.event_name }}
""".replace("{BOT_EMAIL}", "41898282+github-actions[bot]@users.noreply.github.com")


def test_the_retraining_workflow_runs_the_gates_on_a_candidate_and_proposes_it(tmp_path: Path) -> None:
    project = _built(_project(tmp_path, SCHEDULED))
    text = (project / ".github" / "workflows" / "retrain-demand-forecast.yml").read_text("utf-8")
    assert CANDIDATE_STEP in text
    workflow = yaml.safe_load(text)
    assert workflow[True] == {  # `on`, which YAML 1.1 reads as true
        "schedule": [{"cron": "0 4 1 * *"}],
        "workflow_dispatch": {
            "inputs": {
                "reason": {
                    "description": "What asks for the retraining",
                    "type": "choice",
                    "options": ["manual", "schedule", "drift", "performanceDrop", "dataVersion"],
                    "default": "manual",
                }
            }
        },
    }
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert list(jobs) == ["candidate", "data-gate", "train", "evaluate", "evidence"]  # never a deploy job
    assert jobs["candidate"]["permissions"] == {"contents": "write"}
    assert jobs["candidate"]["environment"] == "charter-evidence"
    assert (jobs["data-gate"]["needs"], jobs["evidence"]["needs"]) == (
        "candidate",
        ["candidate", "data-gate", "evaluate"],
    )
    branch = "charter/retrain/demand-forecast/${{ github.run_id }}"
    for name in ("data-gate", "train", "evaluate", "evidence"):  # every gate judges the candidate's checkout
        checkout = next(
            step for step in jobs[name]["steps"] if str(step.get("uses", "")).startswith("actions/checkout@")
        )
        assert checkout["with"] == {"persist-credentials": False, "ref": branch}, name
    propose = _step(jobs["evidence"], "Propose the records in a pull request of their own")
    assert (
        'gh pr create --base "$BASE" --head "$branch" --title "Retrain $MODEL: candidate version $VERSION"'
        in propose["run"]
    )
    assert propose["env"]["VERSION"] == "${{ needs.candidate.outputs.version }}"
    assert jobs["evidence"]["permissions"] == {"contents": "write", "pull-requests": "write"}


def test_the_monitor_dispatches_the_retraining_on_drift_and_on_a_performance_drop(tmp_path: Path) -> None:
    retrain = (
        "    retrain:\n      triggers:\n        drift: true\n        performanceDrop: {metric: rmse, threshold: 10}\n"
    )
    project = _built(_project(tmp_path, retrain, extra=PERFORMANCE))
    monitor = _workflow(project, "monitor-demand-forecast.yml")
    drift = monitor["jobs"]["drift"]
    assert drift["permissions"]["actions"] == "write"
    dispatch = _step(drift, "Dispatch retraining")
    assert dispatch["if"] == "steps.drift.outputs.exit_code == '1'"
    assert dispatch["run"] == 'gh workflow run "$PIPELINE" --ref "$DEFAULT_BRANCH" --field reason=drift'
    assert dispatch["env"]["PIPELINE"] == "retrain-demand-forecast.yml"
    performance = monitor["jobs"]["performance"]
    assert performance["permissions"] == {"contents": "read", "actions": "write", "issues": "write"}
    assert performance["environment"] == "charter-data"  # the warehouse's credentials
    judged = _step(performance, "Judge labelled production predictions with the suite")
    assert 'charter gate eval . --model "$MODEL" --production --report production-eval.json' in judged["run"]
    drop = _step(performance, "A drop past the retraining threshold")
    assert 'charter model performance-drop --model "$MODEL" --report production-eval.json' in drop["run"]
    again = _step(performance, "Dispatch retraining")
    assert (again["if"], again["env"]["WORKFLOW"]) == (
        "steps.drop.outputs.exit_code == '1'",
        "retrain-demand-forecast.yml",
    )
    assert again["run"] == 'gh workflow run "$WORKFLOW" --ref "$DEFAULT_BRANCH" --field reason=performanceDrop'
    # No schedule asked for: the workflow starts only when dispatched.
    assert set(_workflow(project, "retrain-demand-forecast.yml")[True]) == {"workflow_dispatch"}
    card = (project / "docs" / "models" / "demand-forecast.md").read_text("utf-8")
    assert (
        "Retrained on drift, when production `rmse` crosses 10.0. Each retraining trains a candidate version through "
        "the same gates and evidence and proposes it in a pull request; it is served only once the owners merge it."
    ) in card


def test_the_deprecated_retrain_on_drift_still_dispatches_the_pipeline(tmp_path: Path) -> None:
    project = tmp_path / "demand-forecast"
    shutil.copytree(ROOT / "examples" / "demand-forecast", project)
    _built(project)
    dispatch = _step(_workflow(project, "monitor-demand-forecast.yml")["jobs"]["drift"], "Dispatch retraining")
    assert (dispatch["run"], dispatch["env"]["PIPELINE"]) == (
        'gh workflow run "$PIPELINE" --ref "$DEFAULT_BRANCH"',
        "model-demand-forecast.yml",
    )
    assert not (project / ".github" / "workflows" / "retrain-demand-forecast.yml").exists()


def _oracles_or_skip() -> None:
    reasons = [oracles.actionlint_missing(), oracles.zizmor_missing(), oracles.kubernetes_validate_missing()]
    if any(reasons):
        pytest.skip("; ".join(r for r in reasons if r))


@pytest.mark.parametrize("orchestrator", ["github-actions", "kubernetes-job", "kubeflow-pipelines", "airflow"])
def test_every_generated_file_passes_the_oracles(tmp_path: Path, orchestrator: str) -> None:
    """actionlint, zizmor, the GitHub workflow schema (and its timeout rule), kubernetes-validate on the manifests."""
    _oracles_or_skip()
    retrain = SCHEDULED + f"      dispatchImage: {DISPATCH_IMAGE}\n"
    retrain += "      triggers: {drift: true, performanceDrop: {metric: mae, threshold: 7}}\n"
    retrain = retrain.replace("      triggers: {drift: true}\n", "", 1)
    project = _built(_project(tmp_path, retrain, orchestrator=orchestrator, extra=PERFORMANCE))
    assert (project / ".github" / "workflows" / "retrain-demand-forecast.yml").is_file()
    assert [str(finding) for finding in oracles.check_build(project)] == []


# --- a new data version, and the editor --------------------------------------------------------------------------

SNAPSHOT_SERVER = """\
servers:
  - server: snapshot
    type: local
    path: data/sales.parquet
    format: parquet
    customProperties:
      - {property: dvc, value: data/sales.parquet.dvc}
"""
SALES_DVC = "outs:\n- md5: 7d3c9b1f0e5a4c2b8a6f9e0d1c2b3a4f\n  size: 2048\n  hash: md5\n  path: sales.parquet\n"


def test_a_new_dvc_data_version_on_the_default_branch_starts_a_retraining(tmp_path: Path) -> None:
    project = _project(tmp_path, "    retrain:\n      triggers: {dataVersion: true}\n")
    contract = project / "contracts" / "sales-history.odcs.yaml"
    contract.write_text(contract.read_text("utf-8").replace("servers:\n", SNAPSHOT_SERVER, 1), "utf-8")
    (project / "data" / "sales.parquet.dvc").write_text(SALES_DVC, "utf-8")
    model = project / "models" / "demand-forecast.yaml"
    model.write_text(model.read_text("utf-8").replace("      server: warehouse ", "      server: snapshot  "), "utf-8")
    _built(project)
    on = _workflow(project, "retrain-demand-forecast.yml")[True]
    assert on["push"] == {"branches": ["main"], "paths": ["data/sales.parquet.dvc"]}
    assert set(on) == {"push", "workflow_dispatch"}


def test_the_editor_offers_the_retraining_fields() -> None:
    from compiler.lsp import fields

    retrain = fields.shape_at("Model", ["spec", "monitoring", "retrain"])
    assert [field.name for field in fields.fields_of(retrain)] == ["schedule", "triggers", "dispatchImage"]
    triggers = fields.shape_at("Model", ["spec", "monitoring", "retrain", "triggers"])
    assert [field.name for field in fields.fields_of(triggers)] == ["drift", "performanceDrop", "dataVersion"]
    metric = fields.field_at("Model", ["spec", "monitoring", "retrain", "triggers", "performanceDrop", "metric"])
    assert metric is not None
    assert {"rmse", "roc_auc"} <= set(metric.values)


def test_the_production_gate_report_decides_the_performance_drop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`charter gate eval --production` on ten weeks of labelled predictions whose last weeks degrade, then
    `charter model performance-drop` on the report it wrote, as the monitor's performance job runs them."""
    from sklearn import metrics as sk
    from test_gates_monitoring import NOW, production_predictions
    from test_gates_support import column, write_project

    def project(threshold: float) -> Path:
        server = {"server": "prod", "type": "local", "path": "prod/predictions.parquet", "format": "parquet"}
        watched = {"data": {"contract": "data", "server": "prod"}, "timestamp": "predicted_at", "labelDelay": "7d"}
        root = write_project(
            tmp_path / f"p{threshold}",
            columns=[column("x", "number"), column("y", "integer"), column("g", "string")],
            features=["x"],
            metrics=[{"metric": "roc_auc", "min": 0.7}],
            contract_extra={"servers": [server]},
            monitoring={
                "drift": {"method": "psi", "threshold": 0.2},
                "performance": watched,
                "retrain": {"triggers": {"performanceDrop": {"metric": "roc_auc", "threshold": threshold}}},
            },
        )
        (root / "prod").mkdir()
        frame.to_parquet(root / "prod" / "predictions.parquet")
        return root

    frame = production_predictions(seed=5)
    window = frame[(frame["predicted_at"] >= "2024-05-27") & (frame["predicted_at"] < "2024-06-24")]
    auc = sk.roc_auc_score(window["y_true"].astype(int), window["y_score"])
    assert 0.7 < auc < 0.9  # degraded, yet within the suite's bound: the trigger retrains before the bound fails
    for threshold, expected in ((0.9, 1), (0.7, 0)):
        root = project(threshold)
        report = tmp_path / f"production-{threshold}.json"
        gate = ["gate", "eval", str(root), "--model", "model", "--production", "--now", NOW, "--report", str(report)]
        assert main(gate) == 0
        capsys.readouterr()
        drop = ["model", "performance-drop", "--model", "model", "--report", str(report), "--project", str(root)]
        assert main(drop) == expected
        out = capsys.readouterr().out
        measured = json.loads(report.read_text("utf-8"))["metrics"][0]["value"]
        assert measured == pytest.approx(auc, abs=1e-12)
        side = f"below the threshold {threshold}: retrain" if expected else f"not below {threshold}"
        assert out == f"charter model performance-drop: roc_auc in production is {measured}, {side}\n"


@pytest.mark.parametrize(("drift_trigger", "retrains"), [(True, True), (False, False)])
def test_the_drift_gate_reports_the_retraining_its_trigger_asks_for(
    tmp_path: Path, drift_trigger: bool, retrains: bool
) -> None:
    """`retrain.triggers.drift` decides, not the deprecated `retrainOnDrift` beside it (CH470)."""
    from drift_datasets import traffic
    from test_gates_support import column, run_gate, write_project

    retrain = {"schedule": "0 4 1 * *", "triggers": {"drift": drift_trigger}}
    root = write_project(
        tmp_path / "p",
        columns=[
            column("income", "number"),
            column("segment", "string"),
            column("seen", "timestamp"),
            column("y", "integer"),
        ],
        features=["income", "segment", "seen"],
        monitoring={"drift": {"method": "psi", "threshold": 0.2}, "retrainOnDrift": True, "retrain": retrain},
    )
    reference, shifted = tmp_path / "reference.parquet", tmp_path / "shifted.parquet"
    traffic(20_000, 1).to_parquet(reference)
    traffic(20_000, 3, shift=0.5).to_parquet(shifted)
    summary = tmp_path / "summary.md"
    argv = ["drift", str(root), "--model", "model", "--reference", str(reference), "--current", str(shifted)]
    code, report = run_gate([*argv, "--summary", str(summary)], tmp_path / "drift.json")
    assert (code, report["drift"]) == (1, True)
    assert (report["retrain"], report["subject"]["retrainOnDrift"]) == (retrains, retrains)
    action = "retraining is dispatched" if retrains else "retraining is not automatic (neither `retrain.triggers.drift`"
    assert action in summary.read_text("utf-8")
