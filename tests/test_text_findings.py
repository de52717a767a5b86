"""Text and GitHub annotations name a policy's rule, and a waived finding reads as waived (issue 25)."""

from __future__ import annotations

from compiler.core.diagnostics import Diagnostic, Severity
from compiler.reporters import github, text
from compiler.reporters.findings import Report

E, W = Severity.ERROR, Severity.WARNING
SOURCE = {"models/credit.yaml": "kind: Model\nspec:\n  version: 1.2.0\n"}
EVIDENCE = Diagnostic(
    "CH500", E, "no evaluation evidence for version 1.2.0", "models/credit.yaml", 3, 12, 3, 17,
    policy="eu-ai-act-evidence", rule="evaluation-evidence", hint="run the evaluation gate",
)  # fmt: skip
WAIVED_WARNING = Diagnostic(
    "CH500", W, "no robustness metric", "models/credit.yaml", 3, 3,
    policy="eu-ai-act-high-risk", rule="robustness", waiver="robustness-later",
)  # fmt: skip


def test_a_policy_finding_names_policy_and_rule() -> None:
    out = text.render(Report((EVIDENCE,), 1, 1, SOURCE))
    assert out == (
        "models/credit.yaml:3:12: error[CH500 eu-ai-act-evidence/evaluation-evidence] "
        "no evaluation evidence for version 1.2.0\n"
        " 3 |   version: 1.2.0\n"
        "   |            ^~~~~\n"
        "  = hint: run the evaluation gate\n"
        "1 error, 0 warnings, 0 infos in 1 file.\n"
    )


def test_a_waived_warning_prints_and_counts_as_waived() -> None:
    out = text.render(Report((WAIVED_WARNING,), 1, 1, SOURCE))
    assert out.splitlines()[0] == (
        "models/credit.yaml:3:3: waived[CH500 eu-ai-act-high-risk/robustness] no robustness metric "
        "(a warning, waived by robustness-later)"
    )
    assert "warning[" not in out
    assert out.endswith("0 errors, 0 warnings, 0 infos (1 waived) in 1 file.\n")


def test_one_line_names_the_rule_and_the_waiver() -> None:
    assert text.one_line(EVIDENCE) == (
        "error[CH500 eu-ai-act-evidence/evaluation-evidence] models/credit.yaml:3:12: "
        "no evaluation evidence for version 1.2.0"
    )
    assert text.one_line(WAIVED_WARNING) == (
        "waived[CH500 eu-ai-act-high-risk/robustness] models/credit.yaml:3:3: no robustness metric "
        "(a warning, waived by robustness-later)"
    )


def test_spec_text_in_a_rule_name_cannot_drive_the_terminal() -> None:
    hostile = EVIDENCE.with_changes(policy="p\x1b[2J", rule="r\u202e")
    out = text.render(Report((hostile,), 1, 1, SOURCE))
    assert "\x1b" not in out
    assert "\u202e" not in out


def test_a_github_annotation_is_titled_with_policy_and_rule() -> None:
    (command, _summary) = github.render(Report((EVIDENCE,))).splitlines()
    assert command.startswith(
        "::error file=models/credit.yaml,line=3,col=12,endLine=3,endColumn=17,"
        "title=CH500 eu-ai-act-evidence/evaluation-evidence::"
    )
    assert github.annotation(EVIDENCE, "models/credit.yaml", 1000)["title"] == (
        "CH500 eu-ai-act-evidence/evaluation-evidence"
    )
