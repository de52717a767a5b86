"""Issue 22, Promotion: what the deploy jobs and Argo CD Applications do, read from what `charter build` renders.

Before: push mode applied the canary, waited for Ready and rolled out at once, with no bake, analysis or
rollback; gitops mode had no job at all, both Applications synced `main` on every merge, and neither
`approvals` nor `promotesFrom` was enforced. The runs themselves are tests/test_act_deploy.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from scripts_support import CREDIT_CANARY_EDITS, CREDIT_GITOPS_EDITS, edit_files

from compiler.commands.cli import main

ROOT = Path(__file__).resolve().parent.parent


def build(tmp_path: Path, example: str, edits: dict[str, list[tuple[str, str]]] | None = None) -> Path:
    root = tmp_path / example
    shutil.copytree(ROOT / "examples" / example, root)
    edit_files(root, edits or {})
    assert main(["build", str(root)]) == 0
    return root


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text("utf-8"))


def step_names(job: dict[str, Any]) -> list[str]:
    return [step.get("name", step.get("uses", "")) for step in job["steps"]][3:]  # after checkout, Python, charter


# The examples register in MLflow (issue 28): each deploy job ends registering the version and moving its alias.
REGISTERED = "The version registered in MLflow with its evidence, and this environment's alias on it"


def test_gitops_environments_sync_their_promotion_branches_never_both_main(tmp_path: Path) -> None:
    root = build(tmp_path, "credit-scoring", CREDIT_GITOPS_EDITS)
    revisions = {
        env: load(root / f"deploy/argocd/credit-default-{env}.yaml")["spec"]["source"]["targetRevision"]
        for env in ("staging", "production")
    }
    assert revisions == {"staging": "charter/promoted/staging", "production": "charter/promoted/production"}
    jobs = load(root / ".github/workflows/model-credit-default.yml")["jobs"]
    production = jobs["deploy-production"]
    assert production["needs"] == ["recorded", "evaluate", "deploy-staging"]  # promotesFrom: staging
    assert production["environment"] == "production"  # approvals: GitHub's, verified by the job
    assert production["permissions"] == {"contents": "write", "actions": "read"}
    assert step_names(production) == [
        "Evidence of this version",
        "Approvals of this environment, as GitHub enforces them",
        "Canary (10% of traffic): the Application syncs the canary",
        "Bake (10 min)",
        "Promote: the environment's Application syncs this commit",
        REGISTERED,
    ]
    assert production["timeout-minutes"] == 30 + 10
    assert "KUBE_CONFIG" not in (root / ".github/workflows/model-credit-default.yml").read_text("utf-8")


def test_an_environment_nothing_gates_syncs_main_and_has_no_job(tmp_path: Path) -> None:
    """demand-forecast's staging: no approvals, no promotesFrom. In gitops mode it follows main on merge."""
    gitops = "mode: gitops\n    repoUrl: https://github.com/acme-retail/demand-forecast.git"
    root = build(tmp_path, "demand-forecast", {"charter.yaml": [("mode: push", gitops)]})
    staging = load(root / "deploy/argocd/demand-forecast-staging.yaml")
    assert staging["spec"]["source"]["targetRevision"] == "main"
    production = load(root / "deploy/argocd/demand-forecast-production.yaml")
    assert production["spec"]["source"]["targetRevision"] == "charter/promoted/production"
    jobs = load(root / ".github/workflows/model-demand-forecast.yml")["jobs"]
    assert "deploy-staging" not in jobs
    assert jobs["deploy-production"]["needs"] == ["recorded", "evaluate"]
    # Production's rollout is Argo Rollouts': the job only moves the branch, the analysis decides in the cluster.
    assert step_names(jobs["deploy-production"])[-2:] == [
        "Promote: the environment's Application syncs this commit",
        REGISTERED,
    ]
    assert not any("Canary" in name for name in step_names(jobs["deploy-production"]))


def test_push_mode_bakes_analyses_and_rolls_back_a_kserve_canary(tmp_path: Path) -> None:
    root = build(tmp_path, "credit-scoring", CREDIT_CANARY_EDITS)
    jobs = load(root / ".github/workflows/model-credit-default.yml")["jobs"]
    production = jobs["deploy-production"]
    assert production["needs"] == ["recorded", "evaluate", "deploy-staging"]
    assert step_names(production) == [
        "Evidence of this version",
        "Approvals of this environment, as GitHub enforces them",
        "Cluster credentials of the environment",
        "Canary (10% of traffic)",
        "Bake (10 min)",
        "Analysis: the canary stayed healthy",
        "Roll out",
        "Roll back",
        REGISTERED,
    ]
    steps = {step.get("name"): step for step in production["steps"]}
    assert steps["Bake (10 min)"]["env"] == {"BAKE_SECONDS": "600"}
    assert steps["Roll back"]["if"] == "${{ failure() && steps.canary.outcome != 'skipped' }}"
    assert 'canaryTrafficPercent":0' in steps["Roll back"]["run"]
    assert "latestReadyRevision" in steps["Analysis: the canary stayed healthy"]["run"]
    assert steps["Roll out"]["env"]["MANIFESTS"] == "deploy/production/credit-default"
    # Staging has no canary: it rolls out and waits; KServe moves no traffic to a revision that is not ready.
    assert step_names(jobs["deploy-staging"])[-2:] == ["Roll out", REGISTERED]


def test_push_mode_kubernetes_rollout_without_a_canary_is_undone_when_it_fails(tmp_path: Path) -> None:
    root = build(tmp_path, "demand-forecast")
    staging = load(root / ".github/workflows/model-demand-forecast.yml")["jobs"]["deploy-staging"]
    assert step_names(staging)[-3:] == ["Roll out", "Roll back", REGISTERED]
    rollback = staging["steps"][-2]
    assert rollback["if"] == "${{ failure() && steps.rollout.outcome == 'failure' }}"
    assert rollback["run"].startswith('kubectl rollout undo --namespace "$NAMESPACE" "deployment/$NAME"')


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        ("-1", "`bakeMinutes` must be greater than or equal to 0 (got `-1`)"),
        ("1441", "`bakeMinutes` must be less than or equal to 1440 (got `1441`)"),
    ],
)
def test_a_bake_time_out_of_bounds_is_refused(
    tmp_path: Path, minutes: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "credit-scoring"
    shutil.copytree(ROOT / "examples" / "credit-scoring", root)
    edit_files(root, CREDIT_CANARY_EDITS)
    model = root / "models/credit-default.yaml"
    canary = "        trafficPercent: 10         # the new version takes 10% of traffic first\n"
    model.write_text(model.read_text("utf-8").replace(canary, canary + f"        bakeMinutes: {minutes}\n"), "utf-8")
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert f"credit-default.yaml:92:22: error[CH204] {message}" in out, out
