"""`--format junit` as Jenkins reads it: valid against junit-10.xsd (tests/junit/), one name per testcase."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from checkout import copy_project

from compiler.commands.cli import main
from compiler.core.diagnostics import Diagnostic, Severity
from compiler.reporters import junit
from compiler.reporters.findings import Report

ROOT = Path(__file__).resolve().parent.parent
XSD = xmlschema.XMLSchema10(str(ROOT / "tests" / "junit" / "junit-10.xsd"))
E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO


def schema_errors(xml: str) -> list[str]:
    return [f"{error.path}: {error.reason}" for error in XSD.iter_errors(xml)]


def on_one_field(severity: Severity, message: str, rule: str, waiver: str | None = None) -> Diagnostic:
    policy, _, name = rule.partition("/")
    return Diagnostic(
        "CH500", severity, message, "models/credit.yaml", 75, 12, path=("spec", "evaluation", "suite"),
        policy=policy, rule=name, waiver=waiver,
    )  # fmt: skip


# Four rules of three policies fail on one field of one model, one of them waived; two findings that
# share code, position and path; a finding with no position; one about the run. Each is a testcase.
FINDINGS = (
    on_one_field(E, "no evaluation evidence", "eu-ai-act-evidence/evaluation-evidence"),
    on_one_field(E, "suite scores its own training data", "eu-ai-act-high-risk/independent-test-data"),
    on_one_field(W, "no robustness metric", "eu-ai-act-high-risk/robustness", waiver="robustness-later"),
    on_one_field(E, "no fairness check", "fairness-bounds/fairness-checked"),
    Diagnostic("CH201", E, "missing required field `data` in `spec`", "models/credit.yaml", 4, 1, path=("spec",)),
    Diagnostic("CH201", E, "missing required field `training` in `spec`", "models/credit.yaml", 4, 1,
               path=("spec",)),
    Diagnostic("CH408", I, "not used by any model", "suites/x y.yaml"),
    Diagnostic("CH901", W, "No spec files found", ""),
)  # fmt: skip


def test_every_format_of_finding_is_valid_junit() -> None:
    xml = junit.render(Report(FINDINGS, 2, 2))
    assert schema_errors(xml) == []
    root = ET.fromstring(xml.encode())
    assert "skipped" not in root.attrib
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("8", "5", "0")
    suites = {suite.get("name"): suite for suite in root}
    assert suites["models/credit.yaml"].get("skipped") == "1"
    assert suites["suites/x y.yaml"].get("skipped") == "0"


def test_testcase_names_are_unique_and_name_the_rule() -> None:
    root = ET.fromstring(junit.render(Report(FINDINGS)).encode())
    names = [case.get("name") for case in root.iter("testcase")]
    assert names == [
        "CH500 eu-ai-act-evidence/evaluation-evidence 75:12 spec.evaluation.suite",
        "CH500 eu-ai-act-high-risk/independent-test-data 75:12 spec.evaluation.suite",
        "CH500 eu-ai-act-high-risk/robustness 75:12 spec.evaluation.suite",
        "CH500 fairness-bounds/fairness-checked 75:12 spec.evaluation.suite",
        "CH201 4:1 spec",
        "CH201 4:1 spec #2",
        "CH408",
        "CH901",
    ]


def test_a_clean_run_is_valid_junit() -> None:
    assert schema_errors(junit.render(Report(()))) == []


@pytest.mark.parametrize("project", ["tests/cases/demo-broken", "examples/credit-scoring"])
def test_charter_check_writes_valid_junit(
    project: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    copy_project(project, tmp_path / "checkout")  # the check writes its cache beside the project
    monkeypatch.chdir(tmp_path / "checkout")
    out = tmp_path / "report.xml"
    main(["check", project, "--format", "junit", "--output", str(out)])
    capsys.readouterr()
    xml = out.read_text("utf-8")
    assert schema_errors(xml) == []
    names = [(case.get("classname"), case.get("name")) for case in ET.fromstring(xml.encode()).iter("testcase")]
    assert len(names) == len(set(names))


def test_the_schema_is_the_vendored_jenkins_file() -> None:
    """The oracle is the file the README names, unedited (its hash), and it still refuses what Charter wrote."""
    import hashlib

    data = (ROOT / "tests" / "junit" / "junit-10.xsd").read_bytes()
    assert hashlib.sha256(data).hexdigest() == "a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6"
    old = '<testsuites name="charter" tests="1" failures="0" errors="0" skipped="0"><testsuite name="x" tests="0" '
    old += 'failures="0" errors="0" /></testsuites>'
    assert schema_errors(old) == ["/testsuites: 'skipped' attribute not allowed for element"]
