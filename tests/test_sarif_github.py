"""SARIF that GitHub code scanning keeps: checked with the SARIF Multitool and the SARIF 2.1.0 schema it ships.

The Multitool (npm `@microsoft/sarif-multitool-linux`, pinned in package.json) validates a log against the
schema and against GitHub's ingestion rules (`--rule-kind Gh`: GH2012 is a rule without `help`). GitHub's
documented limits are checked here as well: at most 25,000 results per run, and an alert's identity (rule
and fingerprint) unique per result.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from checkout import copy_project

from compiler.commands.cli import main
from compiler.core.diagnostics import Diagnostic, Severity
from compiler.reporters import sarif
from compiler.reporters.findings import Report
from compiler.reporters.rules import RuleHelp

ROOT = Path(__file__).resolve().parent.parent
MULTITOOL_DIR = ROOT / "node_modules" / "@microsoft" / "sarif-multitool-linux"
MULTITOOL = MULTITOOL_DIR / "Sarif.Multitool"
OFFICIAL_SCHEMA = MULTITOOL_DIR / "sarif-2.1.0.json"
E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO


def needs_multitool() -> None:
    """Skip without the Multitool, except under `make test` and CI, where every oracle must run."""
    if MULTITOOL.is_file():
        return
    reason = f"SARIF Multitool not installed ({MULTITOOL}); run `npm ci`"
    if os.environ.get("CHARTER_REQUIRE_ORACLES") or os.environ.get("CI"):
        pytest.fail(f"oracle unavailable, but this run requires every oracle: {reason}")
    pytest.skip(reason)


def multitool_findings(log: Path) -> list[tuple[str, str, str]]:
    """(rule id, level, message) for everything the Multitool finds wrong with `log`, GitHub's rules included."""
    out = log.with_suffix(".validation.sarif")
    done = subprocess.run(
        [str(MULTITOOL), "validate", str(log), "--rule-kind", "Gh;Sarif", "--max-file-size-in-kb", "102400",
         "-o", str(out), "--log", "ForceOverwrite"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert out.is_file(), done.stdout + done.stderr
    (run,) = json.loads(out.read_text("utf-8-sig"))["runs"]
    return [
        (result["ruleId"], result.get("level", "warning"), json.dumps(result["message"]))
        for result in run.get("results", [])
    ]


def official_schema_errors(log: dict[str, Any]) -> list[str]:
    schema = json.loads(OFFICIAL_SCHEMA.read_text("utf-8-sig"))
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(log)]


def sarif_of(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, Any]]:
    monkeypatch.chdir(path.parent)
    out = tmp_path / f"{path.name}.sarif"
    main(["check", path.name, "--format", "sarif", "--output", str(out)])
    return out, json.loads(out.read_text("utf-8"))


TWIN_MODELS = """\
apiVersion: charter/v1alpha1
kind: Model
metadata: {name: churn, owner: team-growth}
spec: {tsk: binary-classification}
---
apiVersion: charter/v1alpha1
kind: Model
metadata: {name: upsell, owner: team-growth}
spec: {tsk: binary-classification}
"""
PROJECT = """\
apiVersion: charter/v1alpha1
kind: Project
metadata: {name: twins}
spec:
  policies: {packs: []}
"""


@pytest.fixture
def twins(tmp_path: Path) -> Path:
    """Two Model documents in one file with the same typo: the same findings, twice."""
    project = tmp_path / "twins"
    project.mkdir()
    (project / "charter.yaml").write_text(PROJECT, "utf-8")
    (project / "models.yaml").write_text(TWIN_MODELS, "utf-8")
    return project


def fingerprints(log: dict[str, Any]) -> list[str]:
    return [result["partialFingerprints"]["charter/v2"] for result in log["runs"][0]["results"]]


def test_one_typo_in_two_documents_gives_one_alert_each(
    twins: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, log = sarif_of(twins, tmp_path, monkeypatch)
    results = log["runs"][0]["results"]
    assert len(results) >= 4
    assert len(results) % 2 == 0
    assert len(set(fingerprints(log))) == len(results)
    # An unrelated edit above both documents moves every line but no alert.
    (twins / "models.yaml").write_text("# owned by team-growth\n\n" + TWIN_MODELS, "utf-8")
    _, moved = sarif_of(twins, tmp_path, monkeypatch)
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in moved["runs"][0]["results"]] == [
        r["locations"][0]["physicalLocation"]["region"]["startLine"] + 2 for r in results
    ]
    assert fingerprints(moved) == fingerprints(log)


def test_two_rules_with_one_message_are_two_alerts() -> None:
    same = {"message": "the model has no owner", "file": "m.yaml", "line": 3, "column": 1, "path": ("metadata",)}
    first = Diagnostic("CH500", E, policy="acme", rule="owner-named", **same)  # type: ignore[arg-type]
    second = Diagnostic("CH500", E, policy="acme", rule="owner-is-a-team", **same)  # type: ignore[arg-type]
    log = json.loads(sarif.render(Report((first, second), tool_version="0.1.0")))
    (run,) = log["runs"]
    assert [r["ruleId"] for r in run["results"]] == ["CH500/acme/owner-named", "CH500/acme/owner-is-a-team"]
    assert len(set(fingerprints(log))) == 2


def test_a_policy_finding_names_its_rule_with_the_policys_help(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, log = sarif_of(copy_project("examples/credit-scoring", tmp_path / "checkout"), tmp_path, monkeypatch)
    (run,) = log["runs"]
    (result,) = run["results"]
    assert result["ruleId"] == "CH500/acme-lending-models/independent-validation-data"
    rule = run["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert rule["id"] == result["ruleId"]
    assert rule["shortDescription"]["text"] == (
        "acme-lending-models/independent-validation-data: A policy rule does not hold"
    )
    assert rule["defaultConfiguration"] == {"level": "warning"}
    assert rule["help"]["text"] == (
        "Hyper-parameters chosen on the training data overfit it; a separate validation contract makes the split "
        "reviewable.\n\nFix: add `spec.data.validation` naming a validation data contract\n\nReferences: Acme Model "
        "Risk Standard MRS-3.1; EU AI Act Art. 10(1) (training, validation and testing data sets)\n\n"
        "`charter explain acme-lending-models/independent-validation-data` prints this rule's documentation."
    )
    # An organisation's own policy is documented in its own file; Charter's docs have a page per code.
    assert rule["helpUri"] == "https://github.com/charter-dev/charter/blob/main/docs/codes.md#ch500"


def test_a_builtin_rule_links_to_its_policy_page() -> None:
    finding = Diagnostic(
        "CH500", E, "no evaluation evidence", "m.yaml", 4, 3, policy="eu-ai-act-evidence", rule="evaluation-evidence"
    )
    uri = "https://github.com/charter-dev/charter/blob/main/docs/policies.md#eu-ai-act-evidence"
    known = {"eu-ai-act-evidence/evaluation-evidence": RuleHelp(E, "Evidence first.", "run the gate", (), uri)}
    (rule,) = json.loads(sarif.render(Report((finding,), rules=known)))["runs"][0]["tool"]["driver"]["rules"]
    assert rule["helpUri"] == uri
    assert rule["help"]["text"] == (
        "Evidence first.\n\nFix: run the gate\n\n"
        "`charter explain eu-ai-act-evidence/evaluation-evidence` prints this rule's documentation."
    )


@pytest.mark.parametrize("project", ["examples/credit-scoring", "tests/cases/demo-broken"])
def test_the_multitool_finds_nothing_for_github_to_refuse(
    project: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    needs_multitool()
    path, log = sarif_of(copy_project(project, tmp_path / "checkout"), tmp_path, monkeypatch)
    assert log["runs"][0]["results"]
    assert official_schema_errors(log) == []
    assert multitool_findings(path) == []


def test_the_multitool_would_have_refused_rules_without_help(tmp_path: Path) -> None:
    """The oracle is awake: the rule Charter's SARIF used to fail (GH2012) still fires on such a log."""
    needs_multitool()
    log = json.loads(sarif.render(Report((Diagnostic("CH200", E, "x", "a.yaml", 1, 1),), tool_version="0.1.0")))
    del log["runs"][0]["tool"]["driver"]["rules"][0]["help"]
    path = tmp_path / "no-help.sarif"
    path.write_text(json.dumps(log), "utf-8")
    assert [(rule, level) for rule, level, _ in multitool_findings(path)] == [("GH2012", "error")]


def many(count: int) -> tuple[Diagnostic, ...]:
    """`count` findings in one file, six per document, every third an error, then warnings and infos."""
    severities = (I, W, E)
    return tuple(
        Diagnostic("CH200", severities[i % 3], f"Unknown field `f{i % 6}`", "many.yaml", i + 1, 1, document=i // 6)
        for i in range(count)
    )


def test_a_run_stays_under_githubs_limit_and_says_what_it_left_out() -> None:
    findings = many(26_004)
    log = json.loads(sarif.render(Report(findings, tool_version="0.1.0")))
    (run,) = log["runs"]
    results = run["results"]
    assert len(results) == 25_000
    assert len(set(fingerprints(log))) == 25_000
    levels = [r["level"] for r in results]
    assert (levels.count("error"), levels.count("warning"), levels.count("note")) == (8_668, 8_668, 7_664)
    assert run["properties"] == {"findings": 26_004, "findingsLeftOut": 1_004}
    (notification,) = run["invocations"][0]["toolExecutionNotifications"]
    assert notification["descriptor"] == {"id": "CH940"}
    assert notification["message"]["text"] == (
        "1004 of 26004 findings left out (1004 note): GitHub code scanning accepts at most 25,000 results per run, "
        "so this log keeps the most severe. Every finding: `charter check --format json` (or `--format text`)."
    )
    # Kept results stay in report order.
    lines = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results]
    assert lines == sorted(lines)


def test_a_truncated_log_is_valid(tmp_path: Path) -> None:
    needs_multitool()
    log = json.loads(sarif.render(Report(many(30), tool_version="0.1.0"), max_results=20))
    assert len(log["runs"][0]["results"]) == 20
    assert official_schema_errors(log) == []
    path = tmp_path / "truncated.sarif"
    path.write_text(json.dumps(log), "utf-8")
    assert multitool_findings(path) == []


def test_the_multitool_is_the_pinned_package() -> None:
    needs_multitool()
    pinned = json.loads((ROOT / "package.json").read_text("utf-8"))["devDependencies"]
    locked = json.loads((ROOT / "package-lock.json").read_text("utf-8"))["packages"]
    assert (
        locked["node_modules/@microsoft/sarif-multitool-linux"]["version"]
        == (pinned["@microsoft/sarif-multitool-linux"])
    )
    installed = json.loads((MULTITOOL_DIR / "package.json").read_text("utf-8"))["version"]
    assert installed == pinned["@microsoft/sarif-multitool-linux"]
