"""Issue 27: a push-mode KServe canary with a `rollout` is judged on Prometheus by `charter deploy analyze`.

Before: CH461 refused every `rollout` on KServe, and the push-mode job judged a KServe canary on readiness alone.
Now the deploy job moves canaryTrafficPercent step by step and, after each pause, the command queries the
Environment's Prometheus (a real HTTP server on 127.0.0.1 answering `/api/v1/query` as Prometheus documents it)
with the same PromQL as Argo's AnalysisTemplate; a metric beyond its bound, or not measured, fails the step.
"""

from __future__ import annotations

import json
import shutil
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from live_servers import free_port
from ruamel.yaml import YAML
from scripts_support import CREDIT_GITOPS, CREDIT_PROMETHEUS, CREDIT_PUSH, CREDIT_ROLLOUT, edit_files, load_script

from compiler.commands.cli import main

ROOT = Path(__file__).resolve().parent.parent
MODEL = "models/credit-default.yaml"
oracles = load_script("oracles")
ROLLOUT = (
    "      rollout:\n"
    "        steps: [{weight: 10, pauseMinutes: 5}, {weight: 50, pauseMinutes: 10}]\n"
    "        analysis:\n"
    "          maxErrorRate: 0.01\n"
    "          maxLatencyMs: 300\n"
    "          metrics:\n"
    "            - name: confidence\n"
    '              query: \'avg(model_prediction_confidence{namespace="{{namespace}}",pod=~"{{pods}}"})\'\n'
    "              min: 0.6\n"
)
PODS = 'namespace="credit-risk",pod=~"credit-default-predictor-00002-deployment-.*"'
ERROR_RATE = f'sum(rate(http_requests_total{{{PODS},code=~"5.."}}[2m])) / sum(rate(http_requests_total{{{PODS}}}[2m]))'
LATENCY = f"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{{PODS}}}[2m])))"
CONFIDENCE = f"avg(model_prediction_confidence{{{PODS}}})"
AT_STEP_2 = "credit-default in production at step 2 (50%)"


class Prometheus(ThreadingHTTPServer):
    """Prometheus' instant query API: `answers` maps a PromQL query to its sample (None: no series)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers: dict[str, str | None] = {}
        self.asked: list[str] = []

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Prometheus

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query).get("query", [""])[0]
        self.server.asked.append(query)
        if url.path != "/api/v1/query" or query not in self.server.answers:
            body = {"status": "error", "errorType": "bad_data", "error": f"unknown query {query!r}"}
            return self._send(400, body)
        value = self.server.answers[query]
        result = [] if value is None else [{"metric": {}, "value": [1765100000.0, value]}]
        self._send(200, {"status": "success", "data": {"resultType": "vector", "result": result}})

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def prometheus() -> Iterator[Prometheus]:
    server = Prometheus()
    server.answers = {ERROR_RATE: "0.002", LATENCY: "0.12", CONFIDENCE: "0.81"}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def project(tmp_path: Path, address: str, mode: str = "push") -> Path:
    """credit-scoring deployed in `mode`, production's rollout (with an online metric) decided on `address`."""
    root = tmp_path / "credit-scoring"
    shutil.copytree(ROOT / "examples" / "credit-scoring", root)
    edit_files(
        root,
        {
            MODEL: [(CREDIT_ROLLOUT, ROLLOUT)],
            "charter.yaml": [(CREDIT_PUSH, CREDIT_PUSH if mode == "push" else CREDIT_GITOPS)],
            "environments/production.yaml": [(CREDIT_PROMETHEUS, f"  prometheus: {address}\n")],
        },
    )
    return root


def analyze(root: Path, step: str = "1", revision: str = "credit-default-predictor-00002") -> int:
    return main(
        [
            "deploy",
            "analyze",
            str(root),
            "--model",
            "credit-default",
            "--environment",
            "production",
            "--step",
            step,
            "--revision",
            revision,
        ]
    )


def test_a_canary_within_every_bound_passes_on_the_queries_argo_would_run(
    tmp_path: Path, prometheus: Prometheus, capsys: pytest.CaptureFixture[str]
) -> None:
    assert analyze(project(tmp_path, prometheus.address)) == 0
    assert prometheus.asked == [ERROR_RATE, LATENCY, CONFIDENCE]
    assert capsys.readouterr().out.splitlines() == [
        "charter deploy analyze: error-rate of credit-default in production within 5xx share <= 0.01",
        "charter deploy analyze: latency of credit-default in production within p99 latency <= 300 ms",
        "charter deploy analyze: confidence of credit-default in production within >= 0.6",
        "charter deploy analyze: step 1 of credit-default in production passed its analysis",
    ]


@pytest.mark.parametrize(
    ("query", "value", "message"),
    [
        (
            ERROR_RATE,
            "0.2",
            "CH770 error-rate of credit-default in production at step 2 (50%) measured 0.2, above the bound 0.01",
        ),
        (
            LATENCY,
            "0.45",
            "CH770 latency of credit-default in production at step 2 (50%) measured 0.45, above the bound 0.3",
        ),
        (
            CONFIDENCE,
            "0.41",
            "CH770 confidence of credit-default in production at step 2 (50%) measured 0.41, below the bound 0.6",
        ),
        (
            ERROR_RATE,
            "NaN",
            "CH770 error-rate of credit-default in production at step 2 (50%) measured NaN (no requests in the "
            "window?), beyond 5xx share <= 0.01",
        ),
        (
            CONFIDENCE,
            None,
            "CH771 confidence of credit-default in production at step 2 (50%) not measured, which fails the step: "
            "the query returned no sample (no series matched: is the canary serving?)",
        ),
    ],
)
def test_a_metric_beyond_its_bound_or_unmeasured_fails_the_step(
    tmp_path: Path,
    prometheus: Prometheus,
    capsys: pytest.CaptureFixture[str],
    query: str,
    value: str | None,
    message: str,
) -> None:
    prometheus.answers[query] = value
    assert analyze(project(tmp_path, prometheus.address), step="2") == 1
    assert capsys.readouterr().err.splitlines() == [
        f"charter deploy analyze: {message}",
        "charter deploy analyze: step 2 of credit-default in production failed: roll back",
    ]


def test_an_unreachable_prometheus_is_no_verdict_and_fails_closed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = f"http://127.0.0.1:{free_port()}"  # a port nothing listens on
    assert analyze(project(tmp_path, address)) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 4
    assert err[0].startswith(
        "charter deploy analyze: CH771 error-rate of credit-default in production at step 1 (10%) not measured, "
        f"which fails the step: Prometheus at {address} could not be reached: "
    ), err[0]
    assert err[-1] == "charter deploy analyze: step 1 of credit-default in production failed: roll back"


def test_a_prometheus_error_answer_is_no_verdict(
    tmp_path: Path, prometheus: Prometheus, capsys: pytest.CaptureFixture[str]
) -> None:
    del prometheus.answers[LATENCY]
    assert analyze(project(tmp_path, prometheus.address)) == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        "charter deploy analyze: CH771 latency of credit-default in production at step 1 (10%) not measured, "
        f"which fails the step: Prometheus at {prometheus.address} answered HTTP 400: unknown query {LATENCY!r}"
    )


def test_a_model_argo_rollouts_analyses_is_not_analysed_by_the_job(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """demand-forecast serves with runtime `kubernetes`: its rollout is an Argo Rollouts Rollout."""
    root = tmp_path / "demand-forecast"
    shutil.copytree(ROOT / "examples" / "demand-forecast", root)
    argv = ["deploy", "analyze", str(root), "--model", "demand-forecast", "--environment", "production"]
    assert main([*argv, "--step", "1", "--revision", "demand-forecast-predictor-00002"]) == 2
    assert capsys.readouterr().err == (
        "charter deploy analyze: CH772 Model `demand-forecast` is not served by KServe: Argo Rollouts runs its "
        "analysis in the cluster\n"
    )


@pytest.mark.parametrize(
    ("step", "revision", "message"),
    [
        ("3", "credit-default-predictor-00002", "the rollout of `credit-default` has steps 1 to 2, not 3"),
        (
            "1",
            'x"}) or vector(0) #',
            '`x"}) or vector(0) #` is not a KServe revision of `credit-default` (`credit-default-predictor-<n>`)',
        ),
    ],
)
def test_what_the_specs_do_not_hold_is_refused_before_any_query(
    tmp_path: Path, prometheus: Prometheus, capsys: pytest.CaptureFixture[str], step: str, revision: str, message: str
) -> None:
    assert analyze(project(tmp_path, prometheus.address), step, revision) == 2
    assert capsys.readouterr().err == f"charter deploy analyze: CH772 {message}\n"
    assert prometheus.asked == []


def test_a_kserve_rollout_is_carried_out_in_push_mode_and_refused_in_gitops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = "http://prometheus-operated.monitoring.svc:9090"
    assert main(["check", str(project(tmp_path / "push", address))]) == 0
    capsys.readouterr()
    assert main(["check", str(project(tmp_path / "gitops", address, mode="gitops"))]) == 1
    assert (
        "models/credit-default.yaml:90:7: error[CH461] in gitops mode a `rollout` is rendered as an Argo Rollouts "
        "Rollout, which cannot manage a KServe InferenceService"
    ) in capsys.readouterr().out


def test_the_push_job_steps_the_kserve_canary_and_analyses_each_step(tmp_path: Path) -> None:
    """The rendered deploy job: one step per rollout step (its own canary manifest, its pause, then the
    analysis), the full rollout, and KServe's rollback on any failure; every manifest valid for KServe."""
    root = project(tmp_path, "http://prometheus-operated.monitoring.svc:9090")
    assert main(["build", str(root)]) == 0
    workflow = root / ".github/workflows/model-credit-default.yml"
    production = YAML(typ="safe", pure=True).load(workflow.read_text("utf-8"))["jobs"]["deploy-production"]
    steps = {step.get("name"): step for step in production["steps"]}
    assert [step.get("name") for step in production["steps"]][3:] == [
        "Evidence of this version",
        "Approvals of this environment, as GitHub enforces them",
        "Cluster credentials of the environment",
        "Canary step 1: 10% of traffic for 5 min, then the analysis",
        "Canary step 2: 50% of traffic for 10 min, then the analysis",
        "Roll out",
        "Roll back",
        "The version registered in MLflow with its evidence, and this environment's alias on it",  # issue 28
    ]
    first, second = (
        steps["Canary step 1: 10% of traffic for 5 min, then the analysis"],
        steps["Canary step 2: 50% of traffic for 10 min, then the analysis"],
    )
    target = {"KUBECONFIG": "${{ runner.temp }}/kubeconfig", "NAMESPACE": "credit-risk", "NAME": "credit-default"}
    assert first["id"] == "canary"
    assert first["env"] == {
        **target,
        "ENVIRONMENT": "production",
        "STEP": "1",
        "PAUSE_SECONDS": "300",
        "MANIFESTS": "deploy/production/credit-default/canary/",
    }
    assert second["env"]["MANIFESTS"] == "deploy/production/credit-default/canary-step-2/"
    assert (second["env"]["STEP"], second["env"]["PAUSE_SECONDS"]) == ("2", "600")
    analyze_line = (
        'charter deploy analyze . --model "$NAME" --environment "$ENVIRONMENT" --step "$STEP" --revision "$created"'
    )
    for step in (first, second):  # PromQL and bounds are read from the specs, never passed through the shell
        assert step["run"].splitlines()[-1] == analyze_line
        assert 'sleep "$PAUSE_SECONDS"' in step["run"]
        assert "latestReadyRevision" in step["run"]
    assert steps["Roll back"]["if"] == "${{ failure() && steps.canary.outcome != 'skipped' }}"
    assert 'canaryTrafficPercent":0' in steps["Roll back"]["run"]
    assert steps["Roll out"]["env"] == {**target, "MANIFESTS": "deploy/production/credit-default"}
    assert production["timeout-minutes"] == 30 + 15  # the pauses are waiting, not work
    assert oracles.kserve_missing() is None
    manifests = root / "deploy/production/credit-default"
    percents = {}
    for folder in ("canary", "canary-step-2", "."):
        service = YAML(typ="safe", pure=True).load((manifests / folder / "inferenceservice.yaml").read_text("utf-8"))
        assert not oracles.kserve_errors(service, "inferenceservice.yaml")
        percents[folder] = service["spec"]["predictor"].get("canaryTrafficPercent")
    assert percents == {"canary": 10, "canary-step-2": 50, ".": None}
    card = (root / "docs/models/credit-default.md").read_text("utf-8")
    assert (
        "KServe canary driven by the deploy job: 10% of the traffic for 5 min, then 50% of the traffic for 10 min, "
        "then all; after each step the job measures error-rate"
    ) in card
