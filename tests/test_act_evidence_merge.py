"""Issue 22, on act: a push-mode version's first run is complete once its evidence pull request merges.

Before: the first run of a version trained it, proposed its evidence, and its deploy jobs failed (no evidence on
main); after the evidence pull request merged nothing ran, until someone dispatched the workflow again, which
trained the version again. Now the first run is green with its deploy jobs skipped, and the merge (a push to main
touching `evidence/<model>/`) starts the model workflow, whose `recorded` job finds the version's passing
evidence: the deploy jobs run (staging, then the production canary, bake, analysis, rollout) against the kubectl
stand-in, without a data gate, training or evaluation.
"""

from __future__ import annotations

import json

from act_support import ROOT, Runner, environments_as_specified, git
from live_servers import S3
from test_act_deploy import APPLY, CANARY_SHIPPED, KUBECONFIG, PRODUCTION, WAIT, _pushed_with_kubectl
from test_act_model import MODEL_WORKFLOW, GitHubWithPulls, _jobs, _proposed, _upload, github, pytestmark, runner, s3

__all__ = ["github", "pytestmark", "runner", "s3"]


def test_merging_the_evidence_pull_request_deploys_the_version_without_training_it_again(
    runner: Runner, s3: S3, github: GitHubWithPulls
) -> None:
    _upload(s3, 60_000, broken=False)
    environments_as_specified(github)
    repo, before = _pushed_with_kubectl(runner, s3, measured=False)
    log, state = runner.work / "kubectl.log", runner.work / "cluster.json"
    env = {"ACT_KUBECTL_LOG": str(log), "ACT_KUBECTL_STATE": str(state), "ACT_ORACLES": str(ROOT / "scripts")}
    secrets = {"KUBE_CONFIG": KUBECONFIG}

    # The first run: trained, measured, evidence proposed; the deploy jobs wait for the evidence (skipped, green).
    first = runner.run(repo, "push", runner.push_event(repo, before), MODEL_WORKFLOW, env=env, secrets=secrets)
    assert first.code == 0, first.log
    assert _jobs(first.log) == {
        "Recorded evidence of credit-default 3.2.0": "succeeded",
        "Data gate (credit-applications)": "succeeded",
        "Train credit-default 3.2.0": "succeeded",
        "Evaluation gate (credit-default-eval)": "succeeded",
        "Evidence of credit-default 3.2.0": "succeeded",
    }, first.log
    assert not log.exists(), "the cluster was touched before the evidence was merged"

    # The evidence pull request merges (GitHub's merge commit on main), and GitHub sends the push.
    branch, changed = _proposed(runner, repo, github)
    assert "evidence/credit-default/3.2.0/eval.json" in changed
    merged_from = git(repo, "rev-parse", "main").strip()
    git(repo, "merge", "--quiet", "--no-ff", "-m", f"Merge {branch}", f"origin/{branch}")
    merge = runner.run(repo, "push", runner.push_event(repo, merged_from), MODEL_WORKFLOW, env=env, secrets=secrets)
    assert merge.code == 0, merge.log
    assert _jobs(merge.log) == {
        "Recorded evidence of credit-default 3.2.0": "succeeded",
        "Deploy to staging": "succeeded",
        "Deploy to production": "succeeded",
    }, merge.log
    assert "::set-output:: evidence=passes" in merge.log
    assert "charter evidence require: credit-default 3.2.0: evaluation evidence passes" in merge.log
    calls = [json.loads(line) for line in log.read_text("utf-8").splitlines()]
    assert calls == [*CANARY_SHIPPED, [*APPLY, PRODUCTION], WAIT]
    assert len(github.opened) == 1  # nothing measured again, nothing proposed again
