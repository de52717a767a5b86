"""Continuous training on act (issue 28): the monitor dispatches the retraining workflow on drift, and the
retraining trains a candidate version through the data gate, training, the evaluation gate and evidence, then
proposes it in a pull request: the served version is never touched.

The credit-scoring example with `monitoring.retrain: {triggers: {drift: true}}`, its data and model store in moto's
S3, the training command on the host (tests/act/bin/docker), the candidate branch and the evidence branch pushed to
the bare repository where GitHub would be, the pull request opened through GitHub's API (the test's GitHub).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from act_support import ROOT, Runner, built_and_committed, git, lake_at, model_store_at
from live_servers import S3, trust
from test_act_model import REPOSITORY, GitHubWithPulls, _upload, github, pytestmark, runner, s3
from test_act_monitor import _data, _schedule

from compiler.commands.cli import main

__all__ = ["github", "pytestmark", "runner", "s3"]  # fixtures shared with the model workflow's tests
RETRAIN = ".github/workflows/retrain-credit-default.yml"
MODELS = "acme-models"
CANDIDATE = "3.2.0-retrain.1"  # act numbers its runs from 1


def _repository(runner: Runner, s3: S3) -> Path:
    repo = runner.repository(ROOT / "examples" / "credit-scoring", REPOSITORY)
    model = repo / "models" / "credit-default.yaml"
    text = model.read_text("utf-8")
    old = "    retrainOnDrift: true "
    assert old in text
    model.write_text(text.replace(old, "    retrain: {triggers: {drift: true}}\n" + old, 1), "utf-8")
    lake_at(repo, s3.endpoint_url)
    model_store_at(repo, s3.endpoint_url)
    trust(repo, s3=s3)
    built_and_committed(repo, "retrain on drift; the lake is at moto")
    runner.push(repo, "main")
    return repo


def test_drift_dispatches_the_retraining_workflow(runner: Runner, s3: S3, github: GitHubWithPulls) -> None:
    _data(s3, shifted=True)
    code, log = _schedule(runner, _repository(runner, s3))
    assert code != 0  # drift is news
    assert github.dispatched == [("retrain-credit-default.yml", {"ref": "main", "inputs": {"reason": "drift"}})], log


def test_a_retraining_proposes_a_candidate_version_with_its_evidence(
    runner: Runner, s3: S3, github: GitHubWithPulls
) -> None:
    _upload(s3, 60_000, broken=False)
    repo = _repository(runner, s3)
    event = {
        "inputs": {"reason": "drift"},
        "ref": "refs/heads/main",
        "repository": {"full_name": f"acme/{REPOSITORY}", "name": REPOSITORY, "default_branch": "main"},
    }
    run = runner.run(repo, "workflow_dispatch", event, RETRAIN, job="evidence", timeout=600)
    assert run.code == 0, run.log
    # The candidate was trained and stored beside the served version, never over it.
    client: Any = s3.client()
    stored = [listed["Key"] for listed in client.list_objects_v2(Bucket=MODELS).get("Contents", [])]
    assert stored == [f"credit-default/{CANDIDATE}/model.json"]
    (opened,) = github.opened
    assert (opened["base"], opened["title"]) == ("main", f"Retrain credit-default: candidate version {CANDIDATE}")
    assert "(drift)" in opened["body"]
    branch = opened["head"]
    git(repo, "fetch", "--quiet", "origin", env={"GIT_CONFIG_GLOBAL": str(runner.work / "gitconfig")})
    changed = git(repo, "diff", "--name-only", "main", f"origin/{branch}").split()
    assert "models/credit-default.yaml" in changed
    assert {f"evidence/credit-default/{CANDIDATE}/data.json", f"evidence/credit-default/{CANDIDATE}/eval.json"} <= set(
        changed
    )
    assert not [name for name in changed if name.startswith("evidence/credit-default/3.2.0/")]
    spec = git(repo, "show", f"origin/{branch}:models/credit-default.yaml")
    assert f'  version: "{CANDIDATE}"' in spec
    record = json.loads(git(repo, "show", f"origin/{branch}:evidence/credit-default/{CANDIDATE}/eval.json"))
    assert (record["version"], record["verdict"], record["origin"]["workflow"]) == (CANDIDATE, "pass", RETRAIN)
    git(repo, "checkout", "--quiet", f"origin/{branch}")
    assert main(["build", str(repo), "--check"]) == 0  # the pull request's own check passes
