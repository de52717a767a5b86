"""Issue 27, progressive delivery and what clusters require, read from what `charter build` renders.

Before: a `kubernetes` canary was a second Deployment sized by replicas, with no metric analysis and no rollback
in gitops mode; KServe InferenceServices carried no deployment mode (RawDeployment silently ignores
canaryTrafficPercent); no NetworkPolicy; the predictor mounted a service account token; the Environment could
not say which pull secrets, nodes or taints its models need. Each rendered object is checked by its oracle:
Argo Rollouts' CRDs and KServe's made strict, kubernetes-validate for NetworkPolicy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from scripts_support import CREDIT_GITOPS, CREDIT_PUSH, load_script

from compiler.commands.cli import main

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = "deploy/production/demand-forecast"
oracles = load_script("oracles")


def build(tmp_path: Path, example: str, edits: dict[str, list[tuple[str, str]]] | None = None) -> Path:
    root = tmp_path / example
    shutil.copytree(ROOT / "examples" / example, root)
    for file, replacements in (edits or {}).items():
        text = (root / file).read_text("utf-8")
        for old, new in replacements:
            assert old in text, (file, old)
            text = text.replace(old, new)
        (root / file).write_text(text, "utf-8")
    return root


def load_all(path: Path) -> list[Any]:
    return [doc for doc in YAML(typ="safe", pure=True).load_all(path.read_text("utf-8")) if doc is not None]


def strictly_valid(path: Path) -> list[Any]:
    """The documents of a rendered file, after every one passed its oracle."""
    assert oracles.argo_rollouts_missing() is None
    assert oracles.kserve_missing() is None
    documents = load_all(path)
    findings = [finding for document in documents for finding in oracles.manifest_errors(document, path.name)]
    assert not findings, "\n".join(map(str, findings))
    return documents


def test_a_rollout_renders_a_valid_rollout_decided_by_its_analysis_template(tmp_path: Path) -> None:
    root = build(tmp_path, "demand-forecast")
    assert main(["build", str(root)]) == 0
    assert not (root / PRODUCTION / "deployment.yaml").exists()
    rollout, service, autoscaler, budget = strictly_valid(root / PRODUCTION / "rollout.yaml")
    assert [rollout["kind"], service["kind"], autoscaler["kind"], budget["kind"]] == [
        "Rollout",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    ]
    canary = rollout["spec"]["strategy"]["canary"]
    assert canary["steps"][1:] == [
        {"setWeight": 25},
        {"pause": {"duration": "10m"}},
        {"setWeight": 50},
        {"pause": {"duration": "10m"}},
    ]
    assert canary["analysis"]["templates"] == [{"templateName": "demand-forecast"}]
    assert canary["analysis"]["startingStep"] == 1  # after the A/B experiment (below)
    assert canary["analysis"]["args"][0] == {"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}
    assert autoscaler["spec"]["scaleTargetRef"] == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "name": "demand-forecast",
    }
    template, _ = strictly_valid(root / PRODUCTION / "analysistemplate.yaml")
    assert template["metadata"]["name"] == "demand-forecast"
    metrics = {metric["name"]: metric for metric in template["spec"]["metrics"]}
    assert {name: metric["successCondition"] for name, metric in metrics.items()} == {
        "error-rate": "result[0] <= 0.01",
        "latency": "result[0] <= 0.3",
        "mean-forecast": "result[0] >= 0.0",
    }
    canary_pods = 'namespace="{{args.namespace}}",pod=~"demand-forecast-{{args.canary-hash}}-.*"'
    assert metrics["error-rate"]["provider"]["prometheus"] == {
        "address": "http://prometheus-operated.monitoring.svc:9090",
        "query": f'sum(rate(http_requests_total{{{canary_pods},code=~"5.."}}[2m])) '
        f"/ sum(rate(http_requests_total{{{canary_pods}}}[2m]))",
    }
    assert metrics["latency"]["provider"]["prometheus"]["query"] == (
        f"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{{canary_pods}}}[2m])))"
    )
    assert all(metric["failureLimit"] == 1 and metric["interval"] == "1m" for metric in metrics.values())


def test_an_ab_experiment_compares_the_candidate_with_the_baseline_before_any_step(tmp_path: Path) -> None:
    root = build(tmp_path, "demand-forecast")
    assert main(["build", str(root)]) == 0
    rollout = strictly_valid(root / PRODUCTION / "rollout.yaml")[0]
    assert rollout["spec"]["strategy"]["canary"]["steps"][0] == {
        "experiment": {
            "duration": "60m",
            "templates": [
                {"name": "baseline", "specRef": "stable", "replicas": 1},
                {"name": "candidate", "specRef": "canary", "replicas": 1},
            ],
            "analyses": [
                {
                    "name": "ab",
                    "templateName": "demand-forecast-ab",
                    "args": [
                        {"name": "baseline-hash", "value": "{{templates.baseline.podTemplateHash}}"},
                        {"name": "candidate-hash", "value": "{{templates.candidate.podTemplateHash}}"},
                        {"name": "namespace", "value": "demand-forecast"},
                    ],
                }
            ],
        }
    }
    _, ab = strictly_valid(root / PRODUCTION / "analysistemplate.yaml")
    assert ab["metadata"]["name"] == "demand-forecast-ab"
    assert [arg["name"] for arg in ab["spec"]["args"]] == ["baseline-hash", "candidate-hash", "namespace"]
    (metric,) = ab["spec"]["metrics"]
    # The experiment's pods: ReplicaSet `<rollout>-<hash>-<revision>-<step>-<template>-<hash>` (Argo Rollouts).
    mean = (
        'avg(demand_forecast_units_predicted{namespace="{{args.namespace}}",'
        'pod=~"demand-forecast-.*-%s-{{args.%s-hash}}-.*"})'
    )
    assert metric["provider"]["prometheus"]["query"] == (
        f"({mean % ('candidate', 'candidate')}) - ({mean % ('baseline', 'baseline')})"
    )
    assert metric["successCondition"] == "result[0] >= -2.0"  # at most 2 units below the serving version
    card = (root / "docs/models/demand-forecast.md").read_text("utf-8")
    assert (
        "A/B experiment first: the serving and the new version on 1 pod\\(s\\) each for 60 min, the new one's "
        "mean-forecast at most 2.0 below the serving one's or the rollout stops."
    ) in card


def test_an_experiment_on_a_metric_the_analysis_lacks_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit = ("metric: mean-forecast", "metric: mean-error")
    root = build(tmp_path, "demand-forecast", {"models/demand-forecast.yaml": [edit]})
    assert main(["check", str(root)]) == 1
    assert "experiment metric `mean-error` is not in `analysis.metrics` (`mean-forecast`)" in capsys.readouterr().out


def test_the_card_says_what_the_rollout_renders(tmp_path: Path) -> None:
    root = build(tmp_path, "demand-forecast")
    assert main(["build", str(root)]) == 0
    card = (root / "docs/models/demand-forecast.md").read_text("utf-8")
    assert (
        "Argo Rollouts canary: 25% of the pods for 10 min, then 50% of the pods for 10 min, then all; every 1 min "
        "the analysis measures error-rate \\(5xx share \\<= 0.01\\); latency \\(p99 latency \\<= 300 ms\\); "
        "mean-forecast \\(\\>= 0.0\\) on Prometheus"
    ) in card


def test_a_rollout_that_is_not_increasing_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = build(tmp_path, "demand-forecast", {"models/demand-forecast.yaml": [("- weight: 50", "- weight: 20")]})
    assert main(["check", str(root)]) == 1
    assert (
        "models/demand-forecast.yaml:68:9: error[CH208] rollout step weights must increase" in capsys.readouterr().out
    )


def test_a_query_on_two_lines_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = 'query: avg(demand_forecast_units_predicted{namespace="{{namespace}}",pod=~"{{pods}}"})'
    edit = (query, 'query: "avg(x)\\nsuccessCondition: true"')
    root = build(tmp_path, "demand-forecast", {"models/demand-forecast.yaml": [edit]})
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert "models/demand-forecast.yaml:82:22: error[CH205] `query` must be one line of printable text" in out, out
    assert "hint: no line break, tab or other control character" in out


def test_canary_and_rollout_together_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit = ("      rollout:", "      canary: {trafficPercent: 10}\n      rollout:")
    root = build(tmp_path, "demand-forecast", {"models/demand-forecast.yaml": [edit]})
    assert main(["check", str(root)]) == 1
    assert "choose `canary` (driven by the workflow) or `rollout` (Argo Rollouts), not both" in capsys.readouterr().out


def test_a_rollout_without_prometheus_is_ch460(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prometheus = "  prometheus: http://prometheus-operated.monitoring.svc:9090  # what the rollout analysis queries\n"
    root = build(tmp_path, "demand-forecast", {"environments/production.yaml": [(prometheus, "")]})
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert (
        "models/demand-forecast.yaml:67:7: error[CH460] the rollout's analysis queries Prometheus, "
        "but environment `production` names none"
    ) in out, out


def test_a_rollout_on_kserve_is_ch461(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = build(tmp_path, "credit-scoring", {"charter.yaml": [(CREDIT_PUSH, CREDIT_GITOPS)]})  # its rollout
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert "models/credit-default.yaml:94:7: error[CH461] in gitops mode a `rollout` is rendered as an Argo" in out


def test_a_kserve_canary_in_raw_deployment_mode_is_ch462(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = ("  approvals: 2\n", "  approvals: 2\n  kserve: {deploymentMode: RawDeployment}\n")
    root = build(tmp_path, "credit-scoring", {"environments/production.yaml": [raw]})
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert (
        "models/credit-default.yaml:94:7: error[CH462] environment `production` serves KServe in RawDeployment mode"
    ) in out, out


def test_kserve_states_its_mode_and_runs_without_a_token_where_the_environment_says(tmp_path: Path) -> None:
    placement = (
        "  approvals: 1                     # one reviewer from the owning team\n",
        "  approvals: 1\n"
        "  kserve: {deploymentMode: RawDeployment}\n"
        "  imagePullSecrets: [registry-credentials]\n"
        "  scheduling:\n"
        "    nodeSelector: {nvidia.com/gpu.present: 'true'}\n"
        "    tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]\n",
    )
    gpu = ('limits: {cpu: "1", memory: 2Gi}', 'limits: {cpu: "1", memory: 2Gi, gpu: 1}')
    root = build(
        tmp_path,
        "credit-scoring",
        {"environments/staging.yaml": [placement], "models/credit-default.yaml": [gpu]},
    )
    assert main(["build", str(root)]) == 0
    (service,) = strictly_valid(root / "deploy/staging/credit-default/inferenceservice.yaml")
    assert service["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "RawDeployment"
    predictor = service["spec"]["predictor"]
    assert predictor["automountServiceAccountToken"] is False
    assert predictor["serviceAccountName"] == "credit-risk-models"
    assert predictor["imagePullSecrets"] == [{"name": "registry-credentials"}]
    assert predictor["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert predictor["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert predictor["model"]["resources"]["limits"]["nvidia.com/gpu"] == "1"  # a quantity is a string
    (policy,) = strictly_valid(root / "deploy/staging/credit-default/networkpolicy.yaml")
    assert policy["spec"]["podSelector"] == {"matchLabels": {"serving.kserve.io/inferenceservice": "credit-default"}}
    assert policy["spec"]["ingress"] == [{"ports": [{"port": 8080, "protocol": "TCP"}]}]  # no queue-proxy in Raw
    (production,) = strictly_valid(root / "deploy/production/credit-default/inferenceservice.yaml")
    assert production["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Serverless"
    assert "imagePullSecrets" not in production["spec"]["predictor"]
    (serverless,) = strictly_valid(root / "deploy/production/credit-default/networkpolicy.yaml")
    ports = [port["port"] for port in serverless["spec"]["ingress"][0]["ports"]]
    assert ports == [8012, 8013, 8080, 9090, 9091]  # Knative's queue-proxy fronts a Serverless predictor


def test_every_served_model_gets_a_default_deny_network_policy(tmp_path: Path) -> None:
    root = build(tmp_path, "demand-forecast")
    assert main(["build", str(root)]) == 0
    for environment in ("staging", "production"):
        (policy,) = strictly_valid(root / f"deploy/{environment}/demand-forecast/networkpolicy.yaml")
        spec = policy["spec"]
        assert spec["podSelector"] == {"matchLabels": {"charter.dev/model": "demand-forecast"}}
        assert spec["policyTypes"] == ["Ingress", "Egress"]
        assert spec["ingress"] == [{"ports": [{"port": 8080, "protocol": "TCP"}]}]
        assert spec["egress"] == [
            {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
            {"ports": [{"port": 443, "protocol": "TCP"}]},
        ]


# --- the push job waits for Argo Rollouts' verdict ---------------------------------------

FAKE_KUBECTL = """\
#!/bin/sh
# Answers `kubectl get rollout` from files: the phase the controller reports after each poll.
case "$*" in
  apply*) exit 0 ;;
  *metadata.generation*) echo 2 ;;
  *status.observedGeneration*)
    n=$(cat "$STATE/polls"); echo $((n + 1)) > "$STATE/polls"
    [ "$n" -ge 1 ] && echo 2 || echo 1 ;;
  *status.phase*) if [ "$(cat "$STATE/polls")" -ge 3 ]; then cat "$STATE/final"; else echo Progressing; fi ;;
  *status.message*) echo "RolloutAborted: Metric \\"error-rate\\" assessed Failed" ;;
esac
"""


def run_wait(tmp_path: Path, final: str) -> subprocess.CompletedProcess[str]:
    root = build(tmp_path, "demand-forecast")
    assert main(["build", str(root)]) == 0
    jobs = YAML(typ="safe", pure=True).load((root / ".github/workflows/model-demand-forecast.yml").read_text("utf-8"))
    production = jobs["jobs"]["deploy-production"]
    assert production["timeout-minutes"] == 20 + 10 + 10  # the steps' pauses, then the usual margin
    (step,) = [s for s in production["steps"] if s.get("id") == "rollout"]
    assert step["name"] == "Roll out: Argo Rollouts steps and analyses"
    bin_dir, state = tmp_path / "bin", tmp_path / "state"
    bin_dir.mkdir()
    state.mkdir()
    (bin_dir / "kubectl").write_text(FAKE_KUBECTL, "utf-8")
    (bin_dir / "kubectl").chmod(0o755)
    (state / "polls").write_text("0", "utf-8")
    (state / "final").write_text(final, "utf-8")
    env = {**os.environ, **step["env"], "POLL_SECONDS": "0", "STATE": str(state)}
    env["PATH"] = f"{bin_dir}:{os.environ['PATH']}"
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]], check=False, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_push_job_succeeds_when_argo_rollouts_promotes(tmp_path: Path) -> None:
    done = run_wait(tmp_path, "Healthy")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Argo Rollouts promoted demand-forecast: every step's analysis passed."


def test_the_push_job_fails_when_the_analysis_aborts_the_rollout(tmp_path: Path) -> None:
    done = run_wait(tmp_path, "Degraded")
    assert done.returncode == 1
    assert done.stdout.strip() == (
        "::error title=charter rollout::demand-forecast aborted and rolled back by Argo Rollouts: "
        'RolloutAborted: Metric "error-rate" assessed Failed'
    )
