"""`charter explain` finds a policy rule by the name a finding shows, and suggests one for a typo."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.commands.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_explain_a_rule_by_its_name_alone(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "human-oversight"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("eu-ai-act-high-risk (pack eu-ai-act; applies to Model)\n")
    assert "  eu-ai-act-high-risk/human-oversight [error]\n" in out
    # Only that rule, not the policy's others.
    assert out.count("  eu-ai-act-high-risk/") == 1


def test_explain_the_name_a_text_finding_shows(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "eu-ai-act-evidence/evaluation-evidence"]) == 0
    assert "  eu-ai-act-evidence/evaluation-evidence [warning]\n    Why: " in capsys.readouterr().out


def test_a_misspelt_rule_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "human-oversigth"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "charter: unknown code, policy or rule `human-oversigth`; did you mean `human-oversight`? "
        "`charter explain --list` shows every code, docs/policies.md every policy\n"
    )


def test_a_code_name_typo_gets_a_suggestion_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "unknown-feild"]) == 2
    assert "did you mean `unknown-field`?" in capsys.readouterr().err


def test_explain_a_projects_own_rule(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The text format names `acme-lending-models/independent-validation-data`; explain finds it in the project."""
    monkeypatch.chdir(ROOT / "examples" / "credit-scoring")
    assert main(["explain", "independent-validation-data"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("acme-lending-models (from policies/acme-lending-models.yaml; applies to Model)\n")
    assert "  acme-lending-models/independent-validation-data [warning]\n" in out
    assert "    Fix: add `spec.data.validation` naming a validation data contract\n" in out


def test_explain_a_projects_rule_from_elsewhere_with_a_suggestion(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    project = "examples/credit-scoring"
    assert main(["explain", "acme-lending-models/independent-validation-data", "--project", project]) == 0
    assert "(from examples/credit-scoring/policies/acme-lending-models.yaml;" in capsys.readouterr().out
    assert main(["explain", "acme-lending-models/independent-validation-dat", "--project", project]) == 2
    assert "did you mean `acme-lending-models/independent-validation-data`?" in capsys.readouterr().err
