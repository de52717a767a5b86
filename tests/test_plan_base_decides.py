"""Issue 21: governance the change under review cannot rewrite. The base decides.

Each case is one pull request on a git copy of `examples/credit-scoring`: it weakens governance (a policy, a
label, a tier, a shadowing policy, a quoted parameter, a slice, a waiver, a trust setting) and, where the
weakening hides something, violates what was weakened. Before issue 21 every one of them planned with exit 0.
Now each fails with a located finding that names what changed; the same change, once the owners the base
names approved it (`approvals.settle`, which `charter github report` feeds with verified reviews), passes.
"""

from __future__ import annotations

import datetime
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from test_plan_fixtures import commit, edit, git, write

from compiler.core.diagnostics import Severity
from compiler.plan.approvals import Approval, settle
from compiler.plan.make import Plan, make_plan

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "credit-scoring"
TODAY = datetime.date(2026, 12, 1)
ERROR, WARNING = Severity.ERROR, Severity.WARNING
MODEL = "models/credit-default.yaml"
POLICY = "policies/acme-lending-models.yaml"
PROJECT = "charter.yaml"
# The Charter commit the example pins (`make pin` moves it): case 10 points it elsewhere.
PINNED = re.search(r"^      commit: ([0-9a-f]{40})$", (EXAMPLE / PROJECT).read_text("utf-8"), re.MULTILINE)[1]  # type: ignore[index]
PRODUCTION = "environments/production.yaml"
SUITE = "suites/credit-default-eval.yaml"
WAIVER = "waivers/credit-default-validation-data.yaml"
Edit = Callable[[Path], None]
# The rules of compiler.plan.breaking these cases exercise (test_plan.test_every_rule_is_exercised).
EXERCISED = {"suite-slice-redefined", "trust-setting-changed", "waiver-widened"}


def replace(name: str, old: str, new: str) -> Edit:
    return lambda repo: edit(repo, name, old, new)


NO_RETRAIN = replace(MODEL, "retrainOnDrift: true ", "retrainOnDrift: false")
NEW_VERSION = replace(MODEL, 'version: "3.2.0"                 #', 'version: "3.3.0"                 #')
# One production replica (and an autoscaler allowed down to one): the production-readiness error the case hides.
ONE_REPLICA = [
    replace(MODEL, "      replicas: 3\n", "      replicas: 1\n"),
    replace(MODEL, "minReplicas: 3\n", "minReplicas: 1\n"),
]
SHADOW = """\
apiVersion: charter/v1alpha1
kind: Policy
metadata:
  name: production-readiness
spec:
  match:
    kinds: [Model]
  validations:
    - name: min-replicas
      expression: "true"
      severity: warning
"""
DRIFT_WAIVER = """\
# An exception nobody signed.
apiVersion: charter/v1alpha1
kind: Waiver
metadata:
  name: credit-default-drift
spec:
  policy: acme-lending-models
  rule: retrain-on-drift
  target:
    kind: Model
    name: credit-default
  justification: Retraining is costly.
  approvers: [somebody, someone-else]
  expires: 9999-12-31
"""
HIDES_DRIFT = "it hides 1 finding (error `acme-lending-models/retrain-on-drift` on Model `credit-default`)"
HIDES_REPLICAS = "it hides 1 finding (error `production-readiness/min-replicas` on Model `credit-default`)"
BASE = " that the base revision's governance raises on this change"

# (case, edits of the pull request)
CASES: list[tuple[str, list[Edit]]] = [
    (
        "1-policy-weakened",
        [replace(POLICY, "monitoring != null && object", "monitoring != null || object"), NO_RETRAIN],
    ),
    ("2-label-look-alike", [replace(MODEL, "    domain: lending ", "    domain: lend\u0456ng "), NO_RETRAIN]),
    (
        "2-label-removed",
        [replace(MODEL, "  labels:\n    domain: lending ", "  annotations:\n    domain: lending "), NO_RETRAIN],
    ),
    ("3-tier-lowered", [replace(PRODUCTION, "tier: production ", "tier: staging    "), *ONE_REPLICA]),
    (
        "4-shadowing-policy",
        [
            lambda repo: write(repo, {"policies/production-readiness.yaml": SHADOW}),
            replace(
                PROJECT,
                "    paths:\n      - policies/\n",
                "    paths:\n      - policies/\n"
                "    severityOverrides:\n      production-readiness/min-replicas: warning\n",
            ),
            *ONE_REPLICA,
        ],
    ),
    (
        "5-quoted-parameter",
        [
            replace(
                PROJECT,
                "    paths:\n      - policies/\n",
                '    paths:\n      - policies/\n    params:\n      fairness-bounds: {maxDifference: "0.5"}\n',
            ),
            replace(
                SUITE,
                "sensitiveFeature: gender\n      max: 0.1\n    - metric: equalized",
                "sensitiveFeature: gender\n      max: 0.4\n    - metric: equalized",
            ),
        ],
    ),
    ("6-slice-redefined", [replace(SUITE, 'values: ["18-24"]', 'values: ["45-54"]')]),
    ("7-waiver-invented", [lambda repo: write(repo, {"waivers/credit-default-drift.yaml": DRIFT_WAIVER}), NO_RETRAIN]),
    (
        "7-waiver-rule-deleted",
        [
            replace(
                WAIVER,
                "  rule: independent-validation-data   # one rule; without `rule` every rule of the policy is waived\n",
                "",
            ),
            NO_RETRAIN,
        ],
    ),
    (
        "10-charter-source",
        [
            replace(PROJECT, "repository: charter-dev/charter", "repository: fork/charter         "),
            replace(PROJECT, f"commit: {PINNED}", "commit: " + "ab" * 20),
        ],
    ),
    ("10-cloud-role", [replace(PROJECT, "role/credit-scoring-gates", "role/fork-admin")]),
    ("10-argocd-repository", [replace(PROJECT, "acme-bank/credit-scoring.git", "fork/credit-scoring.git")]),
    (
        "10-outputs",
        [
            replace(PROJECT, "workflows: .github/workflows ", "workflows: ci/workflows        "),
            # The generated workflows move with the setting (left behind, they would be files no spec renders).
            lambda repo: shutil.move(repo / ".github", repo / "ci"),
        ],
    ),
]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    git(root, "init", "--quiet", "--initial-branch=main")
    commit(root, "credit scoring")
    monkeypatch.chdir(root)
    monkeypatch.setenv("CHARTER_TODAY", TODAY.isoformat())
    return root


def plan_of(repo: Path, edits: list[Edit]) -> Plan:
    for step in edits:
        step(repo)
    commit(repo, "the pull request")
    return make_plan(repo, "HEAD~1", "HEAD", today=TODAY)


GOVERNANCE_RULES = {
    "governance-weakened",
    "suite-slice-redefined",
    "trust-setting-changed",
    "waiver-widened",
    "policy-param-loosened",
}
Expected = tuple[str, Severity, str, int, int, str]
EXPECTED: dict[str, list[Expected]] = {
    "1-policy-weakened": [
        (
            "governance-weakened",
            ERROR,
            POLICY,
            39,
            19,
            f"rule `acme-lending-models/retrain-on-drift`: its expression changed: {HIDES_DRIFT}{BASE}",
        )
    ],
    "2-label-look-alike": [
        (
            "governance-weakened",
            ERROR,
            MODEL,
            11,
            13,
            f"Model `credit-default`: label `domain` changed: `lending` -> `lend\\u0456ng`: {HIDES_DRIFT}{BASE}",
        )
    ],
    "2-label-removed": [
        (
            "governance-weakened",
            ERROR,
            MODEL,
            7,
            3,
            f"Model `credit-default`: label `domain` changed: `lending` -> removed: {HIDES_DRIFT}{BASE}",
        )
    ],
    "3-tier-lowered": [
        (
            "governance-weakened",
            ERROR,
            PRODUCTION,
            10,
            9,
            f"Environment `production`: tier changed: production -> staging: {HIDES_REPLICAS}{BASE}",
        )
    ],
    "4-shadowing-policy": [
        (
            "governance-weakened",
            ERROR,
            "policies/production-readiness.yaml",
            4,
            9,
            "a second policy named `production-readiness` defined in policies/production-readiness.yaml: "
            f"{HIDES_REPLICAS}{BASE}",
        ),
        (
            "governance-weakened",
            ERROR,
            PROJECT,
            36,
            42,
            f"severity override `production-readiness/min-replicas: warning` set: {HIDES_REPLICAS}{BASE}",
        ),
    ],
    "5-quoted-parameter": [
        (
            "governance-weakened",
            ERROR,
            PROJECT,
            36,
            40,
            "parameter `fairness-bounds.maxDifference` changed: 0.1 -> the string '0.5': it hides 1 finding "
            f"(error `fairness-bounds/difference-bound` on EvaluationSuite `credit-default-eval`){BASE}",
        ),
        # Judged by value, as the pack reads it through double(): quoting no longer hides the loosening.
        (
            "policy-param-loosened",
            ERROR,
            PROJECT,
            36,
            40,
            "parameter `fairness-bounds.maxDifference` loosened: 0.1 -> 0.5 (an upper bound)",
        ),
    ],
    "6-slice-redefined": [
        (
            "suite-slice-redefined",
            ERROR,
            SUITE,
            66,
            7,
            "slice `young-applicants` redefined: `age_band` in ['18-24'] -> `age_band` in ['45-54']: "
            "its bounds now guard another population",
        )
    ],
    "7-waiver-invented": [
        (
            "governance-weakened",
            ERROR,
            "waivers/credit-default-drift.yaml",
            5,
            9,
            f"waiver `credit-default-drift` added: {HIDES_DRIFT}{BASE}",
        )
    ],
    "7-waiver-rule-deleted": [
        (
            "governance-weakened",
            ERROR,
            WAIVER,
            12,
            11,
            "waiver `credit-default-validation-data` widened to every rule of `acme-lending-models` (its rule "
            f"removed): {HIDES_DRIFT}{BASE}",
        ),
        (
            "waiver-widened",
            ERROR,
            WAIVER,
            12,
            11,
            "waiver `credit-default-validation-data` widened: its rule `independent-validation-data` was removed, "
            "so it waives every rule of `acme-lending-models` on Model `credit-default`",
        ),
    ],
    "10-charter-source": [
        (
            "trust-setting-changed",
            ERROR,
            PROJECT,
            50,
            15,
            "`spec.ci.charter.commit` (the commit the pipelines install Charter from) changed: "
            f"`{PINNED}` -> `{'ab' * 20}`",
        ),
        (
            "trust-setting-changed",
            ERROR,
            PROJECT,
            49,
            19,
            "`spec.ci.charter.repository` (the repository the pipelines install Charter from) changed: "
            "`charter-dev/charter` -> `fork/charter`",
        ),
    ],
    "10-cloud-role": [
        (
            "trust-setting-changed",
            ERROR,
            PROJECT,
            71,
            5,
            "`spec.cloud` (the cloud identity the pipelines assume) changed: {aws: {roleArn: "
            "`arn:aws:iam::123456789012:role/credit-scoring-gates`, region: `eu-west-1`}} -> {aws: {roleArn: "
            "`arn:aws:iam::123456789012:role/fork-admin`, region: `eu-west-1`}}",
        )
    ],
    "10-argocd-repository": [
        (
            "trust-setting-changed",
            ERROR,
            PROJECT,
            59,
            14,
            "`spec.deployment.repoUrl` (the repository Argo CD pulls deployments from) changed: "
            "`https://github.com/acme-bank/credit-scoring.git` -> `https://github.com/fork/credit-scoring.git`",
        )
    ],
    "10-outputs": [
        (
            "trust-setting-changed",
            ERROR,
            PROJECT,
            44,
            5,
            "`spec.outputs` (where Charter writes workflows, manifests and cards) changed: {workflows: "
            "`.github/workflows`, deploy: `deploy`, docs: `docs/models`, allowExtra: `[]`} -> {workflows: "
            "`ci/workflows`, deploy: `deploy`, docs: `docs/models`, allowExtra: `[]`}",
        )
    ],
}
# What `charter check` itself says of the head: errors no approval settles.
HEAD_ERRORS: dict[str, list[tuple[str, str, int]]] = {
    "4-shadowing-policy": [("CH420", "policies/production-readiness.yaml", 4), ("CH420", "deployments.yaml", 4)],
    "5-quoted-parameter": [("CH421", PROJECT, 36)],
    "7-waiver-invented": [("CH520", "waivers/credit-default-drift.yaml", 14)],
}


def test_the_example_plans_clean_against_itself(repo: Path) -> None:
    plan = plan_of(repo, [])
    assert (plan.exit_code(), plan.breaking, plan.approvals_needed) == (0, [], [])


@pytest.mark.parametrize(("case", "edits"), CASES, ids=[case for case, _ in CASES])
def test_each_governance_change_fails_the_plan_where_it_was_made(repo: Path, case: str, edits: list[Edit]) -> None:
    plan = plan_of(repo, edits)
    assert plan.exit_code() == 1
    found = [
        (c.rule, c.severity, c.file, c.line, c.column, c.message) for c in plan.breaking if c.rule in GOVERNANCE_RULES
    ]
    assert sorted(found, key=str) == sorted(EXPECTED[case], key=str)
    errors = [d for d in plan.head.result.diagnostics if d.severity is ERROR and not d.suppressed]
    shown = sorted((d.code, d.file if not d.file.startswith("/") else Path(d.file).name, d.line) for d in errors)
    assert shown == sorted(HEAD_ERRORS.get(case, []))
    # Every governance change needs an approval from owners the base names; offline it is an error.
    assert plan.approvals_needed
    assert all(need.finding.severity is ERROR for need in plan.approvals_needed)


@pytest.mark.parametrize(("case", "edits"), CASES, ids=[case for case, _ in CASES])
def test_the_same_change_approved_by_its_owners_passes(repo: Path, case: str, edits: list[Edit]) -> None:
    plan = plan_of(repo, edits)
    approvals = [Approval(need, need.owners) for need in plan.approvals_needed]
    settled = settle(plan, approvals)
    assert all(need.finding.severity is Severity.INFO for need in settled.approvals_needed)
    assert all(
        finding.note == "approved by " + ", ".join(f"@{o}" for o in need.owners)
        for need in settled.approvals_needed
        for finding in need.findings
    )
    # Errors of the head itself and breaking changes that are not governance (a loosened bound) still fail.
    blocked = case in HEAD_ERRORS
    assert settled.exit_code() == (1 if blocked else 0), [c for c in settled.breaking if c.severity is ERROR]


def test_offline_the_plan_says_which_approvals_the_change_needs(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from test_plan import run_cli

    for step in dict(CASES)["3-tier-lowered"]:
        step(repo)
    commit(repo, "the pull request")
    assert run_cli(["plan", str(repo), "--base", "HEAD~1", "--head", "HEAD", "--no-diff"]) == 1
    out = capsys.readouterr().out
    # One entry per group of owners, then every change that group approves, each at its line.
    assert (
        "Approvals: 2 owner groups must approve 2 governance changes\n"
        "  error    needs one of @acme-bank/ml-platform: the environments owners named in the base revision\n"
        "           environments/production.yaml:6:9: Environment `production` changed: a governance change "
        "needs an approving review from one of the environments owners named in the base revision: "
        "@acme-bank/ml-platform\n"
        "  error    needs one of @acme-bank/model-risk: the policies owners named in the base revision\n"
        "           environments/production.yaml:10:9: Environment `production`: tier changed: production -> "
        f"staging: {HIDES_REPLICAS}{BASE}\n"
    ) in out
    assert out.rstrip().endswith("2 governance changes without a verified approval.")
    assert run_cli(["plan", str(repo), "--base", "HEAD~1", "--head", "HEAD", "-f", "markdown"]) == 1
    # In Markdown `@` is written as an entity: the comment names the owners without notifying them.
    assert (
        "| ⛔ | `environments/production.yaml:6` | needs one of &#64;acme-bank/ml-platform |" in capsys.readouterr().out
    )


def test_owners_are_read_from_the_base_never_from_the_change(repo: Path) -> None:
    """A pull request that names its author as the owner of policies still needs the base's owners."""
    plan = plan_of(
        repo,
        [
            replace(PROJECT, "policies: [acme-bank/model-risk]", "policies: [mallory]"),
            *dict(CASES)["1-policy-weakened"],
        ],
    )
    assert {owner for need in plan.approvals_needed for owner in need.owners} == {
        "acme-bank/model-risk",
        "acme-bank/platform-security",
    }


def test_waiver_expiring_within_two_weeks_is_a_warning(tmp_path: Path) -> None:
    from compiler.stages import check_path

    root = tmp_path / "credit"
    shutil.copytree(EXAMPLE, root)
    found = [
        (d.code, d.severity, d.file, d.line, d.column, d.message)
        for d in check_path(root, today=datetime.date(2027, 12, 20)).diagnostics
        if d.code.startswith("CH52")
    ]
    assert found == [
        (
            "CH521",
            WARNING,
            str(root / WAIVER),
            25,
            12,
            "waiver `credit-default-validation-data` expires on 2027-12-31, in 11 days: its finding then fails the run",
        )
    ]


def test_check_changed_since_is_judged_by_the_base_and_names_the_approvals(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from compiler.commands.cli import main

    for step in dict(CASES)["1-policy-weakened"]:
        step(repo)  # in the working tree, not committed: what pre-commit sees
    assert main(["check", ".", "--changed-since", "HEAD", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    found = [
        (d["code"], d["severity"], d["file"], d["line"], d["column"])
        for d in report["diagnostics"]
        if d["code"] in ("CH690", "CH691")
    ]
    assert found == [("CH691", "info", POLICY, 14, 9), ("CH690", "error", POLICY, 39, 19)]
    # Without --changed-since there is no base: the plain check is unchanged (and passes the weakened policy).
    assert main(["check", ".", "--format", "json"]) == 0
    capsys.readouterr()


def test_settle_lowers_only_what_was_approved(repo: Path) -> None:
    """A need no review settled stays an error; a settled CH690 is lowered where the plan lists it too."""
    plan = plan_of(repo, dict(CASES)["1-policy-weakened"])
    weakened = next(c for c in plan.breaking if c.code == "CH690")
    # The policy changed (CH691) and what it hides (CH690): one group of owners, so one need for both.
    (need,) = plan.approvals_needed
    assert [finding.code for finding in need.findings] == ["CH691", "CH690"]
    assert (need.findings[1], need.owners, need.mode) == (weakened, ("acme-bank/model-risk",), "any")

    unapproved = settle(plan, [Approval(need)])
    assert unapproved.exit_code() == 1
    assert [finding.severity for finding in unapproved.approvals_needed[0].findings] == [ERROR, ERROR]

    approved = settle(plan, [Approval(need, ("lnovak",))])
    assert approved.exit_code() == 0
    assert [(f.severity, f.note) for f in approved.approvals_needed[0].findings] == [
        (Severity.INFO, "approved by @lnovak"),
        (Severity.INFO, "approved by @lnovak"),
    ]
    lowered = next(c for c in approved.breaking if c.code == "CH690")
    assert (lowered.severity, lowered.note, lowered.line) == (Severity.INFO, "approved by @lnovak", 39)
    assert plan.exit_code() == 1  # settling makes a new plan; the one planned offline is unchanged


def test_a_waiver_needs_every_one_of_its_approvers(repo: Path) -> None:
    plan = plan_of(repo, dict(CASES)["7-waiver-rule-deleted"])
    (every,) = [need for need in plan.approvals_needed if need.mode == "all"]
    assert every.owners == ("lnovak", "mkowalski")
    assert not Approval(every, ("lnovak",)).settled
    assert Approval(every, ("MKowalski", "lnovak")).settled
    others = [Approval(need, need.owners) for need in plan.approvals_needed if need is not every]
    assert settle(plan, [*others, Approval(every, ("lnovak",))]).exit_code() == 1
    assert settle(plan, [*others, Approval(every, ("lnovak", "mkowalski"))]).exit_code() == 0
