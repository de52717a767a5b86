"""One mistake, one finding: a misspelt reference is not also judged by every policy that reads it (issue 25).

The cases `tests/cases/one-mistake-*` hold one mistake each in the credit example; these tests cover what a
case cannot: the cached check.

A misspelt suite in the credit example gave its CH401, four CH500 errors about a suite that is not there
and a false "scores the model on its own training contract"; the model's waiver then matched no finding.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compiler.core.cache import MemoryStore
from compiler.stages import Checked, check_path

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
    # Not also "no model uses evaluation suite `credit-default-eval`": the misspelt reference evidently means it.
    assert found == [("CH401", "error", "credit-default.yaml", 75, 12)]


def test_the_same_project_spelt_right_is_judged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("CHARTER_TODAY", "2026-11-01")
    found = [(d.code, d.rule, d.waiver) for d in check_path(Path("examples/credit-scoring")).diagnostics]
    assert found == [("CH500", "independent-validation-data", "credit-default-validation-data")]


def _findings(checked: Checked) -> list[tuple[str, str, int, int]]:
    return [(d.code, Path(d.file).name, d.line, d.column) for d in checked.diagnostics]


def test_a_cached_check_knows_the_invalid_suite_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache reads again only what changed: an edit of the model must still find its suite present but
    invalid (not "no EvaluationSuite named ..."), and mending the suite must judge the model again."""
    project = tmp_path / "credit"
    shutil.copytree(ROOT / "examples" / "credit-scoring", project, ignore=shutil.ignore_patterns(".charter"))
    suite = project / "suites" / "credit-default-eval.yaml"
    valid = suite.read_text("utf-8")
    suite.write_text(valid.replace("      max: 0.12", '      max: "0.12"', 1), "utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHARTER_TODAY", "2026-11-01")
    store = MemoryStore()
    one = [("CH202", "credit-default-eval.yaml", 26, 12)]
    assert _findings(check_path(Path("credit"), cache=store)) == one
    model = project / "models" / "credit-default.yaml"
    model.write_text(model.read_text("utf-8") + "# an edit elsewhere in the model\n", "utf-8")
    assert _findings(check_path(Path("credit"), cache=store)) == one
    assert _findings(check_path(Path("credit"))) == one
    suite.write_text(valid, "utf-8")
    judged = [("CH500", "credit-default.yaml", 37, 5)]  # the waived finding the example shows
    assert _findings(check_path(Path("credit"), cache=store)) == judged
    assert _findings(check_path(Path("credit"))) == judged


def test_a_pinned_version_the_invalid_contract_is_not_is_still_dangling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a reference that means the failed document is spared its CH401: the model pins 9.9.9 of a contract
    whose one document, version 2.3.0, failed validation; that reference names nothing either way."""
    project = tmp_path / "credit"
    shutil.copytree(ROOT / "examples" / "credit-scoring", project, ignore=shutil.ignore_patterns(".charter"))
    contract = project / "contracts" / "credit-applications.odcs.yaml"
    contract.write_text(contract.read_text("utf-8").replace("logicalType: string", "logicalType: strin", 1), "utf-8")
    model = project / "models" / "credit-default.yaml"
    text = model.read_text("utf-8")
    training = '    training:\n      contract: credit-applications\n      version: "2.3.0"\n'
    assert text.count(training) == 1
    model.write_text(text.replace(training, training.replace("2.3.0", "9.9.9")), "utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHARTER_TODAY", "2026-11-01")
    found = [(d.code, Path(d.file).name, d.line, d.column, d.message) for d in check_path(Path("credit")).diagnostics]
    assert [finding[:4] for finding in found] == [
        ("CH203", "credit-applications.odcs.yaml", 67, 22),
        # The second change, the pin, is a change of the model too: its evidence measured another model.
        ("CH822", "eval.json", 557, 25),
        ("CH401", "credit-default.yaml", 38, 17),
    ]
    assert found[2][4] == "no data contract with id or name `credit-applications` version `9.9.9`"
