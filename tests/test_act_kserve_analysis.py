"""Issue 27 on act: a push-mode KServe canary with a `rollout` is judged on Prometheus, and a bad error rate rolls
it back. The credit-scoring example pushed with kubectl, production's rollout shortened to one step whose
analysis queries a Prometheus stand-in on 127.0.0.1 (Prometheus' `/api/v1/query`), which measures the canary's
5xx share at 0.2 against a bound of 0.01: the deploy job fails with the metric, its value and the bound, sets
`canaryTrafficPercent: 0`, and never applies production's full manifests.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from act_support import ROOT, Runner, git, lake_at, model_store_at
from live_servers import S3, trust
from scripts_support import CREDIT_MODEL, CREDIT_PROMETHEUS, CREDIT_ROLLOUT, edit_files
from test_act_deploy import APPLY, KUBECONFIG, PRODUCTION, STAGING, WAIT, _measured_again, _ns
from test_act_model import MODEL_WORKFLOW, REPOSITORY, GitHubWithPulls, _jobs, _upload, github, pytestmark, runner, s3
from test_deploy_analyze import ERROR_RATE, Prometheus

__all__ = ["github", "pytestmark", "runner", "s3"]

ROLLOUT = "      rollout:\n        steps: [{weight: 10, pauseMinutes: 1}]\n        analysis: {maxErrorRate: 0.01}\n"


@pytest.fixture
def prometheus() -> Iterator[Prometheus]:
    server = Prometheus()
    server.answers = {ERROR_RATE: "0.2"}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _pushed(runner: Runner, s3: S3, address: str) -> tuple[Path, str]:
    repo = runner.repository(ROOT / "examples" / "credit-scoring", REPOSITORY)
    lake_at(repo, s3.endpoint_url)
    trust(repo, s3=s3)
    # The example's rollout, its steps shortened to one of a minute, judged on the test's Prometheus.
    edits = {
        CREDIT_MODEL: [(CREDIT_ROLLOUT, ROLLOUT)],
        "environments/production.yaml": [(CREDIT_PROMETHEUS, f"  prometheus: {address}\n")],
    }
    edit_files(repo, edits)
    model_store_at(repo, s3.endpoint_url)
    _measured_again(repo)
    before = git(repo, "rev-parse", "HEAD").strip()
    from compiler.commands.cli import main

    assert main(["build", str(repo)]) == 0
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "pushed with kubectl; a KServe rollout analysed on Prometheus")
    return repo, before


def test_a_bad_error_rate_rolls_the_kserve_canary_back_and_production_keeps_its_version(
    runner: Runner, s3: S3, github: GitHubWithPulls, prometheus: Prometheus
) -> None:
    _upload(s3, 60_000, broken=False)
    github.environment("staging", ("alice",))
    github.environment("production", ("acme/model-risk", "bob"), prevent_self_review=True, branches=("main",))
    repo, before = _pushed(runner, s3, prometheus.address)
    log, state = runner.work / "kubectl.log", runner.work / "cluster.json"
    env = {"ACT_KUBECTL_LOG": str(log), "ACT_KUBECTL_STATE": str(state), "ACT_ORACLES": str(ROOT / "scripts")}
    event = runner.push_event(repo, before)
    run = runner.run(
        repo, "push", event, MODEL_WORKFLOW, job="deploy-production", env=env, secrets={"KUBE_CONFIG": KUBECONFIG}
    )
    assert _jobs(run.log)["Deploy to production"] == "failed", run.log
    assert prometheus.asked == [ERROR_RATE]
    assert (
        "charter deploy analyze: CH770 error-rate of credit-default in production at step 1 (10%) measured 0.2, "
        "above the bound 0.01"
    ) in run.log
    assert "all traffic back to the revision served before" in run.log
    calls = [json.loads(line) for line in log.read_text("utf-8").splitlines()]
    created, ready = (
        [*_ns("get", "inferenceservice/credit-default"), "--output", f"jsonpath={{.status.components.predictor.{f}}}"]
        for f in ("latestCreatedRevision", "latestReadyRevision")
    )
    rollback = _ns(
        "patch",
        "inferenceservice/credit-default",
        "--type",
        "merge",
        "--patch",
        '{"spec":{"predictor":{"canaryTrafficPercent":0}}}',
    )
    # Production's full manifests are never applied: the canary, its analysis, the rollback.
    assert calls == [[*APPLY, STAGING], WAIT, [*APPLY, f"{PRODUCTION}/canary/"], WAIT, created, ready, rollback]
    served = json.loads(state.read_text("utf-8"))["inferenceservice/credit-risk/credit-default"]["object"]
    assert served["spec"]["predictor"]["canaryTrafficPercent"] == 0
