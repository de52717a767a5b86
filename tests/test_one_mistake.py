"""One mistake, one finding: a misspelt reference is not also judged by every policy that reads it (issue 25).

A misspelt suite in the credit example gave its CH401, four CH500 errors about a suite that is not there
and a false "scores the model on its own training contract"; the model's waiver then matched no finding.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compiler.stages import check_path

ROOT = Path(__file__).resolve().parent.parent


def test_a_misspelt_suite_is_one_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "credit"
    shutil.copytree(ROOT / "examples" / "credit-scoring", project)
    model = project / "models" / "credit-default.yaml"
    model.write_text(model.read_text("utf-8").replace("suite: credit-default-eval", "suite: credit-default-evl"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHARTER_TODAY", "2026-11-01")
    found = [
        (d.code, d.severity.value, Path(d.file).name, d.line, d.column) for d in check_path(Path("credit")).diagnostics
    ]
    assert found == [
        ("CH401", "error", "credit-default.yaml", 75, 12),
        # The suite itself is fine, and now used by nothing: an info, as before.
        ("CH408", "info", "credit-default-eval.yaml", 7, 9),
    ]


def test_the_same_project_spelt_right_is_judged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("CHARTER_TODAY", "2026-11-01")
    found = [(d.code, d.rule, d.waiver) for d in check_path(Path("examples/credit-scoring")).diagnostics]
    assert found == [("CH500", "independent-validation-data", "credit-default-validation-data")]
