"""`charter check --changed-since REV`: the affected objects, and exactly a full check's findings on them.

Three properties, for every kind of change:

1. the scope is what changed, what refers to it, what a changed model or
   waiver sees, and what a changed policy matches (written out by hand below);
2. the changed-only findings are exactly the full check's findings on the
   files of those objects (one spec per file in the fixture, so the file is
   an independent oracle for "on the affected objects");
3. nothing outside the scope changed: its findings at REV and now are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from test_plan_fixtures import REGION, TODAY, edit, git, make_repo, write

from compiler.core.diagnostics import Diagnostic, exit_code
from compiler.integrations.gitops.git import GitError
from compiler.integrations.gitops.scope import FILE, changed_scope, in_scope, restrict_to_changes
from compiler.integrations.gitops.snapshot import at_revision
from compiler.stages import check_path

A = "ml/contracts/applications.odcs.yaml"
H = "ml/contracts/holdout.odcs.yaml"
M = "ml/models/scorer.yaml"
S = "ml/suites/scorer-eval.yaml"
STAGE = "ml/environments/staging.yaml"
PROD = "ml/environments/production.yaml"
W = "ml/waivers/scorer-validation.yaml"
P = "org-policies/lending.yaml"

FILES = {
    ("DataContract", "applications"): A,
    ("DataContract", "holdout"): H,
    ("Model", "scorer"): M,
    ("EvaluationSuite", "scorer-eval"): S,
    ("Environment", "staging"): STAGE,
    ("Environment", "production"): PROD,
    ("Waiver", "scorer-validation"): W,
    ("Policy", "lending-rules"): P,
    ("Model", "second"): "ml/models/second.yaml",
}
SECOND_MODEL = (
    (Path(__file__).parent / "test_plan_fixtures.py")
    .read_text("utf-8")
    .split('MODEL = """\\\n', 1)[1]
    .split('"""', 1)[0]
)

CASES: list[tuple[str, Callable[[Path], None], set[tuple[str, str]]]] = [
    (
        "a contract column a feature needs is removed",
        lambda r: edit(
            r,
            A,
            REGION,
            "",
        ),
        {("DataContract", "applications"), ("Model", "scorer"), ("Waiver", "scorer-validation")},
    ),
    (
        "the holdout contract changes",
        lambda r: edit(r, H, "      - name: income\n        logicalType: number\n", ""),
        {
            ("DataContract", "holdout"),
            ("EvaluationSuite", "scorer-eval"),
            ("Model", "scorer"),
            ("Waiver", "scorer-validation"),
        },
    ),
    (
        "the holdout contract is deleted",
        lambda r: write(r, {H: None}),
        {
            ("DataContract", "holdout"),
            ("EvaluationSuite", "scorer-eval"),
            ("Model", "scorer"),
            ("Waiver", "scorer-validation"),
        },
    ),
    (
        "the model changes task (its suite's metrics no longer fit)",
        lambda r: edit(r, M, "task: binary-classification", "task: regression"),
        {
            ("Model", "scorer"),
            ("DataContract", "applications"),
            ("EvaluationSuite", "scorer-eval"),
            ("Environment", "staging"),
            ("Environment", "production"),
            ("Waiver", "scorer-validation"),
        },
    ),
    (
        "an environment changes",
        lambda r: edit(r, STAGE, "approvals: 1", "approvals: 0"),
        {
            ("Environment", "staging"),
            ("Environment", "production"),
            ("Model", "scorer"),
            ("Waiver", "scorer-validation"),
        },
    ),
    (
        "a policy in a directory outside the project changes",
        lambda r: edit(r, P, "maxCanary: 20", "maxCanary: 5"),
        {("Policy", "lending-rules"), ("Model", "scorer"), ("Waiver", "scorer-validation")},
    ),
    (
        "a waiver is removed",
        lambda r: write(r, {W: None}),
        {("Waiver", "scorer-validation"), ("Model", "scorer"), ("Policy", "lending-rules")},
    ),
    (
        "a suite is loosened",
        lambda r: edit(r, S, "min: 0.8", "min: 0.5"),
        {("EvaluationSuite", "scorer-eval"), ("Model", "scorer"), ("Waiver", "scorer-validation")},
    ),
    (
        "a new model is added",
        lambda r: write(
            r,
            {
                "ml/models/second.yaml": SECOND_MODEL.replace("name: scorer", "name: second").replace(
                    "trafficPercent: 10", "trafficPercent: 50"
                )
            },
        ),
        {
            ("Model", "second"),
            ("DataContract", "applications"),
            ("EvaluationSuite", "scorer-eval"),
            ("Environment", "staging"),
            ("Environment", "production"),
            ("Model", "scorer"),
            ("Waiver", "scorer-validation"),
        },
    ),
    ("nothing changes", lambda r: None, set()),
]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo")
    monkeypatch.chdir(root)
    monkeypatch.setenv("CHARTER_TODAY", TODAY.isoformat())
    return root


def _identity(d: Diagnostic) -> tuple[object, ...]:
    return (d.code, d.severity, d.file, d.path, d.message, d.policy, d.rule, d.waiver)


@pytest.mark.parametrize(("case", "change", "affected"), CASES, ids=[case[0] for case in CASES])
def test_changed_only_equals_a_full_check_on_the_affected_objects(
    repo: Path, case: str, change: Callable[[Path], None], affected: set[tuple[str, str]]
) -> None:
    before = at_revision(repo / "ml", "HEAD", TODAY, outputs=False).result
    change(repo)
    full = check_path(repo / "ml")
    scope = changed_scope(repo / "ml", "HEAD", head=full)
    assert scope is not None
    assert {key for key in scope if key[0] != FILE} == affected
    files = {FILES[key] for key in affected}
    assert {key[1] for key in scope if key[0] == FILE} <= files
    # 2. exactly the full check's findings on the affected objects
    changed_only = in_scope(full, scope)
    assert changed_only == [d for d in full.diagnostics if d.file in files]
    # 3. outside the scope, nothing moved
    outside_now = sorted((_identity(d) for d in full.diagnostics if d.file not in files), key=repr)
    outside_then = sorted((_identity(d) for d in before.diagnostics if d.file not in files), key=repr)
    assert outside_now == outside_then


def test_errors_in_what_refers_to_a_change_are_found(repo: Path) -> None:
    """Removing a column a model uses breaks the model, not the contract: the model is reported."""
    edit(
        repo,
        A,
        REGION,
        "",
    )
    result = restrict_to_changes(check_path(repo / "ml"), "HEAD")
    assert [(d.code, d.file) for d in result.diagnostics if not d.suppressed and d.severity.value == "error"] == [
        ("CH402", M)
    ]
    assert exit_code(result.diagnostics) == 1


def test_unrelated_errors_are_left_out(repo: Path) -> None:
    write(repo, {"ml/extra/bad.yaml": "kind: Model\nspec: [1\n"})
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "a broken file")
    edit(repo, H, "      - name: income\n        logicalType: number\n", "")
    full = check_path(repo / "ml")
    assert [d.code for d in full.diagnostics if d.severity.value == "error" and not d.suppressed] == ["CH100"]
    narrowed = restrict_to_changes(full, "HEAD")
    assert {d.file for d in narrowed.diagnostics} == {M}  # the waived finding and the warning on the model
    assert exit_code(narrowed.diagnostics) == 0


def test_syntax_errors_in_changed_files_are_reported(repo: Path) -> None:
    write(repo, {"ml/models/broken.yaml": "kind: Model\nspec: [1\n"})
    full = check_path(repo / "ml")
    result = in_scope(full, changed_scope(repo / "ml", "HEAD", head=full))
    assert [d.code for d in result] == ["CH100"]


def test_a_project_change_means_a_full_check(repo: Path) -> None:
    edit(repo, "ml/charter.yaml", "owner: team-ml", "owner: team-ml-2")
    full = check_path(repo / "ml")
    assert changed_scope(repo / "ml", "HEAD", head=full) is None
    assert in_scope(full, None) == full.diagnostics


def test_unknown_revision(repo: Path) -> None:
    with pytest.raises(GitError, match="unknown revision"):
        changed_scope(repo / "ml", "no-such-branch")


def test_a_file_path_is_checked_in_full(repo: Path) -> None:
    assert changed_scope(repo / M, "HEAD") is None
