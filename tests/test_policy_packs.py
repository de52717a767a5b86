"""Every built-in rule ships with passing and failing cases, and its docs are current."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from scripts_support import load_script

from compiler.commands.explain import builtin_policies, explain_policy
from compiler.commands.policy import file_evidence
from compiler.stages.policy.testing import CaseResult, case_files, run_file
from compiler.stages.read.load import load_file

ROOT = Path(__file__).resolve().parent.parent
PACKS = ROOT / "policies"
FILES = case_files(PACKS)


@pytest.mark.parametrize("test_file", FILES, ids=lambda p: p.relative_to(PACKS).as_posix())
def test_policy_cases_pass(test_file: Path) -> None:
    results = list(run_file(test_file, file_evidence))
    assert results
    failures = [_show(result) for result in results if not result.passed]
    assert failures == []


def _show(result: CaseResult) -> str:
    return f"{result.case}: problems={result.problems} missing={result.missing} unexpected={result.unexpected}"


def test_every_rule_has_a_failing_case_and_every_policy_a_passing_one() -> None:
    failing: dict[str, set[str]] = defaultdict(set)
    passing: set[str] = set()
    for test_file in FILES:
        data = load_file(test_file, test_file.name).documents[0].data
        for case in data["cases"]:
            expected = case.get("expect") or []
            if not expected:
                passing.add(data["policy"])
            failing[data["policy"]].update(item["rule"] for item in expected)
    for _, _, policy in builtin_policies():
        name = policy.metadata.name
        assert name in passing, f"{name} has no passing case"
        untested = {rule.name for rule in policy.spec.validations} - failing[name]
        assert not untested, f"{name}: rules without a failing case: {sorted(untested)}"


def test_every_rule_is_documented() -> None:
    for _, _, policy in builtin_policies():
        assert policy.spec.description, policy.metadata.name
        for rule in policy.spec.validations:
            where = f"{policy.metadata.name}/{rule.name}"
            assert rule.description, where
            assert rule.remediation, where
            assert rule.references, where
            assert rule.path, where
            assert rule.message or rule.message_expression, where


def test_docs_are_current() -> None:
    committed = (ROOT / "docs" / "policies.md").read_text("utf-8")
    assert committed == load_script("policy_docs").policies_markdown(), "docs/policies.md is stale: run `make docs`"


def test_explain_a_policy_rule() -> None:
    text = explain_policy("eu-ai-act-prohibited/unacceptable-risk")
    assert text is not None
    assert "No waiver can suspend this rule." in text
    assert "EU AI Act Art. 5" in text
    assert explain_policy("eu-ai-act-prohibited/no-such-rule") is None
