"""A pack finding about several items names them all, not "(2 more missing)" (issue 25).

The findings name the first item, then the others: all of them up to five, then "and N others". Each
scenario is a mistake a user makes in the credit example, with every pack on.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from compiler.stages import check_path

ROOT = Path(__file__).resolve().parent.parent


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text("utf-8")
    assert text.count(old) == count, old
    path.write_text(text.replace(old, new), "utf-8")


def _no_training_resources(project: Path) -> None:
    resources = '    resources: {requests: {cpu: "4", memory: 16Gi}, limits: {cpu: "8", memory: 32Gi}}\n'
    _edit(project / "models" / "credit-default.yaml", resources + "    timeoutMinutes: 180", "    timeoutMinutes: 180")


def _no_sensitive_features(project: Path) -> None:
    listed = "  sensitiveFeatures:\n    - gender\n    - age_band\n    - marital_status\n"
    _edit(project / "models" / "credit-default.yaml", listed, "")


def _loose_differences(project: Path) -> None:
    _edit(project / "suites" / "credit-default-eval.yaml", "      max: 0.1\n", "      max: 0.5\n", count=6)


def _pii_internal(project: Path) -> None:
    _edit(
        project / "contracts" / "credit-applications.odcs.yaml",
        "classification: restricted",
        "classification: internal",
        count=3,
    )


SCENARIOS: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "four resources, three more named": (
        _no_training_resources,
        "production-readiness/training-resources",
        "training declares no `requests.cpu` (3 more missing: `requests.memory`, `limits.cpu`, `limits.memory`); "
        "set CPU and memory requests and limits",
    ),
    "three protected attributes": (
        _no_sensitive_features,
        "fairness-protected-attributes/sensitive-features-cover-protected",
        "protected attribute `gender` of contract `credit-applications` is not in spec.sensitiveFeatures "
        "(2 more missing: `age_band`, `marital_status`)",
    ),
    "six loose bounds: four named, one counted": (
        _loose_differences,
        "fairness-bounds/difference-bound",
        "`demographic_parity_difference` on `gender` allows a gap up to 0.5, above the organisation's 0.1 "
        "(5 more loose difference bounds: `equalized_odds_difference` on `gender`, "
        "`demographic_parity_difference` on `age_band`, `equalized_odds_difference` on `age_band`, "
        "`demographic_parity_difference` on `marital_status` and 1 other)",
    ),
    "columns named with their table": (
        _pii_internal,
        "data-governance-contracts/pii-classified",
        "PII column `applications.applicant_name` is classified `internal`, not confidential or restricted "
        "(2 more: `applications.email`, `applications.national_id`)",
    ),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_other_items_are_named(scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mistake, rule, message = SCENARIOS[scenario]
    project = tmp_path / "credit"
    shutil.copytree(ROOT / "examples" / "credit-scoring", project, ignore=shutil.ignore_patterns(".charter"))
    mistake(project)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHARTER_TODAY", "2026-11-01")
    found = [d.message for d in check_path(Path("credit")).diagnostics if f"{d.policy}/{d.rule}" == rule]
    assert found == [message]
