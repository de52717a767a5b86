"""Issue 27's proof of progressive delivery in push mode, on act: a production deployment with a `rollout` is applied
as an Argo Rollouts Rollout, and the deploy job succeeds only when Argo Rollouts promoted it (every step's analysis
passed); when the analysis aborts it, the job fails with Argo's reason and leaves the rollback to Argo Rollouts.

The credit-scoring example served by the `kubernetes` runtime (its own image), production with a rollout, pushed
with kubectl. `kubectl` is tests/act/bin/kubectl: it validates every manifest against its schema (the Rollout and
AnalysisTemplate against Argo Rollouts' CRDs) and answers for the Argo Rollouts controller: `Healthy`, or with
ACT_KUBECTL_DEGRADED=1 `Degraded` with the message Argo writes when a metric failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from act_support import ROOT, Runner, built_and_committed, environments_as_specified, git, lake_at, model_store_at
from live_servers import S3, trust
from scripts_support import CREDIT_PROMETHEUS, CREDIT_ROLLOUT
from test_act_deploy import _measured_again, deployed_to_production
from test_act_model import REPOSITORY, GitHubWithPulls, _jobs, _upload, github, pytestmark, runner, s3

__all__ = ["github", "pytestmark", "runner", "s3"]

PRODUCTION = "deploy/production/credit-default"
IMAGE = "ghcr.io/acme-bank/credit-serve@sha256:" + "5" * 64
ROLLOUT = """\
      rollout:
        steps: [{weight: 10, pauseMinutes: 5}, {weight: 50, pauseMinutes: 5}]
        analysis: {maxErrorRate: 0.01, maxLatencyMs: 250}
"""


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new), "utf-8")


def _with_a_rollout(runner: Runner, s3: S3) -> tuple[Path, str]:
    repo = runner.repository(ROOT / "examples" / "credit-scoring", REPOSITORY)
    lake_at(repo, s3.endpoint_url)
    trust(repo, s3=s3)
    model = repo / "models" / "credit-default.yaml"
    kserve = "    runtime: kserve                # renders a KServe InferenceService\n"
    _edit(model, kserve, "    runtime: kubernetes\n")
    _edit(model, "    modelFormat: xgboost\n", f"    modelFormat: xgboost\n    image: {IMAGE}\n")
    _edit(model, CREDIT_ROLLOUT, ROLLOUT)  # the example's, for Argo Rollouts
    production = repo / "environments" / "production.yaml"
    _edit(production, CREDIT_PROMETHEUS, "  prometheus: http://prometheus.monitoring.svc:9090\n")
    model_store_at(repo, s3.endpoint_url)
    _measured_again(repo)
    before = git(repo, "rev-parse", "HEAD").strip()
    built_and_committed(repo, "served by its own image, production by Argo Rollouts")
    return repo, before


def _deploy(runner: Runner, s3: S3, github: GitHubWithPulls, *, degraded: bool) -> tuple[Any, list[list[str]]]:
    _upload(s3, 60_000, broken=False)
    environments_as_specified(github)
    repo, before = _with_a_rollout(runner, s3)
    run, calls, _ = deployed_to_production(runner, repo, before, degraded=degraded)
    return run, calls


def _get(field: str) -> list[str]:
    return ["get", "--namespace", "credit-risk", "rollout/credit-default", "--output", f"jsonpath={{{field}}}"]


PRODUCTION_CALLS = [
    ["apply", "--server-side", "--field-manager=charter", "-f", PRODUCTION],
    _get(".metadata.generation"),
    _get(".status.observedGeneration"),
    _get(".status.phase"),
]


def test_the_job_promotes_when_argo_rollouts_did(runner: Runner, s3: S3, github: GitHubWithPulls) -> None:
    run, calls = _deploy(runner, s3, github, degraded=False)
    assert _jobs(run.log)["Deploy to production"] == "succeeded", run.log
    assert calls[-4:] == PRODUCTION_CALLS
    assert "Argo Rollouts promoted credit-default: every step's analysis passed." in run.log


def test_the_job_fails_when_the_analysis_aborted_the_rollout(runner: Runner, s3: S3, github: GitHubWithPulls) -> None:
    run, calls = _deploy(runner, s3, github, degraded=True)
    assert _jobs(run.log)["Deploy to production"] == "failed", run.log
    # Argo Rollouts rolled back in the cluster: the job reads its verdict and touches nothing more.
    assert calls[-5:] == [*PRODUCTION_CALLS, _get(".status.message")]
    assert (
        "credit-default aborted and rolled back by Argo Rollouts: RolloutAborted: Rollout aborted update to "
        'revision 1: Metric "error-rate" assessed Failed due to failed (2) > failureLimit (1)'
    ) in run.log
