"""`charter plan`: breaking changes with their severity, findings, generated diffs, formats.

Every case commits an edit on top of the lending project of
`test_plan_fixtures` in a fresh git repository and plans HEAD~1 -> HEAD.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from test_plan_fixtures import REGION, TODAY, commit, edit, git, make_repo, write

from compiler.commands import plan
from compiler.core.diagnostics import Severity
from compiler.core.markdown import text as md
from compiler.integrations.gitops.git import GitError
from compiler.integrations.gitops.snapshot import at_revision, at_worktree
from compiler.plan.breaking import RULES
from compiler.plan.make import Plan, make_plan
from compiler.plan.report import render

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
A = "ml/contracts/applications.odcs.yaml"
H = "ml/contracts/holdout.odcs.yaml"
M = "ml/models/scorer.yaml"
S = "ml/suites/scorer-eval.yaml"
PROD = "ml/environments/production.yaml"
STAGE = "ml/environments/staging.yaml"
W = "ml/waivers/scorer-validation.yaml"
P = "org-policies/lending.yaml"
EMAIL = "      - name: email\n        logicalType: string\n        classification: restricted\n        tags: [pii]\n"


def replace(name: str, old: str, new: str) -> Callable[[Path], None]:
    return lambda repo: edit(repo, name, old, new)


def delete(name: str) -> Callable[[Path], None]:
    return lambda repo: write(repo, {name: None})


def add(name: str, text: str) -> Callable[[Path], None]:
    return lambda repo: write(repo, {name: text})


LITE_SUITE = (
    "apiVersion: charter/v1alpha1\nkind: EvaluationSuite\nmetadata:\n  name: scorer-lite\n  owner: team-risk\n"
    "spec:\n  dataset:\n    contract: holdout\n  metrics:\n    - metric: roc_auc\n      min: 0.6\n    - metric: brier\n"
    "      max: 0.2\n  fairness:\n    - metric: demographic_parity_difference\n      sensitiveFeature: gender\n"
    "      max: 0.1\n"
)
CHANNEL = (
    "      - name: channel\n        logicalType: string\n        required: true\n        classification: internal\n"
)

# (id, edits, expected breaking changes: (rule, severity, a fragment of the message))
CASES: list[tuple[str, list[Callable[[Path], None]], list[tuple[str, Severity, str]]]] = [
    (
        "column-removed",
        [replace(A, EMAIL, "")],
        [("contract-column-removed", ERROR, "column `loans.email` removed")],
    ),
    (
        "column-renamed",
        [replace(A, "- name: notes", "- name: comments")],
        [("contract-column-renamed", ERROR, "column `loans.notes` renamed to `comments`")],
    ),
    (
        "column-renamed-by-physical-name",
        [
            replace(
                A,
                REGION,
                "",
            ),
            replace(
                A,
                "      - name: notes\n",
                "      - name: area\n        logicalType: string\n        physicalName: region_code\n"
                "        classification: internal\n      - name: notes\n",
            ),
            replace(M, "    - region\n", ""),
        ],
        [
            ("contract-column-renamed", ERROR, "column `loans.region` renamed to `area`"),
            ("model-features-changed", ERROR, "removed `region`"),
        ],
    ),
    (
        "type-narrowed",
        [replace(A, "logicalType: number\n        required: true", "logicalType: integer\n        required: true")],
        [("contract-type-narrowed", ERROR, "column `loans.income` type narrowed: number -> integer")],
    ),
    (
        "type-options-narrowed",
        [replace(A, "maxLength: 500", "maxLength: 200"), replace(A, "minimum: 0", "minimum: 1000")],
        [
            ("contract-type-narrowed", ERROR, "column `loans.notes` type narrowed: maxLength 500 -> 200"),
            ("contract-type-narrowed", ERROR, "column `loans.income` type narrowed: minimum 0 -> 1000"),
        ],
    ),
    (
        "type-widened-is-not-breaking",
        [replace(A, "logicalType: integer\n        required: true", "logicalType: number\n        required: true")],
        [],
    ),
    (
        "required-added",
        [replace(A, "physicalName: region_code\n", "physicalName: region_code\n        required: true\n")],
        [("contract-required-added", ERROR, "column `loans.region` is now required")],
    ),
    (
        "new-required-column",
        [replace(A, "      - name: notes\n", CHANNEL + "      - name: notes\n")],
        [("contract-required-added", WARNING, "new column `loans.channel` is required")],
    ),
    (
        "valid-values-removed",
        [replace(A, "validValues: [female, male, other]", "validValues: [female, male]")],
        [("contract-enum-values-removed", ERROR, "column `loans.gender`: allowed values removed: `other`")],
    ),
    (
        "enum-values-removed",
        [replace(A, "          - value: 36\n", "")],
        [("contract-enum-values-removed", ERROR, "column `loans.term`: allowed values removed: `36`")],
    ),
    (
        "classification-lowered",
        [replace(A, "classification: restricted", "classification: internal")],
        [("contract-classification-lowered", ERROR, "`loans.email` classification lowered: restricted -> internal")],
    ),
    (
        "pii-tag-removed",
        [replace(A, "        tags: [pii]\n", "")],
        [("contract-classification-lowered", ERROR, "column `loans.email` no longer tagged pii")],
    ),
    (
        "quality-threshold-loosened",
        [replace(A, "mustBeLessThan: 1", "mustBeLessThan: 5")],
        [
            (
                "contract-quality-weakened",
                WARNING,
                "column `loans.defaulted`: quality rule `nullValues` weakened: "
                "mustBeLessThan 1 percent -> mustBeLessThan 5 percent",
            )
        ],
    ),
    (
        "quality-rule-removed-and-severity-lowered",
        [
            replace(A, "        quality:\n          - metric: duplicateValues\n            mustBe: 0\n", ""),
            replace(A, "severity: error", "severity: warning"),
        ],
        [
            (
                "contract-quality-weakened",
                WARNING,
                "column `loans.application_id`: quality rule `duplicateValues` removed",
            ),
            ("contract-quality-weakened", WARNING, "severity error -> warning"),
        ],
    ),
    (
        "table-quality-loosened",
        [replace(A, "mustBeGreaterThan: 1000", "mustBeGreaterThan: 100")],
        [("contract-quality-weakened", WARNING, "table `loans`: quality rule `rowCount` weakened")],
    ),
    (
        "quality-tightened-is-not-breaking",
        [replace(A, "mustBeGreaterThan: 1000", "mustBeGreaterThan: 5000")],
        [],
    ),
    (
        "sla-weakened",
        [
            replace(A, "value: 1\n    unit: d", "value: 2\n    unit: d"),
            replace(A, "value: 7\n    unit: y", "value: 60\n    unit: months"),
            replace(A, "  - property: availability\n    value: 99.9\n    unit: percent\n", ""),
        ],
        [
            ("contract-sla-weakened", WARNING, "SLA `latency` weakened: 1 d -> 2 d"),
            ("contract-sla-weakened", WARNING, "SLA `retention` weakened: 7 y -> 60 months"),
            ("contract-sla-weakened", WARNING, "SLA `availability` removed"),
        ],
    ),
    (
        "sla-tightened-is-not-breaking",
        [replace(A, "value: 1\n    unit: d", "value: 12\n    unit: h")],
        [],
    ),
    (
        "contract-removed",
        [delete(H)],
        [("contract-removed", ERROR, "contract `holdout` removed; used by EvaluationSuite `scorer-eval`")],
    ),
    (
        "major-version-announces",
        [replace(A, EMAIL, ""), replace(A, "version: 1.0.0", "version: 2.0.0")],
        [("contract-column-removed", WARNING, "column `loans.email` removed")],
    ),
    (
        "features-changed",
        [replace(M, "    - region\n", "    - notes\n")],
        [("model-features-changed", ERROR, "features changed: removed `region`; added `notes`")],
    ),
    (
        "features-reordered",
        [replace(M, "    - income\n    - term\n", "    - term\n    - income\n")],
        [("model-features-changed", WARNING, "features reordered")],
    ),
    (
        "label-changed",
        [replace(M, "label: defaulted", "label: term")],
        [("model-label-changed", ERROR, "label changed: `defaulted` -> `term`")],
    ),
    (
        "risk-tier-lowered",
        [replace(M, "riskTier: high", "riskTier: limited")],
        [("model-risk-tier-lowered", ERROR, "risk tier lowered: high -> limited")],
    ),
    (
        "risk-tier-raised",
        [replace(M, "riskTier: high", "riskTier: unacceptable")],
        [("model-risk-tier-raised", WARNING, "risk tier raised: high -> unacceptable")],
    ),
    (
        "metric-loosened-and-removed",
        [replace(S, "min: 0.8", "min: 0.7"), replace(S, "    - metric: brier\n      max: 0.2\n", "")],
        [
            ("model-metric-loosened", WARNING, "metric `roc_auc` loosened: min 0.8 -> 0.7"),
            ("model-metric-loosened", WARNING, "metric `brier` removed"),
        ],
    ),
    (
        "fairness-loosened",
        [replace(S, "max: 0.1", "max: 0.2")],
        [("model-fairness-loosened", ERROR, "fairness check `demographic_parity_difference` on `gender` loosened")],
    ),
    (
        "fairness-removed",
        [
            replace(
                S,
                "  fairness:\n"
                "    - metric: demographic_parity_difference\n"
                "      sensitiveFeature: gender\n"
                "      max: 0.1\n",
                "",
            )
        ],
        [("model-fairness-loosened", ERROR, "fairness check `demographic_parity_difference` on `gender` removed")],
    ),
    (
        "min-group-size-raised",
        [replace(S, "minGroupSize: 30", "minGroupSize: 100")],
        [("model-fairness-loosened", WARNING, "minGroupSize raised: 30 -> 100")],
    ),
    (
        "suite-switched",
        [add("ml/suites/scorer-lite.yaml", LITE_SUITE), replace(M, "suite: scorer-eval", "suite: scorer-lite")],
        [
            (
                "model-metric-loosened",
                WARNING,
                "metric `roc_auc` loosened: min 0.8 -> 0.6 (the model moved from suite `scorer-eval` to `scorer-lite`)",
            )
        ],
    ),
    (
        "canary-raised",
        [replace(M, "trafficPercent: 10", "trafficPercent: 15")],
        [("model-canary-raised", WARNING, "canary traffic raised in `production`: 10% -> 15%")],
    ),
    (
        "canary-replaced-by-a-bolder-rollout",
        [
            replace(
                M,
                "      canary:\n        trafficPercent: 10\n",
                "      rollout: {steps: [{weight: 25}], analysis: {}}\n",
            )
        ],
        [("model-canary-raised", WARNING, "canary traffic raised in `production`: 10% -> 25%")],
    ),
    (
        "canary-removed",
        [replace(M, "      canary:\n        trafficPercent: 10\n", "")],
        [("model-canary-raised", ERROR, "canary removed in `production`")],
    ),
    (
        "approvals-reduced-production",
        [replace(PROD, "approvals: 2", "approvals: 1")],
        [("environment-approvals-reduced", ERROR, "approvals reduced: 2 -> 1 on a production environment")],
    ),
    (
        "approvals-reduced-staging",
        [replace(STAGE, "approvals: 1", "approvals: 0")],
        [("environment-approvals-reduced", WARNING, "approvals reduced: 1 -> 0")],
    ),
    (
        "promotion-removed",
        [replace(PROD, "  promotesFrom: staging\n", "")],
        [("environment-promotion-removed", WARNING, "no longer promotes from `staging`")],
    ),
    (
        "policy-tightened",
        [replace(P, "maxCanary: 20", "maxCanary: 5")],
        [("policy-changed", WARNING, "changed: flips 1 verdict (1 now fail)")],
    ),
    (
        "policy-loosened",
        [
            replace(
                P,
                "    - name: monitoring-recommended\n      expression: object.spec.monitoring != null\n",
                "    - name: monitoring-recommended\n      expression: 'true'\n",
            )
        ],
        [
            ("policy-changed", ERROR, "changed: flips 1 verdict (1 now pass)"),
            # The base's rule still finds what the head's no longer does (issue 21).
            ("governance-weakened", WARNING, "rule `lending-rules/monitoring-recommended`: its expression changed"),
        ],
    ),
    (
        "policy-reworded",
        [replace(P, "should watch for drift", "must watch for drift")],
        [("policy-changed", INFO, "changed: no verdict changes")],
    ),
    (
        "waiver-removed",
        [delete(W)],
        [("waiver-changed", WARNING, "removed: flips 1 verdict (1 now fail)")],
    ),
    (
        "waiver-extended",
        [replace(W, "expires: 2099-12-31", "expires: 2100-06-30")],
        [("waiver-extended", WARNING, "extended from 2099-12-31: waives `lending-rules/needs-validation-data`")],
    ),
    (
        "policy-settings",
        [
            replace(
                "ml/charter.yaml",
                "    paths: [../org-policies]\n",
                "    paths: [../org-policies]\n"
                "    severityOverrides:\n"
                "      lending-rules/monitoring-recommended: 'off'\n",
            )
        ],
        [
            (
                "policy-rule-softened",
                ERROR,
                "rule `lending-rules/monitoring-recommended` turned off by severityOverrides",
            ),
            ("governance-weakened", WARNING, "severity override `lending-rules/monitoring-recommended: off` set"),
        ],
    ),
]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The repository, as the working directory: findings show paths relative to it, as in CI."""
    root = make_repo(tmp_path / "repo")
    monkeypatch.chdir(root)
    return root


def plan_of(repo: Path, edits: list[Callable[[Path], None]], **options: object) -> Plan:
    for change in edits:
        change(repo)
    commit(repo, "change")
    return make_plan(repo / "ml", "HEAD~1", "HEAD", today=TODAY, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(("case", "edits", "expected"), CASES, ids=[case[0] for case in CASES])
def test_each_breaking_change_with_its_severity(
    repo: Path, case: str, edits: list[Callable[[Path], None]], expected: list[tuple[str, Severity, str]]
) -> None:
    plan = plan_of(repo, edits)
    # The edits make valid specs: what changes is meaning, not syntax.
    assert [d.code for d in plan.findings.new if d.code < "CH400"] == []
    found = sorted((c.rule, c.severity.value, c.message) for c in plan.breaking)
    assert sorted((rule, severity.value) for rule, severity, _ in expected) == [(r, s) for r, s, _ in found], found
    for rule, severity, fragment in expected:
        assert any(r == rule and s == severity.value and fragment in m for r, s, m in found), (fragment, found)


def test_every_rule_is_exercised() -> None:
    from test_plan_base_decides import EXERCISED
    from test_plan_governance import CASES as GOVERNANCE_CASES

    exercised = {rule for _, _, expected in CASES for rule, _, _ in expected} | EXERCISED
    exercised |= {rule for _, _, _, expected in GOVERNANCE_CASES for rule, *_ in expected}
    # Where gates may send credentials: tests/test_plan_endpoints.py plans each on a repository of its own.
    exercised |= {"endpoints-widened", "endpoint-trusted-only-by-head"}
    # governance-weakened is the cross check's (compiler.plan.crossed), not a rule of one changed spec.
    assert exercised == {rule.id for rule in RULES} | {"governance-weakened"}
    assert len({rule.id for rule in RULES}) == len(RULES)


def test_people_concerned(repo: Path) -> None:
    plan = plan_of(repo, [replace(A, EMAIL, ""), replace(S, "max: 0.1", "max: 0.2"), delete(W)])
    by_rule = {c.rule: c for c in plan.breaking}
    # The contract's ODCS team, then the owners of the model that trains on it.
    assert by_rule["contract-column-removed"].concerns == ("team-data", "team-credit")
    # The suite's owner, then the owners of the models it gates.
    assert by_rule["model-fairness-loosened"].concerns == ("team-risk", "team-credit")
    # The waiver's owner, the owner of the model whose verdict flips, the approvers.
    waiver = by_rule["waiver-changed"]
    assert waiver.concerns == ("team-credit", "alice")
    assert [(f.policy, f.kind, f.name, f.before, f.after) for f in waiver.flips] == [
        ("lending-rules", "Model", "scorer", "warning", "error")
    ]


def test_breaking_changes_point_at_the_line(repo: Path) -> None:
    plan = plan_of(repo, [replace(PROD, "approvals: 2", "approvals: 1"), replace(A, EMAIL, "")])
    by_rule = {c.rule: c for c in plan.breaking}
    approvals = by_rule["environment-approvals-reduced"]
    assert (approvals.file, approvals.line) == ("ml/environments/production.yaml", 11)
    removed = by_rule["contract-column-removed"]  # where the column was, in the base revision
    assert (removed.file, removed.line) == (A, 19)


def test_findings_new_fixed_and_still_there(repo: Path) -> None:
    plan = plan_of(
        repo,
        [
            replace(M, "trafficPercent: 10", "trafficPercent: 30"),  # breaks the canary rule
            delete(W),  # the waived finding is no longer waived
        ],
    )
    new = [(d.code, d.severity.value, d.rule, d.waiver) for d in plan.findings.new]
    fixed = [(d.code, d.severity.value, d.rule, d.waiver) for d in plan.findings.fixed]
    still = [(d.code, d.severity.value, d.rule) for d in plan.findings.still]
    assert sorted(new) == [
        ("CH500", "error", "needs-validation-data", None),
        ("CH500", "error", "small-canary", None),
    ]
    assert fixed == [("CH500", "error", "needs-validation-data", "scorer-validation")]
    assert still == [("CH500", "warning", "monitoring-recommended")]
    assert plan.exit_code() == 1


def test_findings_match_across_moved_lines(repo: Path) -> None:
    plan = plan_of(repo, [replace(M, "  owner: team-credit\n", "  owner: team-credit\n  description: Scores loans.\n")])
    assert plan.findings.new == plan.findings.fixed == []
    assert len(plan.findings.still) == 2
    assert [(c.kind, c.status, c.fields) for c in plan.changes] == [("Model", "changed", ("metadata.description",))]


def test_generated_files_as_a_unified_diff(repo: Path) -> None:
    plan = plan_of(repo, [replace(M, "trafficPercent: 10", "trafficPercent: 15")])
    assert plan.files is not None
    by_path = {f.path: f for f in plan.files}
    assert set(by_path) == {
        ".github/workflows/model-scorer.yml",
        "deploy/production/scorer/canary/inferenceservice.yaml",
        "docs/models/scorer.md",
    }
    diff = by_path["deploy/production/scorer/canary/inferenceservice.yaml"].diff
    assert diff.startswith("--- a/deploy/production/scorer/canary/inferenceservice.yaml\n+++ b/deploy/")
    assert "-    canaryTrafficPercent: 10\n+    canaryTrafficPercent: 15\n" in diff
    assert plan.exit_code() == 0  # a warning does not fail the plan by default


def test_generated_files_added_and_removed(repo: Path) -> None:
    plan = plan_of(repo, [replace(M, "      canary:\n        trafficPercent: 10\n", "")])
    assert plan.files is not None
    statuses = {f.path: f.status for f in plan.files}
    assert statuses["deploy/production/scorer/canary/inferenceservice.yaml"] == "removed"
    removed = next(f for f in plan.files if f.status == "removed")
    assert "+++ /dev/null" in removed.diff


def test_specs_added_removed_changed_and_moved(repo: Path) -> None:
    plan = plan_of(
        repo,
        [
            add("ml/suites/scorer-lite.yaml", LITE_SUITE),
            lambda r: git(r, "mv", "ml/environments/staging.yaml", "ml/environments/stage.yaml"),
            replace(PROD, "cluster: production", "cluster: prod-2"),
        ],
    )
    assert [(c.kind, c.name, c.status) for c in plan.changes] == [
        ("Environment", "production", "changed"),
        ("EvaluationSuite", "scorer-lite", "added"),
    ]


def test_fail_on_threshold(repo: Path) -> None:
    plan = plan_of(repo, [replace(PROD, "approvals: 2", "approvals: 1")])
    assert plan.exit_code() == 1
    plan.fail_on = "never"
    assert plan.exit_code() == 0
    plan = make_plan(repo / "ml", "HEAD~1", "HEAD", today=TODAY, fail_on="warning")
    assert plan.exit_code() == 1


def test_working_tree_is_the_default_head_and_nothing_is_touched(repo: Path) -> None:
    edit(repo, M, "riskTier: high", "riskTier: minimal")
    write(repo, {"ml/suites/scorer-lite.yaml": LITE_SUITE})  # untracked
    status = git(repo, "status", "--porcelain")
    index = (repo / ".git" / "index").stat().st_mtime_ns
    head = git(repo, "rev-parse", "HEAD")
    plan = make_plan(repo / "ml", "HEAD", today=TODAY)
    assert plan.head.label == "working tree"
    assert {c.rule for c in plan.breaking} == {"model-risk-tier-lowered"}
    assert ("EvaluationSuite", "scorer-lite", "added") in [(c.kind, c.name, c.status) for c in plan.changes]
    assert (repo / ".git" / "index").stat().st_mtime_ns == index
    assert git(repo, "status", "--porcelain") == status
    assert git(repo, "rev-parse", "HEAD") == head
    assert (repo / M).read_text("utf-8").count("riskTier: minimal") == 1


def test_a_revision_reads_like_the_working_tree(repo: Path) -> None:
    """At HEAD, with a clean tree, the revision and the working tree check alike, paths and all."""
    at_head = at_revision(repo / "ml", "HEAD", TODAY)
    here = at_worktree(repo / "ml", TODAY)
    assert at_head.result.diagnostics == here.result.diagnostics
    assert sorted(at_head.result.sources) == sorted(here.result.sources)
    assert at_head.outputs == here.outputs
    assert sorted((s.kind, s.name, s.file) for s in at_head.specs) == sorted(
        (s.kind, s.name, s.file) for s in here.specs
    )
    assert ("Policy", "lending-rules", "org-policies/lending.yaml") in [(s.kind, s.name, s.file) for s in at_head.specs]


def test_formats(repo: Path) -> None:
    plan = plan_of(repo, [replace(A, EMAIL, ""), replace(M, "trafficPercent: 10", "trafficPercent: 15")])
    document = json.loads(render(plan, "json"))
    assert document["summary"] == {
        "specs": {"added": 0, "removed": 0, "changed": 2},
        "breaking": {"error": 1, "warning": 1, "info": 0},
        "findings": {"new": 0, "fixed": 0, "still": 2},
        "generatedFiles": 3,
    }
    assert document["breakingChanges"][0]["rule"] == "contract-column-removed"
    assert document["breakingChanges"][0]["concerns"] == ["team-data", "team-credit"]
    assert document["exitCode"] == 1
    text = render(plan, "text")
    assert "Breaking changes: 1 error, 1 warning" in text
    assert "contract-column-removed" in text
    assert "+    canaryTrafficPercent: 15" in text
    assert text.rstrip().endswith("charter plan: fails: 1 breaking change at or above error.")
    markdown = render(plan, "markdown")
    assert "#### Breaking changes: 1 error, 1 warning" in markdown
    assert "```diff\n--- a/deploy/production/scorer/canary/inferenceservice.yaml" in markdown
    assert "| 🔴 error | column `loans.email` removed |" in markdown
    assert "no-diff" not in render(plan, "text", diffs=False)
    assert "@@" not in render(plan, "markdown", diffs=False)


def test_every_format_of_the_registry_shows_the_plan_findings(repo: Path) -> None:
    """A format of findings reaches the plan: its breaking changes are findings, located in the head's specs."""
    plan = plan_of(repo, [replace(A, EMAIL, ""), replace(M, "trafficPercent: 10", "trafficPercent: 15")])
    sarif = json.loads(render(plan, "sarif"))
    results = sarif["runs"][0]["results"]
    assert sorted((result["ruleId"], result["level"]) for result in results) == sorted(
        (change.code, {"error": "error", "warning": "warning", "info": "note"}[change.severity.value])
        for change in plan.breaking
    )
    removed = next(change for change in plan.breaking if change.rule == "contract-column-removed")
    (located,) = [
        r["locations"][0]["physicalLocation"] for r in results if r["message"]["text"].startswith(removed.message)
    ]
    assert located["artifactLocation"]["uri"] == removed.file
    assert located["region"]["startLine"] == removed.line
    junit = render(plan, "junit")
    assert junit.startswith("<?xml")
    assert removed.code in junit
    github = render(plan, "github")
    assert f"::error file={removed.file},line={removed.line}" in github


def test_every_command_with_a_format_option_offers_every_registry_format() -> None:
    from compiler.commands.cli import _parser
    from compiler.reporters import formats

    def offered(parser: argparse.ArgumentParser, prefix: str) -> dict[str, list[str]]:
        found = {}
        for action in parser._actions:
            if "--format" in action.option_strings:
                found[prefix] = list(action.choices or ())
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, command in action.choices.items():
                    found.update(offered(command, f"{prefix} {name}".strip()))
        return found

    choices = offered(_parser(), "")
    assert sorted(choices) == [
        "build",
        "check",
        "deploy shadow",
        "gate data",
        "gate drift",
        "gate eval",
        "github environments",
        "plan",
    ]
    for name, formats_offered in choices.items():
        assert set(formats()) <= set(formats_offered), name
    own = {*formats(), "markdown"}
    assert set(choices["plan"]) == set(choices["gate eval"]) == set(choices["deploy shadow"]) == own


def test_markdown_escapes_spec_text(repo: Path) -> None:
    plan = plan_of(repo, [replace(A, "- name: notes", '- name: "notes <img src=x> @org/everyone | x"')])
    markdown = render(plan, "markdown")
    # Spec text shows as code (which GitHub never renders as HTML or mentions) or escaped.
    assert "`notes <img src=x> @org/everyone \\| x`" in markdown
    prose = re.sub(r"(`+).*?\1", "", markdown)
    assert "<img" not in prose
    assert "@org" not in prose
    assert md("a <b> @c | d") == "a &lt;b&gt; &#64;c \\| d"


def test_markdown_stays_under_the_comment_limit(repo: Path) -> None:
    plan = plan_of(repo, [replace(M, "trafficPercent: 10", "trafficPercent: 15")])
    small = render(plan, "markdown").count("```diff")
    from compiler.plan.report import render_markdown

    limited = render_markdown(plan, limit=1000)
    assert small == 3
    assert limited.count("```diff") < 3
    assert "diff too long for a comment" in limited


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="charter")
    plan.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


def test_cli(repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARTER_TODAY", TODAY.isoformat())
    edit(repo, PROD, "approvals: 2", "approvals: 1")
    commit(repo, "fewer approvals")
    project = str(repo / "ml")
    assert run_cli(["plan", project, "--base", "HEAD~1", "--head", "HEAD"]) == 1
    assert "environment-approvals-reduced" in capsys.readouterr().out
    assert run_cli(["plan", project, "--base", "HEAD~1", "--fail-on", "never", "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["exitCode"] == 0
    out = repo / "plan.md"
    assert run_cli(["plan", project, "--base", "HEAD~1", "-f", "markdown", "-o", str(out)]) == 1
    assert out.read_text("utf-8").startswith("### Charter plan")
    assert run_cli(["plan", project, "--base", "no-such-rev"]) == 2
    assert "unknown revision `no-such-rev`" in capsys.readouterr().err
    assert run_cli(["plan", project, "--base=--upload-pack=x"]) == 2
    assert run_cli(["plan", str(repo / "nope"), "--base", "HEAD"]) == 2


def test_not_a_repository(tmp_path: Path) -> None:
    (tmp_path / "charter.yaml").write_text("apiVersion: charter/v1alpha1\nkind: Project\n", "utf-8")
    with pytest.raises(GitError, match="not in a git repository"):
        make_plan(tmp_path, "HEAD", today=TODAY)
