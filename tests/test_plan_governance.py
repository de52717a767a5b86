"""`charter plan` on lowered governance: packs, severity overrides, parameters, waivers.

Each case commits an optional set-up on top of the lending project of
`test_plan_fixtures` (the base revision), then the change (the head), and
plans base -> head. The expected breaking changes are exact: rule id,
severity, message, file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from test_plan import run_cli
from test_plan_fixtures import TODAY, commit, edit, make_repo, write

from compiler.core.diagnostics import Severity
from compiler.plan.make import Plan, make_plan

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
PROJECT = "ml/charter.yaml"
W = "ml/waivers/scorer-validation.yaml"
P = "org-policies/lending.yaml"
PATHS = "    paths: [../org-policies]\n"
Edit = Callable[[Path], None]


def replace(name: str, old: str, new: str) -> Edit:
    return lambda repo: edit(repo, name, old, new)


def settings(text: str) -> Edit:
    """Add lines under `spec.policies` of charter.yaml, after `paths` (line 10): they start at line 11."""
    return replace(PROJECT, PATHS, PATHS + text)


def packs(*names: str) -> Edit:
    def turn_on(repo: Path) -> None:
        path = repo / PROJECT
        text = re.sub(r"(?m)^    packs: \[.*\]$", f"    packs: [{', '.join(names)}]", path.read_text("utf-8"))
        path.write_text(text, "utf-8")

    return turn_on


MONITORING_WAIVER = """\
apiVersion: charter/v1alpha1
kind: Waiver
metadata:
  name: scorer-monitoring
  owner: team-credit
spec:
  policy: lending-rules
  rule: monitoring-recommended
  target:
    kind: Model
    name: scorer
  justification: Drift monitoring lands with the feature store next quarter.
  approvers: [bob, carol]
  expires: 2026-12-31
"""

# (id, set-up edits (base), change edits (head), expected: (rule, severity, message, file, line))
Expected = tuple[str, Severity, str, str, int]
CASES: list[tuple[str, list[Edit], list[Edit], list[Expected]]] = [
    (
        "pack-removed",
        [packs("supply-chain")],
        [packs()],
        [
            (
                "policy-pack-removed",
                ERROR,
                "policy pack `supply-chain` removed from policies.packs: its policies (`supply-chain-images`) "
                "no longer run",
                PROJECT,
                9,
            )
        ],
    ),
    (
        "one-of-two-packs-removed",
        [packs("fairness", "supply-chain")],
        [packs("fairness")],
        [
            (
                "policy-pack-removed",
                ERROR,
                "policy pack `supply-chain` removed from policies.packs: its policies (`supply-chain-images`) "
                "no longer run",
                PROJECT,
                9,
            )
        ],
    ),
    (
        "rule-turned-off",
        [],
        [settings("    severityOverrides:\n      lending-rules/monitoring-recommended: 'off'\n")],
        [
            (
                "policy-rule-softened",
                ERROR,
                "rule `lending-rules/monitoring-recommended` turned off by severityOverrides (was warning); "
                "flips 1 verdict (1 now pass)",
                PROJECT,
                12,
            )
        ],
    ),
    (
        # The rule's only finding is waived: no verdict flips, and it is still an error to lower it.
        "rule-softened-without-a-flip",
        [],
        [settings("    severityOverrides:\n      lending-rules/needs-validation-data: warning\n")],
        [
            (
                "policy-rule-softened",
                ERROR,
                "rule `lending-rules/needs-validation-data` softened by severityOverrides: error -> warning",
                PROJECT,
                12,
            )
        ],
    ),
    (
        "policy-softened",
        [],
        [settings("    severityOverrides:\n      lending-rules: info\n")],
        [
            (
                "policy-rule-softened",
                ERROR,
                "policy `lending-rules` softened by severityOverrides: `small-canary` error -> info, "
                "`needs-validation-data` error -> info, `monitoring-recommended` warning -> info; "
                "flips 1 verdict (1 now pass)",
                PROJECT,
                12,
            )
        ],
    ),
    (
        # Removing an override that raised a rule lowers it back: located where it was, in the base.
        "raising-override-removed",
        [settings("    severityOverrides:\n      lending-rules/monitoring-recommended: error\n")],
        [replace(PROJECT, "    severityOverrides:\n      lending-rules/monitoring-recommended: error\n", "")],
        [
            (
                "policy-rule-softened",
                ERROR,
                "rule `lending-rules/monitoring-recommended` softened by severityOverrides: error -> warning; "
                "flips 1 verdict (1 now pass)",
                PROJECT,
                12,
            )
        ],
    ),
    (
        "rule-raised-is-not-softened",
        [],
        [settings("    severityOverrides:\n      lending-rules/monitoring-recommended: error\n")],
        [
            (
                "policy-settings-changed",
                WARNING,
                "severity overrides or parameters changed for lending-rules: flips 1 verdict (1 now fail)",
                PROJECT,
                9,  # the first line of `spec.policies`
            )
        ],
    ),
    (
        "max-parameter-raised-by-the-project",
        [],
        [settings("    params:\n      lending-rules: {maxCanary: 30}\n")],
        [
            (
                "policy-param-loosened",
                ERROR,
                "parameter `lending-rules.maxCanary` loosened: 20 -> 30 (an upper bound)",
                PROJECT,
                12,
            )
        ],
    ),
    (
        "max-parameter-raised-in-the-policy",
        [],
        [replace(P, "maxCanary: 20", "maxCanary: 50")],
        [
            ("policy-changed", INFO, "changed: no verdict changes", P, 4),
            (
                "policy-param-loosened",
                ERROR,
                "parameter `lending-rules.maxCanary` loosened: 20 -> 50 (an upper bound)",
                P,
                12,
            ),
        ],
    ),
    (
        "max-parameter-lowered",
        [],
        [settings("    params:\n      lending-rules: {maxCanary: 5}\n")],
        [
            (
                "policy-settings-changed",
                WARNING,
                "severity overrides or parameters changed for lending-rules: flips 1 verdict (1 now fail)",
                PROJECT,
                9,  # the first line of `spec.policies`
            )
        ],
    ),
    (
        "fairness-bounds-loosened",
        [packs("fairness")],
        [settings("    params:\n      fairness-bounds:\n        maxDifference: 0.2\n        minRatio: 0.7\n")],
        [
            (
                "policy-param-loosened",
                ERROR,
                "parameter `fairness-bounds.maxDifference` loosened: 0.1 -> 0.2 (an upper bound)",
                PROJECT,
                13,
            ),
            (
                "policy-param-loosened",
                ERROR,
                "parameter `fairness-bounds.minRatio` loosened: 0.8 -> 0.7 (a lower bound)",
                PROJECT,
                14,
            ),
        ],
    ),
    (
        "parameter-of-unknown-direction",
        [replace(P, "    maxCanary: 20\n", "    maxCanary: 20\n    budget: 3\n")],
        [settings("    params:\n      lending-rules: {budget: 5}\n")],
        [
            (
                "policy-param-changed",
                WARNING,
                "parameter `lending-rules.budget` changed: 3 -> 5: its name does not say which way is looser; "
                "review it",
                PROJECT,
                12,
            )
        ],
    ),
    (
        "waiver-added",
        [],
        [lambda repo: write(repo, {"ml/waivers/scorer-monitoring.yaml": MONITORING_WAIVER})],
        [
            (
                "waiver-added",
                WARNING,
                "waiver `scorer-monitoring` added: waives `lending-rules/monitoring-recommended` on Model "
                "`scorer` until 2026-12-31; approved by bob, carol; flips 1 verdict (1 now pass)",
                "ml/waivers/scorer-monitoring.yaml",
                4,
            )
        ],
    ),
    (
        "waiver-extended",
        [],
        [replace(W, "expires: 2099-12-31", "expires: 2100-06-30")],
        [
            (
                "waiver-extended",
                WARNING,
                "waiver `scorer-validation` extended from 2099-12-31: waives `lending-rules/needs-validation-data` "
                "on Model `scorer` until 2100-06-30; approved by alice",
                W,
                14,
            )
        ],
    ),
    (
        "waiver-shortened",
        [],
        [replace(W, "expires: 2099-12-31", "expires: 2030-01-31")],
        [("waiver-changed", INFO, "changed: no verdict changes", W, 4)],
    ),
]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo")
    monkeypatch.chdir(root)
    return root


def plan_of(repo: Path, setup: list[Edit], change: list[Edit], **options: object) -> Plan:
    for step in setup:
        step(repo)
    commit(repo, "base")
    for step in change:
        step(repo)
    commit(repo, "head")
    return make_plan(repo / "ml", "HEAD~1", "HEAD", today=TODAY, **options)  # type: ignore[arg-type]


def hides(what: str, severity: Severity = WARNING, rule: str = "monitoring-recommended") -> str:
    return (
        f"{what}: it hides 1 finding ({severity.value} `lending-rules/{rule}` on Model `scorer`) that the base "
        "revision's governance raises on this change"
    )


# What the cross check adds (issue 21): the head's specs judged by the base's governance find what was hidden.
WEAKENED: dict[str, list[Expected]] = {
    "rule-turned-off": [
        (
            "governance-weakened",
            WARNING,
            hides("severity override `lending-rules/monitoring-recommended: off` set"),
            PROJECT,
            12,
        )
    ],
    "policy-softened": [
        ("governance-weakened", WARNING, hides("severity override `lending-rules: info` set"), PROJECT, 12)
    ],
    "raising-override-removed": [
        (
            "governance-weakened",
            ERROR,
            hides("severity override `lending-rules/monitoring-recommended: error` removed", ERROR),
            PROJECT,
            9,
        )
    ],
    "waiver-added": [
        (
            "governance-weakened",
            WARNING,
            hides("waiver `scorer-monitoring` added"),
            "ml/waivers/scorer-monitoring.yaml",
            4,
        )
    ],
}


@pytest.mark.parametrize(("case", "setup", "change", "expected"), CASES, ids=[case[0] for case in CASES])
def test_lowered_governance(
    repo: Path, case: str, setup: list[Edit], change: list[Edit], expected: list[Expected]
) -> None:
    plan = plan_of(repo, setup, change)
    # Both revisions are valid: what changes is governance, not syntax.
    assert [d.code for d in plan.base.result.diagnostics + plan.head.result.diagnostics if d.code < "CH400"] == []
    found = [(c.rule, c.severity, c.message, c.file, c.line) for c in plan.breaking]
    assert sorted(found, key=str) == sorted(expected + WEAKENED.get(case, []), key=str)


# (case, exit code by default and with --fail-on warning)
FAIL_ON = [
    ("pack-removed", (1, 1)),
    ("rule-turned-off", (1, 1)),
    ("max-parameter-raised-by-the-project", (1, 1)),
    # Every governance change needs an owner's approval, which only `charter github report` verifies.
    ("parameter-of-unknown-direction", (1, 1)),
    ("waiver-added", (1, 1)),
    ("waiver-extended", (1, 1)),
    ("waiver-shortened", (1, 1)),
]


@pytest.mark.parametrize(("case", "exits"), FAIL_ON, ids=[case[0] for case in FAIL_ON])
def test_fail_on(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
    exits: tuple[int, int],
) -> None:
    setup, change, expected = next((s, c, e) for name, s, c, e in CASES if name == case)
    # The head itself has no error finding: the exit code is the breaking changes'.
    assert not plan_of(repo, setup, change).head.blocked
    monkeypatch.setenv("CHARTER_TODAY", TODAY.isoformat())
    project = str(repo / "ml")
    assert run_cli(["plan", project, "--base", "HEAD~1", "--head", "HEAD"]) == exits[0]
    shown = capsys.readouterr().out
    assert all(rule in shown and message in shown for rule, _, message, _, _ in expected), shown
    assert run_cli(["plan", project, "--base", "HEAD~1", "--head", "HEAD", "--fail-on", "warning"]) == exits[1]
    assert run_cli(["plan", project, "--base", "HEAD~1", "--head", "HEAD", "--fail-on", "never"]) == 0
    capsys.readouterr()


def test_approvers_are_among_the_people_concerned(repo: Path) -> None:
    setup, change = next((s, c) for name, s, c, _ in CASES if name == "waiver-added")
    (added,) = [c for c in plan_of(repo, setup, change).breaking if c.rule == "waiver-added"]
    assert added.concerns == ("team-credit", "bob", "carol")
    assert [(f.policy, f.kind, f.name, f.before, f.after) for f in added.flips] == [
        ("lending-rules", "Model", "scorer", "warning", "pass")
    ]


def test_every_numeric_parameter_of_the_built_in_packs_says_which_way_is_looser() -> None:
    """A new pack parameter named neither `max...` nor `min...` would only ever get a review warning."""
    from ruamel.yaml import YAML

    from compiler.plan.governance import bound_direction
    from compiler.stages import builtin_packs, policy_files

    numeric = {}
    for directory in builtin_packs().values():
        for path in policy_files(directory):
            for document in YAML(typ="safe").load_all(path.read_text("utf-8")):
                for name, value in (document.get("spec", {}).get("params") or {}).items():
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        numeric[f"{document['metadata']['name']}.{name}"] = bound_direction(name)
    assert numeric == {
        "eu-ai-act-high-risk.minProductionApprovals": "lower",
        "fairness-bounds.maxDifference": "upper",
        "fairness-bounds.minGroupSize": "lower",
        "fairness-bounds.minRatio": "lower",
        "production-readiness.maxCanaryPercent": "upper",
        "production-readiness.minReplicas": "lower",
        "production-readiness-environments.minApprovals": "lower",
    }
