"""Issue 22's proof of promotion, on act: once the version's evidence is on main, a push runs the model workflow's
deploy jobs without training the version again (the `recorded` job finds its passing evidence): deploy to staging
-> canary in production -> bake -> analysis -> full rollout; a canary that falls over during the bake is rolled
back and production keeps the version it served. The first run of a version, up to the merge of its evidence
pull request, is tests/test_act_evidence_merge.py.

The credit-scoring example pushed with kubectl (KServe, a 10% canary in production), its evidence of 3.2.0
committed as the example holds it, its data in moto's S3. `kubectl` is tests/act/bin/kubectl: it records every
call and validates every manifest it is given against the Kubernetes and KServe schemas. Each deploy job first
asks GitHub's API (the test's stand-in) whether its GitHub environment enforces what the Environment says.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from act_support import ROOT, Runner, built_and_committed, environments_as_specified, git, lake_at, model_store_at
from live_servers import S3, trust
from scripts_support import CREDIT_CANARY_EDITS, CREDIT_GITOPS_EDITS, edit_files
from test_act_model import MODEL_WORKFLOW, REPOSITORY, GitHubWithPulls, _jobs, _upload, github, pytestmark, runner, s3

__all__ = ["github", "pytestmark", "runner", "s3"]  # the model workflow test's fixtures (moto, GitHub, runner), skips

KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n"
STAGING = "deploy/staging/credit-default"
PRODUCTION = "deploy/production/credit-default"


def _pushed_with_kubectl(runner: Runner, s3: S3, mode: str = "push", *, measured: bool = True) -> tuple[Path, str]:
    """The example in push mode (or gitops) with a 10% canary, its lake at moto (a listed plain-HTTP endpoint), a canary
    that bakes 0 minutes; `measured`: its evidence measured again for the model stored at moto (else the version
    has no evidence of this model, as a new version has none)."""
    repo = runner.repository(ROOT / "examples" / "credit-scoring", REPOSITORY)
    lake_at(repo, s3.endpoint_url)
    # The readiness-only canary (the example's production now rolls out with analysis: test_act_kserve_analysis.py).
    edit_files(repo, CREDIT_CANARY_EDITS if mode == "push" else CREDIT_GITOPS_EDITS)
    trust(repo, s3=s3)  # the organisation lists the endpoint its credentials may go to
    model = repo / "models" / "credit-default.yaml"
    canary = "        trafficPercent: 10         # the new version takes 10% of traffic first\n"
    model.write_text(model.read_text("utf-8").replace(canary, canary + "        bakeMinutes: 0\n"), "utf-8")
    # The train job stores the model at moto too (serving.endpointUrl, a listed endpoint). Where the model is stored
    # is part of what its evidence is of (`model-identity`): the version is measured again, as its pipeline would.
    model_store_at(repo, s3.endpoint_url)
    if measured:
        _measured_again(repo)
    before = git(repo, "rev-parse", "HEAD").strip()
    built_and_committed(repo, "pushed with kubectl; the lake is at moto")
    return repo, before


def _measured_again(repo: Path) -> None:
    """The example's gates run on its synthetic data, recorded under the copy's evidence/ (scripts/example_evidence)."""
    found = importlib.util.spec_from_file_location("example_evidence", ROOT / "scripts" / "example_evidence.py")
    assert found is not None
    assert found.loader is not None
    module = importlib.util.module_from_spec(found)
    sys.modules.setdefault("example_evidence", module)  # its dataclasses look their module up
    found.loader.exec_module(module)
    module.regenerate(only="credit-scoring", project=repo)


def _deploy(
    runner: Runner, s3: S3, github: GitHubWithPulls, *, degraded: bool
) -> tuple[Any, list[list[str]], dict[str, Any]]:
    _upload(s3, 60_000, broken=False)
    environments_as_specified(github)
    repo, before = _pushed_with_kubectl(runner, s3)
    return deployed_to_production(runner, repo, before, degraded=degraded)


def deployed_to_production(
    runner: Runner, repo: Path, before: str, *, degraded: bool
) -> tuple[Any, list[list[str]], dict[str, Any]]:
    """The push's deploy-production job with kubectl the recording stand-in (its rollout `degraded` or healthy):
    the run, the kubectl calls and the cluster's state after them."""
    log, state = runner.work / "kubectl.log", runner.work / "cluster.json"
    env = {
        "ACT_KUBECTL_LOG": str(log),
        "ACT_KUBECTL_STATE": str(state),
        "ACT_ORACLES": str(ROOT / "scripts"),
        "ACT_KUBECTL_DEGRADED": "1" if degraded else "0",
    }
    event = runner.push_event(repo, before)
    run = runner.run(
        repo, "push", event, MODEL_WORKFLOW, job="deploy-production", env=env, secrets={"KUBE_CONFIG": KUBECONFIG}
    )
    calls = [json.loads(line) for line in log.read_text("utf-8").splitlines()] if log.exists() else []
    return run, calls, json.loads(state.read_text("utf-8")) if state.exists() else {}


def _ns(*args: str) -> list[str]:
    return [args[0], "--namespace", "credit-risk", *args[1:]]


APPLY = ["apply", "--server-side", "--field-manager=charter", "-f"]
WAIT = _ns("wait", "--for=condition=Ready", "inferenceservice/credit-default", "--timeout=15m")
CANARY_SHIPPED = [
    [*APPLY, STAGING],
    WAIT,
    [*APPLY, f"{PRODUCTION}/canary/"],
    WAIT,
    # the analysis, after the bake
    _ns("wait", "--for=condition=Ready", "inferenceservice/credit-default", "--timeout=60s"),
    [
        *_ns("get", "inferenceservice/credit-default"),
        "--output",
        "jsonpath={.status.components.predictor.latestCreatedRevision}",
    ],
    [
        *_ns("get", "inferenceservice/credit-default"),
        "--output",
        "jsonpath={.status.components.predictor.latestReadyRevision}",
    ],
]


def test_evidence_on_main_deploys_staging_then_a_canary_then_production(
    runner: Runner, s3: S3, github: GitHubWithPulls
) -> None:
    run, calls, cluster = _deploy(runner, s3, github, degraded=False)
    # The version's passing evidence is on main: it deploys without being trained again.
    assert _jobs(run.log) == {
        "Recorded evidence of credit-default 3.2.0": "succeeded",
        "Deploy to staging": "succeeded",
        "Deploy to production": "succeeded",
    }, run.log
    assert calls == [*CANARY_SHIPPED, [*APPLY, PRODUCTION], WAIT]
    assert "charter evidence require: credit-default 3.2.0: evaluation evidence passes" in run.log
    assert "`production` enforces what Environment `production` says" in run.log
    assert ("GET", "/api/v3/repos/acme/lending/environments/production") in github.calls()
    # Production serves the full InferenceService (no canary split left), staging its own.
    served = cluster["inferenceservice/credit-risk/credit-default"]
    assert "canaryTrafficPercent" not in served["object"]["spec"]["predictor"]
    assert served["revisions"] == 3  # staging's apply, the canary, the rollout (one object in one namespace here)
    assert "charter rollback" not in run.log


def test_a_canary_that_falls_over_during_the_bake_is_rolled_back(
    runner: Runner, s3: S3, github: GitHubWithPulls
) -> None:
    run, calls, cluster = _deploy(runner, s3, github, degraded=True)
    assert run.code != 0
    assert _jobs(run.log)["Deploy to production"] == "failed", run.log
    rollback = _ns(
        "patch",
        "inferenceservice/credit-default",
        "--type",
        "merge",
        "--patch",
        '{"spec":{"predictor":{"canaryTrafficPercent":0}}}',
    )
    # Never promoted: after the failed analysis, the rollback and nothing else.
    assert calls == [*CANARY_SHIPPED, rollback]
    assert "not ready after the bake" in run.log
    assert "all traffic back to the revision served before" in run.log
    served = cluster["inferenceservice/credit-risk/credit-default"]["object"]
    assert served["spec"]["predictor"]["canaryTrafficPercent"] == 0


def test_a_github_environment_without_the_approvals_stops_the_deploy(
    runner: Runner, s3: S3, github: GitHubWithPulls
) -> None:
    """Production's GitHub environment lists one reviewer where the spec says two: nothing reaches the cluster."""
    _upload(s3, 60_000, broken=False)
    github.environment("staging", ("alice",))
    github.environment("production", ("bob",), prevent_self_review=True, branches=("main",))
    repo, before = _pushed_with_kubectl(runner, s3)
    log = runner.work / "kubectl.log"
    oracles = str(ROOT / "scripts")
    env = {"ACT_KUBECTL_LOG": str(log), "ACT_KUBECTL_STATE": str(runner.work / "c.json"), "ACT_ORACLES": oracles}
    run = runner.run(
        repo,
        "push",
        runner.push_event(repo, before),
        MODEL_WORKFLOW,
        job="deploy-production",
        env=env,
        secrets={"KUBE_CONFIG": KUBECONFIG},
    )
    assert _jobs(run.log)["Deploy to production"] == "failed", run.log
    assert "GitHub environment `production` lists 1 reviewer; the spec says `approvals: 2`" in run.log
    calls = [json.loads(line) for line in log.read_text("utf-8").splitlines()]
    assert calls == [[*APPLY, STAGING], WAIT], "production was touched"


def test_gitops_promotion_moves_each_environments_branch_after_its_approvals(
    runner: Runner, s3: S3, github: GitHubWithPulls
) -> None:
    """Gitops mode: Argo CD syncs `charter/promoted/<environment>`, never main. The promote jobs, each in its GitHub
    environment, move staging's branch to the commit, then production's to a canary commit, and after the bake to
    the commit itself; no cluster credentials anywhere."""
    _upload(s3, 60_000, broken=False)
    github.environment("staging", ("alice",))
    github.environment("production", ("acme/model-risk", "bob"), prevent_self_review=True, branches="protected")
    repo, before = _pushed_with_kubectl(runner, s3, mode="gitops")
    bare = runner.work / "remotes" / "acme" / REPOSITORY
    git(bare, "config", "core.logAllRefUpdates", "always")  # keep every position of the promotion branches
    run = runner.run(repo, "push", runner.push_event(repo, before), MODEL_WORKFLOW, job="deploy-production")
    assert _jobs(run.log) == {
        "Recorded evidence of credit-default 3.2.0": "succeeded",
        "Promote to staging": "succeeded",
        "Promote to production": "succeeded",
    }, run.log
    main = git(bare, "rev-parse", "main").strip()
    assert git(bare, "rev-parse", "charter/promoted/staging").strip() == main
    production = git(bare, "reflog", "show", "--format=%H", "refs/heads/charter/promoted/production").split()
    assert production[0] == main  # newest first: the promotion, after the canary
    (canary,) = production[1:]
    assert git(bare, "rev-parse", f"{canary}^").strip() == main
    assert git(bare, "diff", "--name-only", main, canary).split() == [f"{PRODUCTION}/inferenceservice.yaml"]
    served = git(bare, "show", f"{canary}:{PRODUCTION}/inferenceservice.yaml")
    assert "canaryTrafficPercent: 10" in served
    application = git(bare, "show", "main:deploy/argocd/credit-default-production.yaml")
    assert 'targetRevision: "charter/promoted/production"' in application
    assert "KUBE_CONFIG" not in (repo / MODEL_WORKFLOW).read_text("utf-8")
