"""The policy engine: matching, CEL evaluation, failing closed, positions, waivers, settings."""

from __future__ import annotations

import datetime
import json
import textwrap
from pathlib import Path

import pytest

from compiler.commands.cli import main
from compiler.core.diagnostics import Diagnostic, Severity
from compiler.stages import check_path
from compiler.stages.policy.expressions import ExpressionError, compile_expression, comprehension_depth

TODAY = datetime.date(2026, 11, 21)

CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: loans
name: loans
version: 1.0.0
status: active
schema:
  - name: loans
    properties:
      - {name: income, logicalType: number}
      - {name: gender, logicalType: string, tags: [protected]}
      - {name: defaulted, logicalType: boolean}
"""

MODEL = """\
apiVersion: charter/v1alpha1
kind: Model
metadata:
  name: scorer
  labels: {domain: lending}
spec:
  task: binary-classification
  version: "1.0.0"
  riskTier: high
  data:
    training: {contract: loans}
  features: [income]
  label: defaulted
  sensitiveFeatures: [gender]
  training:
    image: ghcr.io/acme/train:1.0
    command: [python, train.py]
  evaluation: {suite: scorer-eval}
"""

SUITE = """\
apiVersion: charter/v1alpha1
kind: EvaluationSuite
metadata:
  name: scorer-eval
spec:
  dataset: {contract: loans}
  metrics:
    - {metric: roc_auc, min: 0.8}
"""

PROJECT = """\
apiVersion: charter/v1alpha1
kind: Project
metadata:
  name: demo
spec:
  policies:
    packs: []
"""

POLICY = """\
apiVersion: charter/v1alpha1
kind: Policy
metadata:
  name: lending-rules
spec:
  match:
    kinds: [Model]
    labels: {domain: lending}
  params:
    minFeatures: 2
  validations:
    - name: enough-features
      expression: size(object.spec.features) >= params.minFeatures
      messageExpression: '"only " + string(size(object.spec.features)) + " feature(s)"'
      remediation: add features
      references: ["Internal standard 4.2"]
      path: spec.features
"""


def make_project(root: Path, **files: str) -> Path:
    contents = {
        "charter.yaml": PROJECT,
        "contract.yaml": CONTRACT,
        "model.yaml": MODEL,
        "suite.yaml": SUITE,
        "policy.yaml": POLICY,
    }
    contents.update({name.replace("__", "/").replace("_yaml", ".yaml"): text for name, text in files.items()})
    for name, text in contents.items():
        if text:
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(text), "utf-8")
    return root


def findings(root: Path, monkeypatch: pytest.MonkeyPatch) -> list[Diagnostic]:
    monkeypatch.chdir(root)
    return check_path(Path("."), today=TODAY).diagnostics


def brief(diagnostics: list[Diagnostic]) -> list[tuple[str, str, int, int]]:
    return [(d.code, d.file, d.line, d.column) for d in diagnostics]


def test_violation_points_at_the_field_the_rule_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = findings(make_project(tmp_path), monkeypatch)
    assert brief(result) == [("CH500", "model.yaml", 12, 13)]
    (finding,) = result
    assert finding.message == "only 1 feature(s)"
    assert (finding.policy, finding.rule, finding.hint) == ("lending-rules", "enough-features", "add features")
    assert finding.related == ("Internal standard 4.2",)


def test_labels_select_what_a_policy_matches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = MODEL.replace("labels: {domain: lending}", "labels: {domain: retail}")
    assert findings(make_project(tmp_path, model_yaml=model), monkeypatch) == []


def test_match_conditions_are_cel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = POLICY.replace(
        "labels: {domain: lending}", "conditions:\n      - {name: risky, expression: object.spec.riskTier == 'minimal'}"
    )
    assert findings(make_project(tmp_path, policy_yaml=policy), monkeypatch) == []


def test_project_params_and_severity_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = PROJECT.replace(
        "packs: []",
        "packs: []\n    params: {lending-rules: {minFeatures: 1}}",
    )
    assert findings(make_project(tmp_path, charter_yaml=project), monkeypatch) == []
    project = PROJECT.replace("packs: []", "packs: []\n    severityOverrides: {lending-rules/enough-features: warning}")
    (finding,) = findings(make_project(tmp_path, charter_yaml=project), monkeypatch)
    assert finding.severity is Severity.WARNING
    project = PROJECT.replace("packs: []", "packs: []\n    severityOverrides: {lending-rules: 'off'}")
    assert findings(make_project(tmp_path, charter_yaml=project), monkeypatch) == []


def test_settings_that_name_nothing_are_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = PROJECT.replace(
        "packs: []",
        "packs: [fairnes]\n    severityOverrides: {lending-rule: warning}"
        "\n    params: {lending-rules: {minFeature: 1}}",
    )
    result = findings(make_project(tmp_path, charter_yaml=project), monkeypatch)
    assert brief(result) == [
        ("CH506", "charter.yaml", 7, 13),
        ("CH507", "charter.yaml", 8, 25),
        ("CH507", "charter.yaml", 9, 30),
        ("CH500", "model.yaml", 12, 13),
    ]
    assert result[0].hint == "did you mean `fairness`?"
    assert result[1].hint == "did you mean `lending-rules`?"
    assert result[2].hint == "did you mean `minFeatures`?"


def test_syntax_error_points_into_the_expression(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = POLICY.replace("size(object.spec.features) >= params.minFeatures", "size(object.spec.features) >= )")
    result = findings(make_project(tmp_path, policy_yaml=policy), monkeypatch)
    assert brief(result) == [("CH501", "policy.yaml", 13, 49)]
    assert result[0].policy == "lending-rules"


def test_syntax_error_in_a_block_scalar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = POLICY.replace(
        "expression: size(object.spec.features) >= params.minFeatures",
        "expression: |\n        size(object.spec.features) > 0 &&\n          object.spec. == 1",
    )
    result = findings(make_project(tmp_path, policy_yaml=policy), monkeypatch)
    assert brief(result) == [("CH501", "policy.yaml", 15, 24)]


def test_unknown_variable_is_caught_when_the_policy_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = POLICY.replace("size(object.spec.features) >=", "size(objet.spec.features) >=")
    (finding,) = findings(make_project(tmp_path, policy_yaml=policy), monkeypatch)
    assert (finding.code, finding.line, finding.column) == ("CH501", 13, 19)
    assert "unknown variable `objet`; did you mean `object`?" in finding.message


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        # A label is a map key no model declares: only evaluation can miss it (a field no model has is CH501).
        ("object.metadata.labels.missing == 1", "no such key: missing"),
        ("1 / (size(object.spec.features) - 1) == 0", "division by zero"),
        ("object.spec.features + 1 == 2", "type error"),
        ("object.spec.version", "returned str, not a boolean"),
    ],
)
def test_evaluation_errors_fail_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expression: str, reason: str
) -> None:
    policy = POLICY.replace("size(object.spec.features) >= params.minFeatures", expression)
    (finding,) = findings(make_project(tmp_path, policy_yaml=policy), monkeypatch)
    assert (finding.code, finding.severity, finding.file, finding.line) == ("CH502", Severity.ERROR, "model.yaml", 12)
    assert reason in finding.message
    assert "Model `scorer`" in finding.message


@pytest.mark.parametrize(
    ("expression", "column", "message"),
    [
        ("size(object.spec.feature) >= 2", 24, "`object.spec` has no field `feature`; did you mean `features`?"),
        ("has(object.spec.monitoring)", 19, "`has(object.spec.monitoring)` is always true"),
        ("object.metadata.name.lowerAscii() == 'x'", 40, "unknown function `lowerAscii`"),
    ],
)
def test_cel_mistakes_are_caught_when_the_policy_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expression: str, column: int, message: str
) -> None:
    """Before, each was a CH502 on every model the rule ran on (or, for has(), nothing at all)."""
    policy = POLICY.replace("size(object.spec.features) >= params.minFeatures", expression)
    (finding,) = findings(make_project(tmp_path, policy_yaml=policy), monkeypatch)
    assert (finding.code, finding.file, finding.line, finding.column) == ("CH501", "policy.yaml", 13, column)
    assert message in finding.message


def test_short_circuit_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = POLICY.replace("size(object.spec.features) >= params.minFeatures", "true || 1 / 0 == 0")
    assert findings(make_project(tmp_path, policy_yaml=policy), monkeypatch) == []


def test_expressions_see_related_specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expression = (
        "related.training.columns.filter(c, 'protected' in c.tags).all(c, "
        "related.suite.spec.fairness.exists(f, f.sensitiveFeature == c.name))"
    )
    policy = POLICY.replace("size(object.spec.features) >= params.minFeatures", expression)
    (finding,) = findings(make_project(tmp_path, policy_yaml=policy), monkeypatch)
    assert finding.code == "CH500"
    suite = SUITE + "  fairness:\n    - {metric: demographic_parity_difference, sensitiveFeature: gender, max: 0.1}\n"
    assert findings(make_project(tmp_path, policy_yaml=policy, suite_yaml=suite), monkeypatch) == []


WAIVER = """\
apiVersion: charter/v1alpha1
kind: Waiver
metadata:
  name: scorer-few-features
spec:
  policy: lending-rules
  rule: enough-features
  target: {kind: Model, name: scorer}
  justification: A one-feature baseline while the feature store is built.
  approvers: [alice, bob]
  expires: 2027-01-31
"""


def test_a_waiver_suppresses_and_is_reported_as_such(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path, waiver_yaml=WAIVER)
    (finding,) = findings(root, monkeypatch)
    assert (finding.code, finding.waiver) == ("CH500", "scorer-few-features")


def test_waived_findings_carry_sarif_suppressions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(tmp_path, waiver_yaml=WAIVER)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHARTER_TODAY", TODAY.isoformat())
    assert main(["check", ".", "--format", "sarif"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    assert result["suppressions"] == [{"kind": "external", "justification": "waived by scorer-few-features"}]


def test_an_expired_waiver_no_longer_waives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path, waiver_yaml=WAIVER.replace("2027-01-31", "2026-11-20"))
    result = findings(root, monkeypatch)
    assert brief(result) == [("CH500", "model.yaml", 12, 13), ("CH503", "waiver.yaml", 11, 12)]
    assert result[0].waiver is None
    assert "expired on 2026-11-20" in result[1].message


def test_a_waiver_that_matches_nothing_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    waiver = WAIVER.replace("target: {kind: Model, name: scorer}", "target: {kind: EvaluationSuite, name: scorer-eval}")
    result = findings(make_project(tmp_path, waiver_yaml=waiver), monkeypatch)
    assert brief(result) == [("CH500", "model.yaml", 12, 13), ("CH504", "waiver.yaml", 6, 11)]
    assert result[1].severity is Severity.WARNING


def test_a_rule_marked_not_waivable_refuses_waivers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = POLICY + "      waivable: false\n"
    result = findings(make_project(tmp_path, policy_yaml=policy, waiver_yaml=WAIVER), monkeypatch)
    assert brief(result) == [("CH500", "model.yaml", 12, 13), ("CH505", "waiver.yaml", 6, 11)]
    assert result[0].waiver is None


def test_comprehension_depth_and_cost_bound() -> None:
    assert comprehension_depth("a.all(x, x.b.exists(y, y.map(z, z) == [')']))") == 3
    assert comprehension_depth("a. all(x, x.b .exists (y, y.\nmap(z, z)))") == 3
    assert comprehension_depth("size(a) > 0 && '.all(' == b") == 0
    with pytest.raises(ExpressionError, match="nest 4 deep"):
        compile_expression("object.all(w, w.all(x, x.all(y, y.all(z, z))))")


def test_too_costly_evaluation_fails_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    features = ", ".join(f"f{i}" for i in range(300))
    contract = CONTRACT + "".join(f"      - {{name: f{i}, logicalType: number}}\n" for i in range(300))
    model = MODEL.replace("features: [income]", f"features: [{features}]")
    expression = "object.spec.features.all(a, object.spec.features.all(b, object.spec.features.all(c, true)))"
    policy = POLICY.replace("size(object.spec.features) >= params.minFeatures", expression)
    result = findings(make_project(tmp_path, model_yaml=model, contract_yaml=contract, policy_yaml=policy), monkeypatch)
    assert [d.code for d in result] == ["CH502"]
    # 27,000,000 iterations: the engine stops at its own limit, long before the worker's 2 s.
    assert result[0].message.endswith("stopped: comprehensions ran more than the engine's limit of 10,000 iterations")


def test_costly_evaluation_within_the_iteration_limit_is_stopped_by_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """9,000 iterations, each scanning a 16 MiB string the variables built: seconds; the worker's clock ends it."""
    grow = "".join(f"\n    - {{name: v{i + 1}, expression: variables.v{i} + variables.v{i}}}" for i in range(24))
    rule = f'{list(range(90))}.all(a, {list(range(100))}.all(b, !variables.v24.matches("b")))'
    policy = POLICY.replace(
        "  validations:", "  variables:\n    - {name: v0, expression: '\"a\"'}" + grow + "\n  validations:"
    )
    policy = policy.replace("size(object.spec.features) >= params.minFeatures", f"'{rule}'")
    result = findings(make_project(tmp_path, policy_yaml=policy), monkeypatch)
    assert [d.code for d in result] == ["CH502"]
    assert result[0].message.endswith("stopped: one evaluation ran longer than the limit of 2 s")
