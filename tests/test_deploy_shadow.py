"""Issue 27: shadow traffic to a candidate version (mirroring), with its results recorded as evidence.

Before: a `rollout` had no `shadow`, the README said mirroring "is not rendered", and nothing recorded how a new
version answered live traffic. Now `rollout.shadow` renders Argo Rollouts' `setMirrorRoute` through Istio (the
Environment's `trafficRouter`), the AnalysisTemplate `<model>-shadow` judges the window in the cluster, and
`charter deploy shadow` measures the same queries on Prometheus (the stand-in of tests/test_deploy_analyze.py, a
real HTTP server on 127.0.0.1) for a report that `charter evidence record` files as evidence of the version.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from live_servers import free_port
from ruamel.yaml import YAML
from scripts_support import load_script
from test_deploy_analyze import Prometheus, prometheus

from compiler.commands.cli import main

__all__ = ["prometheus"]

ROOT = Path(__file__).resolve().parent.parent
oracles = load_script("oracles")
MODEL = "models/demand-forecast.yaml"
ENVIRONMENT = "environments/production.yaml"
SHADOW = """\
          tolerance: 2
        shadow:                    # 20% of the requests copied to the new version for 30 minutes
          percent: 20
          durationMinutes: 30
          compare:
            - {metric: mean-forecast, maxDifference: 1.5}
"""
CANARY_HASH, STABLE_HASH = "7d9f8c6b5", "5c4b3a2d1"
CANARY = f'namespace="demand-forecast",pod=~"demand-forecast-{CANARY_HASH}-.*"'
STABLE = f'namespace="demand-forecast",pod=~"demand-forecast-{STABLE_HASH}-.*"'
ERROR_RATE = (
    f'sum(rate(http_requests_total{{{CANARY},code=~"5.."}}[30m])) / sum(rate(http_requests_total{{{CANARY}}}[30m]))'
)
LATENCY = f"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{{CANARY}}}[30m])))"
DIFFERENCE = f"(avg(demand_forecast_units_predicted{{{CANARY}}})) - (avg(demand_forecast_units_predicted{{{STABLE}}}))"
PREFIX = "charter deploy shadow: "
IN_CLUSTER = "http://prometheus-operated.monitoring.svc:9090"


def _edit(root: Path, file: str, old: str, new: str) -> None:
    text = (root / file).read_text("utf-8")
    assert old in text, (file, old)
    (root / file).write_text(text.replace(old, new, 1), "utf-8")


def project(tmp_path: Path, address: str = IN_CLUSTER, router: bool = True) -> Path:
    """demand-forecast with a shadow window before its canary steps, production on Istio."""
    root = tmp_path / "demand-forecast"
    shutil.copytree(ROOT / "examples" / "demand-forecast", root)
    _edit(root, MODEL, "          tolerance: 2\n", SHADOW)
    prometheus_line = f"  prometheus: {IN_CLUSTER}"
    routed = "\n  trafficRouter: istio            # Argo Rollouts mirrors through Istio" if router else ""
    _edit(root, ENVIRONMENT, prometheus_line, f"  prometheus: {address}{routed}")
    return root


def _documents(path: Path) -> list[Any]:
    return list(YAML(typ="safe", pure=True).load_all(path.read_text("utf-8")))


def test_the_shadow_is_rendered_as_an_istio_mirror_before_the_canary_steps(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert main(["build", str(root)]) == 0
    manifests = root / "deploy/production/demand-forecast"
    rollout = _documents(manifests / "rollout.yaml")[0]
    canary = rollout["spec"]["strategy"]["canary"]
    assert {key: canary[key] for key in ("canaryService", "stableService", "trafficRouting")} == {
        "canaryService": "demand-forecast-canary",
        "stableService": "demand-forecast-stable",
        "trafficRouting": {
            "managedRoutes": [{"name": "mirror"}],
            "istio": {"virtualService": {"name": "demand-forecast", "routes": ["primary"]}},
        },
    }
    assert canary["analysis"]["startingStep"] == 7  # the first setWeight: after the experiment and the shadow
    hashes = [
        {"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}},
        {"name": "stable-hash", "valueFrom": {"podTemplateHashValue": "Stable"}},
        {"name": "namespace", "value": "demand-forecast"},
    ]
    assert canary["steps"][1:] == [
        {"setCanaryScale": {"weight": 20}},
        {"setMirrorRoute": {"name": "mirror", "percentage": 20, "match": [{"path": {"prefix": "/"}}]}},
        {"pause": {"duration": "30m"}},
        {"analysis": {"templates": [{"templateName": "demand-forecast-shadow"}], "args": hashes}},
        {"setMirrorRoute": {"name": "mirror"}},
        {"setCanaryScale": {"matchTrafficWeight": True}},
        {"setWeight": 25},
        {"pause": {"duration": "10m"}},
        {"setWeight": 50},
        {"pause": {"duration": "10m"}},
    ]
    # With a router an experiment's pods get only the requests routed to them: the share their pods had.
    assert [template["weight"] for template in canary["steps"][0]["experiment"]["templates"]] == [25, 25]
    shadow = _documents(manifests / "analysistemplate.yaml")[2]
    assert shadow["metadata"]["name"] == "demand-forecast-shadow"
    assert [arg["name"] for arg in shadow["spec"]["args"]] == ["canary-hash", "stable-hash", "namespace"]
    placed = {CANARY_HASH: "{{args.canary-hash}}", STABLE_HASH: "{{args.stable-hash}}"}
    placed['"demand-forecast"'] = '"{{args.namespace}}"'
    expected = []
    for name, query, condition in (
        ("error-rate", ERROR_RATE, "result[0] <= 0.01"),
        ("latency", LATENCY, "result[0] <= 0.3"),
        ("mean-forecast", DIFFERENCE, "result[0] >= -1.5 && result[0] <= 1.5"),
    ):
        templated = query
        for value, argument in placed.items():
            templated = templated.replace(value, argument)
        expected.append(
            {
                "name": name,
                "failureLimit": 0,  # one measurement, when the window ends: no interval
                "successCondition": condition,
                "provider": {"prometheus": {"address": IN_CLUSTER, "query": templated}},
            }
        )
    assert shadow["spec"]["metrics"] == expected
    routing = _documents(manifests / "trafficrouting.yaml")
    assert [(d["apiVersion"], d["kind"], d["metadata"]["name"]) for d in routing] == [
        ("networking.istio.io/v1", "VirtualService", "demand-forecast"),
        ("v1", "Service", "demand-forecast-stable"),
        ("v1", "Service", "demand-forecast-canary"),
    ]
    assert routing[0]["spec"] == {
        "hosts": ["demand-forecast"],
        "http": [
            {
                "name": "primary",
                "route": [
                    {"destination": {"host": "demand-forecast-stable", "port": {"number": 80}}, "weight": 100},
                    {"destination": {"host": "demand-forecast-canary", "port": {"number": 80}}, "weight": 0},
                ],
            }
        ],
    }
    assert oracles.argo_rollouts_missing() is None
    assert oracles.kubernetes_validate_missing() is None
    for file in ("rollout.yaml", "analysistemplate.yaml", "trafficrouting.yaml"):
        for document in _documents(manifests / file):
            assert oracles.manifest_errors(document, file) == [], (file, document["kind"])
    strayed = {**routing[0], "spec": {**routing[0]["spec"], "mirrorPercent": 20}}
    assert [finding.message for finding in oracles.manifest_errors(strayed, "trafficrouting.yaml")] == [
        "spec: Additional properties are not allowed ('mirrorPercent' was unexpected)"
    ]
    card = (root / "docs/models/demand-forecast.md").read_text("utf-8")
    assert (
        "Shadow traffic next: 20% of live requests mirrored to the new version for 30 min (its answers dropped), its "
        "error rate and latency held to the analysis' bounds; mean-forecast within ±1.5 of the serving one's, or "
        "the rollout stops. Argo Rollouts canary: 25% of the traffic for 10 min, then 50% of the traffic for 10 min"
    ) in " ".join(card.replace("\\(", "(").replace("\\)", ")").split())


def _line_of(root: Path, file: str, text: str) -> int:
    return next(n for n, line in enumerate((root / file).read_text("utf-8").splitlines(), 1) if text in line)


def test_a_shadow_without_a_traffic_router_is_refused_where_it_is_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path, router=False)
    assert main(["check", str(root)]) == 1
    line = _line_of(root, MODEL, "shadow:")
    assert (
        f"{MODEL}:{line}:9: error[CH456] shadow traffic is mirrored by a traffic router, but environment "
        "`production` names none"
    ) in capsys.readouterr().out


def test_kserve_cannot_mirror(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "credit-scoring"
    shutil.copytree(ROOT / "examples" / "credit-scoring", root)
    model = "models/credit-default.yaml"
    # credit-scoring already rolls out in push mode with analysis on its Prometheus: add a shadow and a router.
    _edit(root, model, "      rollout:\n", "      rollout:\n        shadow: {percent: 10, durationMinutes: 20}\n")
    _edit(root, ENVIRONMENT, "  approvals: 2\n", "  approvals: 2\n  trafficRouter: istio\n")
    assert main(["check", str(root)]) == 1
    line = _line_of(root, model, "shadow:")
    assert (
        f"{model}:{line}:9: error[CH457] KServe cannot mirror traffic: its InferenceService splits requests between "
        "revisions (canaryTrafficPercent) but sends none to two at once"
    ) in capsys.readouterr().out


@pytest.mark.parametrize("percent", ["0", "101"])
def test_a_shadow_percent_out_of_range_is_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], percent: str
) -> None:
    root = project(tmp_path)
    _edit(root, MODEL, "          percent: 20\n", f"          percent: {percent}\n")
    assert main(["check", str(root)]) == 1
    line = _line_of(root, MODEL, f"percent: {percent}")
    bound = "greater than or equal to 1" if percent == "0" else "less than or equal to 100"
    out = capsys.readouterr().out
    assert f"{MODEL}:{line}:20: error[" in out, out
    assert bound in out, out


def test_a_shadow_compares_only_metrics_the_analysis_defines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path)
    _edit(root, MODEL, "{metric: mean-forecast, maxDifference: 1.5}", "{metric: agreement, maxDifference: 1.5}")
    assert main(["check", str(root)]) == 1
    assert "shadow metric `agreement` is not in `analysis.metrics` (`mean-forecast`)" in capsys.readouterr().out


# --- the shadow window's results, measured and recorded ------------------------------


def shadow(root: Path, report: Path, *hashes: str) -> int:
    canary, stable = hashes or (CANARY_HASH, STABLE_HASH)
    argv = ["deploy", "shadow", str(root), "--model", "demand-forecast", "--environment", "production"]
    return main([*argv, f"--canary-hash={canary}", f"--stable-hash={stable}", "--report", str(report)])


@pytest.fixture
def stand_in(prometheus: Prometheus) -> Prometheus:
    prometheus.answers = {ERROR_RATE: "0.002", LATENCY: "0.12", DIFFERENCE: "-0.4"}
    return prometheus


def _checks(report: Path) -> list[tuple[str, str, str, object]]:
    data = json.loads(report.read_text("utf-8"))
    return [(c["code"], c["id"], c["status"], c.get("value")) for c in data["checks"]]


def _record(root: Path, report: Path) -> dict[str, Any]:
    assert main(["evidence", "record", "--project", str(root), str(report)]) == 0
    record = root / "evidence" / "demand-forecast" / "1.4.0" / "shadow.json"
    return dict(json.loads(record.read_text("utf-8")))


def test_a_shadow_within_its_bounds_passes_and_is_recorded_as_evidence(
    tmp_path: Path, stand_in: Prometheus, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path, stand_in.address)
    report = tmp_path / "shadow.json"
    assert shadow(root, report) == 0
    assert stand_in.asked == [ERROR_RATE, LATENCY, DIFFERENCE]  # the AnalysisTemplate's queries, placed
    assert _checks(report) == [
        ("CH780", "error-rate", "pass", 0.002),
        ("CH780", "latency", "pass", 0.12),
        ("CH780", "mean-forecast", "pass", -0.4),
    ]
    capsys.readouterr()
    record = _record(root, report)
    assert (record["gate"], record["verdict"], record["model"], record["version"]) == (
        "shadow",
        "pass",
        "demand-forecast",
        "1.4.0",
    )
    assert record["subject"] == {
        "model": "demand-forecast",
        "environment": "production",
        "percent": 20,
        "durationMinutes": 30,
        "candidate": CANARY_HASH,
        "stable": STABLE_HASH,
    }
    [measured_input] = record["inputs"]
    assert measured_input["path"] == stand_in.address
    assert measured_input["window"] == "30m"
    assert measured_input["digest"].startswith("sha256:")
    # The record is evidence like the gates': `charter check` reads it back and finds nothing wrong with it, and
    # the model card lists it.
    assert main(["check", str(root)]) == 0, capsys.readouterr().out
    assert main(["build", str(root)]) == 0
    card = (root / "docs/models/demand-forecast.md").read_text("utf-8")
    commit = record.get("commit", "")[:12] or "not recorded"  # the copy of the example is in no repository
    assert (
        f"- shadow gate: **pass** at commit `{commit}` on `{stand_in.address}` (live requests mirrored over 30m)."
    ) in card


def test_a_candidate_answering_unlike_the_stable_version_fails_and_is_recorded(
    tmp_path: Path, stand_in: Prometheus, capsys: pytest.CaptureFixture[str]
) -> None:
    stand_in.answers[DIFFERENCE] = "2.5"
    root = project(tmp_path, stand_in.address)
    report = tmp_path / "shadow.json"
    assert shadow(root, report) == 1
    data = json.loads(report.read_text("utf-8"))
    assert data["verdict"] == "fail"
    failed = [c for c in data["checks"] if c["status"] == "fail"]
    assert failed == [
        {
            "id": "mean-forecast",
            "code": "CH780",
            "title": "mean-forecast: candidate minus stable",
            "status": "fail",
            "value": 2.5,
            "expected": "candidate minus stable within ±1.5",
            "message": "mean-forecast measured 2.5, above the bound 1.5",
            "details": {"min": -1.5, "max": 1.5},
        }
    ]
    capsys.readouterr()
    assert _record(root, report)["verdict"] == "fail"


def test_a_shadow_record_edited_to_pass_is_not_evidence(
    tmp_path: Path, stand_in: Prometheus, capsys: pytest.CaptureFixture[str]
) -> None:
    """`charter check` judges each recorded value again against the bounds recorded beside it."""
    stand_in.answers[DIFFERENCE] = "2.5"
    root = project(tmp_path, stand_in.address)
    report = tmp_path / "shadow.json"
    assert shadow(root, report) == 1
    _record(root, report)
    filed = root / "evidence" / "demand-forecast" / "1.4.0" / "shadow.json"
    record = json.loads(filed.read_text("utf-8"))
    index = next(n for n, c in enumerate(record["checks"]) if c["id"] == "mean-forecast")
    record["checks"][index]["status"] = "pass"
    record["verdict"], record["summary"] = "pass", {"pass": 3}
    filed.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", "utf-8")
    capsys.readouterr()
    assert main(["check", str(root)]) == 1
    lines = filed.read_text("utf-8").splitlines()
    named = next(n for n, text in enumerate(lines) if '"id": "mean-forecast"' in text)
    line = next(n for n, text in enumerate(lines[named:], named + 1) if '"status": "pass"' in text)
    out = capsys.readouterr().out
    assert (
        f"evidence/demand-forecast/1.4.0/shadow.json:{line}:17: error[CH820] mean-forecast = 2.5 under the bound "
        ">= -1.5 and <= 1.5 is `fail`, but the record says `pass`"
    ) in out, out


@pytest.mark.parametrize(
    ("answer", "measured"), [("NaN", "NaN (no mirrored request in the window?)"), ("-Inf", "-inf")]
)
def test_a_value_that_is_no_number_is_beyond_every_bound(
    tmp_path: Path, stand_in: Prometheus, answer: str, measured: str
) -> None:
    stand_in.answers[ERROR_RATE] = answer  # 0/0: no request; -Inf: nothing a 5xx share can be
    root = project(tmp_path, stand_in.address)
    report = tmp_path / "shadow.json"
    assert shadow(root, report) == 1
    [failed] = [c for c in json.loads(report.read_text("utf-8"))["checks"] if c["status"] == "fail"]
    assert (failed["code"], failed["value"], failed["message"]) == (
        "CH780",
        None,
        f"error-rate measured {measured}, beyond 5xx share <= 0.01",
    )


def test_bounds_come_from_the_spec_not_the_command_line(tmp_path: Path, stand_in: Prometheus) -> None:
    """The command takes no bound: the spec's maxDifference decides, however the candidate measured."""
    stand_in.answers[DIFFERENCE] = "-1.6"
    root = project(tmp_path, stand_in.address)
    assert shadow(root, tmp_path / "shadow.json") == 1
    _edit(root, MODEL, "maxDifference: 1.5", "maxDifference: 2")
    assert shadow(root, tmp_path / "again.json") == 0


def test_an_unreachable_prometheus_is_no_verdict_and_fails_closed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = f"http://127.0.0.1:{free_port()}"  # a port nothing listens on
    root = project(tmp_path, address)
    report = tmp_path / "shadow.json"
    assert shadow(root, report) == 1
    data = json.loads(report.read_text("utf-8"))
    assert data["verdict"] == "no-verdict"
    assert {(c["code"], c["status"]) for c in data["checks"]} == {("CH781", "no-verdict")}
    first = next(c for c in data["checks"] if c["id"] == "error-rate")
    assert first["message"].startswith(
        f"error-rate not measured, which fails the shadow window: Prometheus at {address} could not be reached: "
    )
    capsys.readouterr()
    assert _record(root, report)["verdict"] == "no-verdict"


def test_a_query_without_series_is_no_verdict(tmp_path: Path, stand_in: Prometheus) -> None:
    stand_in.answers[DIFFERENCE] = None  # no mirrored request reached the candidate
    root = project(tmp_path, stand_in.address)
    report = tmp_path / "shadow.json"
    assert shadow(root, report) == 1
    [unmeasured] = [c for c in json.loads(report.read_text("utf-8"))["checks"] if c["status"] == "no-verdict"]
    assert (unmeasured["code"], unmeasured["message"]) == (
        "CH781",
        "mean-forecast not measured, which fails the shadow window: the query returned no sample (no series "
        "matched: is the canary serving?)",
    )


@pytest.mark.parametrize(
    ("hashes", "message"),
    [
        (
            ('x"}) or vector(0) #', STABLE_HASH),
            'CH782 `x"}) or vector(0) #` is not a pod-template hash of the candidate ReplicaSet (lowercase letters '
            "and digits)",
        ),
        (
            (CANARY_HASH, "-rf"),
            "CH782 `-rf` is not a pod-template hash of the stable ReplicaSet (lowercase letters and digits)",
        ),
    ],
)
def test_what_the_specs_do_not_hold_is_refused_before_any_query(
    tmp_path: Path, stand_in: Prometheus, capsys: pytest.CaptureFixture[str], hashes: tuple[str, str], message: str
) -> None:
    root = project(tmp_path, stand_in.address)
    report = tmp_path / "shadow.json"
    assert shadow(root, report, *hashes) == 2
    assert capsys.readouterr().err == f"{PREFIX}{message}\n"
    assert stand_in.asked == []
    assert json.loads(report.read_text("utf-8"))["verdict"] == "error"


def test_a_deployment_without_a_shadow_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "demand-forecast"
    shutil.copytree(ROOT / "examples" / "demand-forecast", root)
    assert shadow(root, tmp_path / "shadow.json") == 2
    assert capsys.readouterr().err == (
        f"{PREFIX}CH782 Model `demand-forecast` has no `rollout.shadow` in its deployment to `production`\n"
    )


# --- the generated workflow: the shadow window measured after it, recorded and proposed ----------


def test_the_push_job_measures_the_shadow_window_and_its_report_is_recorded_and_proposed(tmp_path: Path) -> None:
    root = project(tmp_path)
    _edit(root, "charter.yaml", "  deployment:\n", "  evidence:\n    propose: pull-request\n  deployment:\n")
    assert main(["build", str(root)]) == 0
    workflow = root / ".github/workflows/model-demand-forecast.yml"
    jobs = YAML(typ="safe", pure=True).load(workflow.read_text("utf-8"))["jobs"]
    production = jobs["deploy-production"]
    assert production["outputs"] == {"shadow-digest": "${{ steps.shadow-report.outputs.artifact-digest }}"}
    assert production["timeout-minutes"] == 20 + 30 + 10 + 10  # the window and the pauses are waiting
    names = [step.get("name") for step in production["steps"]][6:]
    assert names == [
        "Shadow: 20% of the requests mirrored for 30 min, then measured for evidence",
        "The shadow window's report",
        "Roll out: Argo Rollouts steps and analyses",
        "The version registered in MLflow with its evidence, and this environment's alias on it",
    ]
    measure, upload = production["steps"][6:8]
    assert measure["env"] == {
        "KUBECONFIG": "${{ runner.temp }}/kubeconfig",
        "NAMESPACE": "demand-forecast",
        "NAME": "demand-forecast",
        "ENVIRONMENT": "production",
        "JUDGED_AT": "5",  # after the experiment (0) and the shadow's scale, mirror, pause and analysis (1-4)
        "POLL_SECONDS": "20",
        "MANIFESTS": "deploy/production/demand-forecast",
    }
    # The hashes come from the Rollout's status; the queries and bounds from the specs in the checkout.
    assert measure["run"].splitlines()[-2:] == [
        'charter deploy shadow . --model "$NAME" --environment "$ENVIRONMENT" \\',
        '  --canary-hash "$candidate" --stable-hash "$stable" --report shadow-report.json',
    ]
    assert upload["if"] == (
        "${{ !cancelled() && steps.shadow.outcome != 'skipped' && hashFiles('shadow-report.json') != '' }}"
    )
    assert upload["with"] == {"name": "shadow-production", "path": "shadow-report.json"}
    evidence = jobs["shadow-evidence-production"]
    assert evidence["needs"] == ["deploy-production"]
    assert evidence["if"] == "${{ !cancelled() && needs.deploy-production.outputs.shadow-digest != '' }}"
    assert evidence["environment"] == "charter-evidence"
    steps = {step.get("name"): step for step in evidence["steps"]}
    record = steps["Record the shadow window's report under evidence/"]
    assert record["run"] == (
        'charter evidence record shadow-report.json --artifact "$ARTIFACT" --artifact-digest "$DIGEST"'
    )
    assert record["env"] == {
        "ARTIFACT": "shadow-production",
        "DIGEST": "${{ needs.deploy-production.outputs.shadow-digest }}",
    }
    propose = steps["Propose the records in a pull request of their own"]
    assert 'branch="charter/evidence/$MODEL/$RUN_ID-shadow-$ENVIRONMENT"' in propose["run"]
    assert propose["env"]["ENVIRONMENT"] == "production"
    assert "deploy-staging" in jobs  # staging has no shadow: no evidence job of its own
    assert "shadow-evidence-staging" not in jobs
    for tool in (oracles.actionlint_missing(), oracles.zizmor_missing(), oracles.check_jsonschema_missing()):
        assert tool is None, tool
    assert oracles.check_build(root) == []


def test_in_gitops_mode_the_shadow_is_judged_in_the_cluster_and_says_it_is_not_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path)
    _edit(root, "charter.yaml", "    mode: push ", "    mode: gitops ")
    _edit(root, "charter.yaml", "  deployment:\n", "  deployment:\n    repoUrl: https://github.com/acme/retail.git\n")
    assert main(["check", str(root)]) == 0
    line = _line_of(root, MODEL, "shadow:")
    assert (
        f"{MODEL}:{line}:9: info[CH458] in gitops mode the shadow window is judged in the cluster, but its results "
        "are not recorded as evidence"
    ) in capsys.readouterr().out
    assert main(["build", str(root)]) == 0
    workflow = (root / ".github/workflows/model-demand-forecast.yml").read_text("utf-8")
    assert "charter deploy shadow" not in workflow
    assert "shadow-evidence-" not in workflow


def test_editors_complete_the_shadow_and_the_traffic_router_from_the_models() -> None:
    from compiler.lsp.fields import field_at, fields_of, shape_at

    rollout = [field.name for field in fields_of(shape_at("Model", ["spec", "deployments", 0, "rollout"]))]
    assert rollout == ["experiment", "shadow", "steps", "analysis"]
    shadow = fields_of(shape_at("Model", ["spec", "deployments", 0, "rollout", "shadow"]))
    assert [(field.name, field.required) for field in shadow] == [
        ("percent", True),
        ("durationMinutes", False),
        ("compare", False),
    ]
    router = field_at("Environment", ["spec", "trafficRouter"])
    assert router is not None
    assert router.values == ("istio",)
    assert router.doc.startswith("The traffic router Argo Rollouts drives here: `istio`")


_KUBECTL = """#!/bin/sh
# Answers for the Argo Rollouts controller: the Rollout's status fields, from the test's environment.
case "$*" in
  apply*) echo "applied $*" ;;
  *metadata.generation*) printf '%s' "$K_GENERATION" ;;
  *observedGeneration*) printf '%s' "$K_GENERATION" ;;
  *status.phase*) printf '%s' "$K_PHASE" ;;
  *currentStepIndex*) printf '%s' "$K_STEP" ;;
  *currentPodHash*) printf '%s' "$K_CANDIDATE" ;;
  *stableRS*) printf '%s' "$K_STABLE" ;;
  *) echo "unexpected kubectl $*" >&2; exit 3 ;;
esac
"""
_CHARTER = """#!/bin/sh
printf '%s\\n' "$@" > "$CHARTER_ARGS"
"""


@pytest.mark.parametrize(
    ("phase", "step", "stable", "measured"),
    [
        ("Paused", "5", STABLE_HASH, True),  # the window was judged: the mirror is being removed
        ("Degraded", "4", STABLE_HASH, True),  # the window's analysis aborted the rollout: a failure is evidence
        ("Degraded", "0", STABLE_HASH, False),  # the experiment failed first: no window was judged
        ("Healthy", "10", CANARY_HASH, False),  # the first version: no stable one beside it, nothing mirrored
    ],
)
def test_the_shadow_step_measures_only_a_window_argo_rollouts_judged(
    tmp_path: Path, phase: str, step: str, stable: str, measured: bool
) -> None:
    """The generated script itself, run by bash as GitHub runs it, with kubectl answering as the controller."""
    root = project(tmp_path)
    assert main(["build", str(root)]) == 0
    workflow = root / ".github/workflows/model-demand-forecast.yml"
    steps = YAML(typ="safe", pure=True).load(workflow.read_text("utf-8"))["jobs"]["deploy-production"]["steps"]
    measure = next(s for s in steps if s.get("id") == "shadow")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("kubectl", _KUBECTL), ("charter", _CHARTER)):
        (bin_dir / name).write_text(text, "utf-8")
        (bin_dir / name).chmod(0o755)
    arguments = tmp_path / "charter-args"
    env = {
        **{key: value for key, value in measure["env"].items() if not value.startswith("${{")},
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "CHARTER_ARGS": str(arguments),
        **{"K_GENERATION": "3", "K_PHASE": phase, "K_STEP": step, "K_CANDIDATE": CANARY_HASH, "K_STABLE": stable},
    }
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", measure["run"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    if measured:
        assert arguments.read_text("utf-8").splitlines() == [
            "deploy",
            "shadow",
            ".",
            "--model",
            "demand-forecast",
            "--environment",
            "production",
            "--canary-hash",
            CANARY_HASH,
            "--stable-hash",
            STABLE_HASH,
            "--report",
            "shadow-report.json",
        ]
    else:
        assert not arguments.exists()
        assert "nothing to record" in done.stdout
