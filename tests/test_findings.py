"""One finding type, one catalogue, one reporting package (issue 12).

Check findings, breaking changes and gate checks are all `Diagnostic`s with a
code the catalogue holds; a code it does not hold cannot be emitted through
Charter's constructors and fails a test wherever it is written in the source.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from test_gates_support import CREDIT, check_of, run_gate

from compiler.commands.cli import main
from compiler.core import exit_codes, markdown
from compiler.core.codes import CODES, UnknownCode, all_codes, lookup, registered
from compiler.core.diagnostics import Diagnostic, Severity
from compiler.core.gate_report import GateReport, check
from compiler.gates.data import synthetic
from compiler.plan.breaking import RULES
from compiler.plan.rules import Rule
from compiler.reporters import markdown as markdown_report
from compiler.reporters.findings import Report
from compiler.stages import check_path

ROOT = Path(__file__).resolve().parent.parent
COMPILER = ROOT / "compiler"
CODE_LITERAL = re.compile(r"CH\d{3}")


def _code_literals(folder: Path) -> dict[str, list[str]]:
    """Every string constant in Charter's source that is exactly a code, with where it is written."""
    found: dict[str, list[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE_LITERAL.fullmatch(node.value):
                found.setdefault(node.value, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_code_written_in_the_source_is_in_the_catalogue() -> None:
    unregistered = {code: places for code, places in _code_literals(COMPILER).items() if code not in CODES}
    assert unregistered == {}


def test_an_unregistered_code_cannot_be_emitted() -> None:
    with pytest.raises(UnknownCode):
        Diagnostic.of("CH999", "made up", "a.yaml")
    with pytest.raises(UnknownCode):
        Rule("CH999", ("Model",), lambda change, context: ())
    with pytest.raises(UnknownCode):
        check("CH999", "x.present", "`x` is present", "pass")
    with pytest.raises(UnknownCode):
        registered("no-such-rule")


def test_every_finding_of_the_cases_and_examples_has_a_catalogued_code() -> None:
    projects = sorted(p for p in (ROOT / "tests" / "cases").iterdir() if p.is_dir())
    projects += sorted(p.parent for p in (ROOT / "examples").glob("*/charter.yaml"))
    emitted = {d.code for project in projects for d in check_path(project).diagnostics}
    assert emitted, "the cases emit findings"
    assert emitted <= set(CODES), sorted(emitted - set(CODES))


def test_severity_comes_from_the_catalogue() -> None:
    assert Diagnostic.of("CH103", "document is empty", "a.yaml").severity is Severity.WARNING
    assert Diagnostic.of("CH200", "unknown field", "a.yaml").severity is Severity.ERROR
    # Where the design lets a severity be set (a policy rule's, an override), it is passed.
    assert Diagnostic.of("CH500", "x", "a.yaml", severity=Severity.INFO).severity is Severity.INFO


# --- breaking changes: CH6xx --------------------------------------------------------


def test_every_breaking_change_rule_has_a_ch6xx_code_named_by_its_rule_id() -> None:
    assert all(rule.code.startswith("CH6") for rule in RULES)
    # Plan codes that belong to no rule of one changed spec: the output directories of the head (compiler.plan.outputs),
    # the cross check's (CH690) and the approvals' (CH691).
    from compiler.plan.outputs import CODES as OUTPUT_CODES

    plan_codes = {rule.code for rule in RULES} | set(OUTPUT_CODES) | {"CH690", "CH691"}
    assert plan_codes == {code.id for code in all_codes() if code.id.startswith("CH6")}
    for rule in RULES:
        assert lookup(rule.id) is CODES[rule.code]
        assert rule.severity is CODES[rule.code].severity
    assert lookup("policy-pack-removed") is CODES["CH661"]


def test_every_gate_check_code_is_ch7xx() -> None:
    gate_codes = set(_code_literals(COMPILER / "gates"))
    assert gate_codes
    assert all(code.startswith("CH7") for code in gate_codes), sorted(gate_codes)
    assert gate_codes == {code.id for code in all_codes() if code.id.startswith("CH7")}


@pytest.mark.parametrize("key", ["CH661", "policy-pack-removed", "CH600", "CH700", "data-column-required", "CH740"])
def test_explain_covers_breaking_changes_and_gate_checks(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", key]) == exit_codes.OK
    out = capsys.readouterr().out
    code = registered(key)
    assert out.startswith(f"{code.id} {code.name} ({code.severity.value}): {code.title}\n")
    assert code.explanation in out


def test_explain_list_shows_every_family(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--list"]) == exit_codes.OK
    families = {line[:3] for line in capsys.readouterr().out.splitlines()}
    assert families == {"CH1", "CH2", "CH3", "CH4", "CH5", "CH6", "CH7", "CH8", "CH9"}


# --- gate checks are findings -------------------------------------------------------


def test_a_gate_check_is_a_finding_with_its_severity_from_its_status() -> None:
    failed = check("CH702", "income.required", "`income` required", "fail", target="income", value=3)
    warned = check("CH705", "income.quality[0]", "`income` nulls", "warn", target="income", value=1)
    passed = check("CH700", "income.present", "`income` is present", "pass", target="income")
    assert (failed.severity, warned.severity, passed.severity) == (Severity.ERROR, Severity.WARNING, Severity.INFO)
    report = GateReport("data", "headline", checks=[failed, warned, passed])
    assert report.verdict == "fail"
    assert report.exit_code == exit_codes.FINDINGS
    # Any reporter renders the checks, as any other findings.
    shown = markdown_report.render(Report(tuple(report.checks)))
    assert "CH702" in shown
    assert "CH705" in shown


def test_the_gate_report_names_each_checks_code(tmp_path: Path) -> None:
    data = synthetic.write(synthetic.credit_applications(60_000), tmp_path / "applications.parquet")
    argv = ["data", str(CREDIT), "--contract", "credit-applications", "--data", str(data)]
    _, report = run_gate([*argv, "--now", "2026-06-01T00:00:00Z"], tmp_path / "r.json")
    assert check_of(report, "defaulted.required")["code"] == "CH702"
    assert check_of(report, "application_id.unique")["code"] == "CH703"
    assert all(c["code"] in CODES for c in report["checks"])


# --- one Markdown escaper -----------------------------------------------------------


def test_one_markdown_escaper() -> None:
    from compiler.core import templating
    from compiler.plan import report as plan_report

    assert plan_report.md is markdown.text
    assert plan_report.code is markdown.code
    assert templating.markdown_text is markdown.card_text
    assert templating.code_span is markdown.card_code
    # No other module writes HTML entities or escapes table pipes itself.
    writers = [
        str(path.relative_to(ROOT))
        for path in COMPILER.rglob("*.py")
        if path.name != "markdown.py" and re.search(r"&lt;|&amp;|replace\(\"\|\"", path.read_text("utf-8"))
    ]
    assert writers == []


def test_gate_summaries_escape_like_comments() -> None:
    hostile = check("CH700", "x.present", "`x` <img src=y> @org | z\\", "fail", target="x", message="a\nb")
    from compiler.reporters.gate import markdown_summary

    summary = markdown_summary(GateReport("data", "h <b>", checks=[hostile]))
    assert "&lt;img src=y&gt; &#64;org \\| z\\\\" in summary
    assert "h &lt;b&gt;" in summary
    assert "| a b |" in summary


def test_markdown_is_a_findings_format() -> None:
    finding = Diagnostic("CH200", Severity.ERROR, "unknown field `replcas` <b>", "m.yaml", 3, 3)
    shown = markdown_report.render(Report((finding,), files_checked=1, specs_checked=1))
    assert shown.startswith("**1 error, 0 warnings, 0 infos** in 1 file.\n")
    assert "| error | CH200 | `m.yaml:3` | unknown field `replcas` &lt;b&gt; |" in shown


# --- plan JSON keeps its keys and gains what it dropped ------------------------------


def test_plan_json_keys_are_only_added() -> None:
    from compiler.reporters.json_format import breaking_json, finding_json

    finding = Diagnostic("CH200", Severity.ERROR, "m", "a.yaml", 1, 2, 1, 5, hint="h")
    keys = list(finding_json(finding))
    old = ["code", "severity", "message", "file", "line", "column", "path", "policy", "rule", "waiver"]
    assert set(old) <= set(keys)
    assert {"name", "endLine", "endColumn", "hint"} <= set(keys)
    change = Diagnostic.of("CH661", "pack removed", "charter.yaml", rule="policy-pack-removed", kind="Project")
    old = ["rule", "severity", "kind", "name", "message", "file", "line", "column", "path", "concerns", "flips", "note"]
    assert list(breaking_json(change))[: len(old)] == old
    assert json.loads(json.dumps(breaking_json(change)))["code"] == "CH661"


def test_exit_codes_are_defined_once() -> None:
    assert (exit_codes.OK, exit_codes.FINDINGS, exit_codes.USAGE) == (0, 1, 2)
    literal = re.compile(r"^\s*EXIT_\w+(, EXIT_\w+)* = \d", re.MULTILINE)
    assert [str(p.relative_to(ROOT)) for p in COMPILER.rglob("*.py") if literal.search(p.read_text("utf-8"))] == []


def test_findings_that_share_place_code_and_message_sort_the_same_whatever_their_order() -> None:
    """Two rules of one policy failing on one field with one message (found by the cache's tests: a cached
    check built its list in another order, and the tie came out the other way round)."""
    from compiler.core.diagnostics import Diagnostic, sort_diagnostics

    common = {"line": 38, "column": 7, "policy": "eu-ai-act-high-risk"}
    owner = Diagnostic.of("CH500", "the contract could not be resolved", "m.yaml", rule="data-owner", **common)
    quality = Diagnostic.of("CH500", "the contract could not be resolved", "m.yaml", rule="data-quality", **common)
    assert owner.sort_key() < quality.sort_key()  # a tie would leave the order to a set's iteration
    assert sort_diagnostics([owner, quality]) == sort_diagnostics([quality, owner]) == [owner, quality]
