"""The example repositories are the documentation users copy: they must check clean.

Each example is checked twice, through the pipeline and through the command
line, and the facts the README promises are checked against the specs
themselves (PII and protected columns tagged, never used as features).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from checkout import copy_project

from compiler.commands.cli import main
from compiler.core.contracts import Contract
from compiler.core.diagnostics import Diagnostic, Severity
from compiler.core.models import Model
from compiler.core.models.suite import EvaluationSuite
from compiler.stages import Checked, check_path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CREDIT = EXAMPLES / "credit-scoring"
DEMAND = EXAMPLES / "demand-forecast"
ALL = [CREDIT, DEMAND]
IDS = [path.name for path in ALL]


def blocking(result: Checked) -> list[Diagnostic]:
    """Errors and warnings that no waiver covers."""
    return [d for d in result.diagnostics if d.severity is not Severity.INFO and not d.suppressed]


def show(diagnostics: list[Diagnostic]) -> str:
    return "\n".join(f"{d.file}:{d.line}:{d.column} {d.severity.value} {d.code} {d.message}" for d in diagnostics)


def contract(result: Checked, contract_id: str) -> Contract:
    found = [spec.contract for spec in result.specs if spec.contract is not None and spec.contract.id == contract_id]
    assert len(found) == 1, f"contract `{contract_id}` not found once"
    return found[0]


def model(result: Checked, name: str) -> Model:
    found = [spec.model for spec in result.specs if isinstance(spec.model, Model) and spec.name == name]
    assert len(found) == 1, f"model `{name}` not found once"
    return found[0]


@pytest.fixture(scope="module")
def credit() -> Checked:
    return check_path(CREDIT)


@pytest.fixture(scope="module")
def demand() -> Checked:
    return check_path(DEMAND)


# --- every example checks clean ---------------------------------------------


@pytest.mark.parametrize("example", ALL, ids=IDS)
def test_example_checks_clean_through_the_pipeline(example: Path) -> None:
    result = check_path(example)
    assert result.project is not None, "the example needs a valid charter.yaml"
    assert not blocking(result), show(blocking(result))
    assert result.files >= 6
    assert len(result.specs) == result.files, "every YAML file holds exactly one valid spec"


@pytest.mark.parametrize("example", ALL, ids=IDS)
def test_example_checks_clean_through_the_cli(
    example: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    copy = copy_project(example.relative_to(ROOT), tmp_path)  # the check writes its cache beside the specs
    code = main(["check", str(copy), "--format", "json", "--color", "never"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report["diagnostics"]
    assert report["summary"]["errors"] == 0, report["diagnostics"]
    assert report["summary"]["warnings"] == 0, report["diagnostics"]


def test_both_examples_in_one_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """What the Makefile and the docs run: `charter check examples/credit-scoring examples/demand-forecast`."""
    credit, demand = (copy_project(path.relative_to(ROOT), tmp_path) for path in (CREDIT, DEMAND))
    code = main(["check", str(credit), str(demand), "--color", "never"])
    out = capsys.readouterr().out
    assert code == 0, out
    # The one waived finding is shown, marked as waived; nothing else is.
    assert "0 errors, 0 warnings" in out, out
    assert "error[" not in out, out
    assert "warning[" not in out, out
    assert out.count("waived[CH500 acme-lending-models/independent-validation-data] ") == 1, out
    assert out.count("(a warning, waived by credit-default-validation-data)") == 1, out
    assert "0 errors, 0 warnings, 0 infos (1 waived) in " in out, out


@pytest.mark.parametrize("example", ALL, ids=IDS)
def test_example_has_a_readme_and_only_spec_yaml(example: Path) -> None:
    assert (example / "README.md").is_file()
    for path in example.rglob("*.yaml"):
        text = path.read_text("utf-8")
        assert "${{" not in text, f"{path}: spec strings must never carry `${{{{`"
        assert text.lstrip().startswith("#"), f"{path}: examples explain themselves in a leading comment"


# --- the credit example shows what a high-risk model needs -------------------


def test_credit_contract_tags_pii_and_protected_columns(credit: Checked) -> None:
    applications = contract(credit, "credit-applications")
    tagged = {column.name: set(column.tags) for column in applications.columns}
    assert {name for name, tags in tagged.items() if "pii" in tags} == {"applicant_name", "email", "national_id"}
    assert {name for name, tags in tagged.items() if "protected" in tags} == {"gender", "age_band", "marital_status"}
    classifications = {column.name: column.classification for column in applications.columns}
    assert all(classifications[name] == "restricted" for name in ("applicant_name", "email", "national_id"))
    assert set(classifications.values()) <= {"public", "internal", "confidential", "restricted"}
    assert None not in classifications.values(), "every column is classified"
    assert applications.status == "active"


def test_credit_holdout_carries_no_direct_identifiers(credit: Checked) -> None:
    holdout = contract(credit, "credit-holdout")
    assert not [column.name for column in holdout.columns if "pii" in column.tags]
    assert {column.name for column in holdout.columns if "protected" in column.tags} == {
        "gender",
        "age_band",
        "marital_status",
    }


def test_credit_features_exclude_pii_and_protected_columns(credit: Checked) -> None:
    spec = model(credit, "credit-default").spec
    applications = contract(credit, "credit-applications")
    off_limits = {column.name for column in applications.columns if {"pii", "protected"} & set(column.tags)}
    assert off_limits, "the contract must tag something for this test to mean anything"
    assert not off_limits & set(spec.features)
    assert spec.label not in spec.features
    assert set(spec.sensitive_features) == {"gender", "age_band", "marital_status"}
    assert set(spec.sensitive_features) <= off_limits


def test_credit_model_is_high_risk_and_complete(credit: Checked) -> None:
    spec = model(credit, "credit-default").spec
    assert spec.task == "binary-classification"
    assert spec.risk_tier == "high"
    assert spec.intended_use
    assert spec.out_of_scope_use
    assert "@sha256:" in spec.training.image
    assert spec.training.resources is not None
    assert spec.training.resources.requests is not None
    assert spec.training.resources.limits is not None
    assert spec.serving is not None
    assert spec.serving.runtime == "kserve"
    deployments = {d.environment: d for d in spec.deployments}
    assert deployments["staging"].replicas == 2
    production = deployments["production"]
    assert production.replicas == 3
    # Issue 27: a canary decided by metrics, as production-readiness/high-risk-analysis wants of a high-risk model.
    assert production.canary is None
    assert production.rollout is not None
    assert [(step.weight, step.pause_minutes) for step in production.rollout.steps] == [(10, 10), (50, 10)]
    assert (production.rollout.analysis.max_error_rate, production.rollout.analysis.max_latency_ms) == (0.01, 300)
    assert production.autoscaling is not None
    assert spec.monitoring is not None
    assert spec.monitoring.drift.method == "psi"
    assert spec.monitoring.retrain_on_drift is True


def test_credit_production_canary_is_analysed_and_its_card_says_how(credit: Checked) -> None:
    """Issue 27: the high-risk example passes production-readiness/high-risk-analysis (no finding of it at all), its
    deploy job runs `charter deploy analyze` after each step, and the card says exactly that."""
    assert not [d for d in credit.diagnostics if d.rule == "high-risk-analysis"]
    workflow = (CREDIT / ".github/workflows/model-credit-default.yml").read_text("utf-8")
    assert workflow.count('charter deploy analyze . --model "$NAME" --environment "$ENVIRONMENT"') == 2  # two steps
    card = (CREDIT / "docs/models/credit-default.md").read_text("utf-8")
    assert (
        "KServe canary driven by the deploy job: 10% of the traffic for 10 min, then 50% of the traffic for 10 min, "
        "then all; after each step the job measures error-rate \\(5xx share \\<= 0.01\\); latency \\(p99 latency "
        "\\<= 300 ms\\) on Prometheus \\(\\`charter deploy analyze\\`\\), and a metric beyond its bound or not "
        "measured sets canaryTrafficPercent to 0 \\(all traffic back to the revision served before\\) and fails the "
        "job."
    ) in card


def test_credit_suite_has_fairness_checks_for_every_sensitive_feature(credit: Checked) -> None:
    spec = model(credit, "credit-default").spec
    suites = [s.model for s in credit.specs if isinstance(s.model, EvaluationSuite)]
    assert len(suites) == 1
    suite = suites[0].spec
    for feature in spec.sensitive_features:
        metrics = {check.metric for check in suite.fairness if check.sensitive_feature == feature}
        assert {"demographic_parity_difference", "equalized_odds_difference"} <= metrics, feature
    bounds = {(bound.metric, bound.slice): bound for bound in suite.metrics}
    assert bounds["roc_auc", None].min == 0.8
    assert bounds["brier", None].max is not None
    assert bounds["log_loss", None].max is not None
    ratios = [check for check in suite.fairness if check.metric == "demographic_parity_ratio"]
    assert ratios
    assert all(check.min == 0.8 for check in ratios)


def test_credit_waiver_waives_exactly_one_finding(credit: Checked) -> None:
    """The waiver in the example is live: it covers a real finding of the organisation policy."""
    waived = [d for d in credit.diagnostics if d.suppressed]
    assert [(d.policy, d.rule, d.waiver) for d in waived] == [
        ("acme-lending-models", "independent-validation-data", "credit-default-validation-data")
    ]


# --- the demand example: minimal risk, regression ---------------------------


def test_demand_model_is_minimal_risk_regression_without_pii(demand: Checked) -> None:
    spec = model(demand, "demand-forecast").spec
    assert spec.task == "regression"
    assert spec.risk_tier == "minimal"
    assert spec.serving is not None
    assert spec.serving.runtime == "kubernetes"
    assert spec.serving.image is not None
    assert "@sha256:" in spec.serving.image
    assert spec.monitoring is not None
    assert spec.monitoring.drift.method == "ks"
    sales = contract(demand, "sales-history")
    assert not [column.name for column in sales.columns if {"pii", "protected"} & set(column.tags)]
    suites = [s.model for s in demand.specs if isinstance(s.model, EvaluationSuite)]
    assert len(suites) == 1
    bounds = {bound.metric for bound in suites[0].spec.metrics}
    assert {"rmse", "mae", "mape", "r2"} <= bounds
