"""Evidence: gate reports say what they judged, `charter evidence record` files them, `check` reads them back."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from test_gates_support import CREDIT, ROOT

from compiler.commands.cli import main
from compiler.core.canonical import canonical
from compiler.evidence.digest import judged_by_model
from compiler.gates.data import synthetic
from compiler.stages import check_path

COMMIT = "0123456789abcdef0123456789abcdef01234567"
SCHEMA = json.loads((ROOT / "schemas" / "evidence.schema.json").read_text("utf-8"))
Capture = pytest.CaptureFixture[str]
RECORD = "evidence/credit-default/3.2.0/eval.json"


@pytest.fixture(scope="module")
def predictions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("predictions")
    return synthetic.write(synthetic.predictions(20_000, seed=5, separation=1.8), folder / "predictions.parquet")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "credit"
    shutil.copytree(CREDIT, copy, ignore=shutil.ignore_patterns("evidence", ".charter"))
    return copy


def _evaluate(project: Path, predictions: Path, report: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("GITHUB_SHA", COMMIT)
    argv = ["gate", "eval", str(project), "--model", "credit-default", "--predictions", str(predictions)]
    assert main([*argv, "--report", str(report), "--summary", str(report.with_suffix(".md"))]) in (0, 1)
    data: dict[str, Any] = json.loads(report.read_text("utf-8"))
    return data


def test_an_eval_report_names_the_model_version_commit_and_digests(
    project: Path, predictions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = _evaluate(project, predictions, tmp_path / "eval.json", monkeypatch)
    judged = report["judged"]
    assert (judged["model"], judged["version"], judged["commit"]) == ("credit-default", "3.2.0", COMMIT)
    assert list(judged["parts"]) == ["model", "model-identity", "suite", "training-data", "evaluation-data", "policies"]
    # Each part is the SHA-256 of the spec's data, the whole digest that of the parts.
    checked = check_path(project)
    assert checked.resolved is not None
    suite = checked.resolved.get("EvaluationSuite", "credit-default-eval")
    assert suite is not None
    assert judged["parts"]["suite"] == "sha256:" + hashlib.sha256(canonical(suite.data)).hexdigest()
    assert judged["digest"] == "sha256:" + hashlib.sha256(canonical(judged["parts"])).hexdigest()
    # The predictions it judged, by digest: `sha256sum predictions.parquet`.
    (item,) = report["inputs"]
    assert item["digest"] == "sha256:" + hashlib.sha256(predictions.read_bytes()).hexdigest()
    assert item["fileDigests"] == [item["digest"]]


def test_a_comment_leaves_the_digest_and_a_bound_changes_only_the_suite(project: Path) -> None:
    def judged() -> dict[str, str]:
        checked = check_path(project)
        assert checked.resolved is not None
        found = judged_by_model(checked.resolved, "credit-default", checked.policies, checked.project)
        assert found is not None
        return found.parts

    before = judged()
    suite = project / "suites" / "credit-default-eval.yaml"
    suite.write_text(suite.read_text("utf-8") + "# reviewed in November\n", "utf-8")
    assert judged() == before
    suite.write_text(suite.read_text("utf-8").replace("min: 0.80", "min: 0.85"), "utf-8")
    after = judged()
    assert [part for part in before if before[part] != after[part]] == ["suite"]


def test_record_files_deterministic_json_that_meets_the_published_schema(
    project: Path, predictions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    report = _evaluate(project, predictions, tmp_path / "eval.json", monkeypatch)
    capsys.readouterr()
    assert main(["evidence", "record", "--project", str(project), str(tmp_path / "eval.json")]) == 0
    assert capsys.readouterr().out == f"recorded {RECORD}: eval gate {report['verdict']}\n"
    first = (project / RECORD).read_bytes()
    assert main(["evidence", "record", "--project", str(project), str(tmp_path / "eval.json")]) == 0
    assert (project / RECORD).read_bytes() == first
    record = json.loads(first)
    jsonschema.Draft202012Validator(SCHEMA).validate(record)
    assert first.decode("utf-8") == json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert (record["model"], record["version"], record["gate"], record["commit"]) == (
        "credit-default",
        "3.2.0",
        "eval",
        COMMIT,
    )
    assert record["judged"] == {"digest": report["judged"]["digest"], "parts": report["judged"]["parts"]}
    assert [(m["metric"], m.get("slice"), m["value"]) for m in record["metrics"]] == [
        (m["metric"], m["slice"], m["value"]) for m in report["metrics"]
    ]
    gender = record["fairness"]["gender"]
    assert [(g["group"], g["count"]) for g in gender["groups"]] == [
        (g["group"], g["count"]) for g in report["fairness"]["gender"]["groups"]
    ]
    assert record["inputs"] == report["inputs"]
    assert record["waivers"] == [
        {
            "approvers": ["lnovak", "mkowalski"],
            "expires": "2027-12-31",
            "name": "credit-default-validation-data",
            "policy": "acme-lending-models",
            "rule": "independent-validation-data",
        }
    ]


def test_a_data_report_without_a_model_is_not_evidence_of_a_version(
    project: Path, tmp_path: Path, capsys: Capture
) -> None:
    data = synthetic.write(synthetic.credit_applications(300), tmp_path / "applications.parquet")
    report = tmp_path / "data.json"
    argv = ["gate", "data", str(project), "--contract", "credit-applications", "--data", str(data)]
    main([*argv, "--report", str(report), "--now", "2024-07-01T06:00:00Z"])
    assert "model" not in json.loads(report.read_text("utf-8"))["judged"]
    capsys.readouterr()
    assert main(["evidence", "record", "--project", str(project), str(report)]) == 2
    assert capsys.readouterr().err == (
        f"charter evidence record: {report}: the report names no model it judged (run the data gate with --model); "
        "it cannot be evidence of a version\n"
    )
    assert not (project / "evidence").exists()
    main([*argv, "--model", "credit-default", "--report", str(report), "--now", "2024-07-01T06:00:00Z"])
    assert main(["evidence", "record", "--project", str(project), str(report)]) == 0
    record = json.loads((project / "evidence/credit-default/3.2.0/data.json").read_text("utf-8"))
    assert (record["gate"], record["subject"]["contract"]) == ("data", "credit-applications")


def test_record_never_writes_through_a_link(
    project: Path, predictions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    _evaluate(project, predictions, tmp_path / "eval.json", monkeypatch)
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / "evidence").symlink_to(outside)
    capsys.readouterr()
    assert main(["evidence", "record", "--project", str(project), str(tmp_path / "eval.json")]) == 2
    assert capsys.readouterr().err == (
        f"charter evidence record: {RECORD}: not written: "
        "`evidence` is a symbolic link; Charter does not follow links\n"
    )
    assert list(outside.iterdir()) == []


def test_a_report_that_is_not_json_is_refused(project: Path, tmp_path: Path, capsys: Capture) -> None:
    bad = tmp_path / "eval.json"
    bad.write_text('{"gate": "eval", ', "utf-8")
    assert main(["evidence", "record", "--project", str(project), str(bad)]) == 2
    assert capsys.readouterr().err.startswith(f"charter evidence record: {bad}: not JSON: ")


def _recorded(project: Path, predictions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    _evaluate(project, predictions, tmp_path / "eval.json", monkeypatch)
    assert main(["evidence", "record", "--project", str(project), str(tmp_path / "eval.json")]) == 0
    return project / RECORD


def _line_of(text: str, needle: str) -> tuple[int, int]:
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(needle)


def test_check_locates_a_record_that_breaks_the_schema(
    project: Path, predictions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _recorded(project, predictions, tmp_path, monkeypatch)
    text = re.sub(r'"verdict": "[a-z-]+"', '"verdict": "great"', path.read_text("utf-8"))
    path.write_text(text, "utf-8")
    found = [d for d in check_path(project).diagnostics if d.code.startswith("CH8")]
    line, column = _line_of(text, '"great"')
    assert [(d.code, d.line, d.column, d.message) for d in found] == [
        (
            "CH800",
            line,
            column,
            "evidence record does not match its schema at `verdict`: "
            "Input should be 'pass', 'fail', 'no-verdict' or 'error'",
        )
    ]
    assert found[0].file.endswith(RECORD)


def test_check_refuses_a_record_copied_to_another_version(
    project: Path, predictions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _recorded(project, predictions, tmp_path, monkeypatch)
    # The record's own version (two spaces in), not the subject's.
    text = re.sub(r'^  "version": "3.2.0"', '  "version": "3.1.0"', path.read_text("utf-8"), flags=re.M)
    path.write_text(text, "utf-8")
    checked = check_path(project)
    found = [d for d in checked.diagnostics if d.code.startswith("CH8")]
    line, column = _line_of(text, '  "version": "3.1.0"')
    column += len('  "version": ')
    assert [(d.code, d.line, d.column, d.message) for d in found] == [
        ("CH801", line, column, "evidence of version `3.1.0` filed under `3.2.0`")
    ]
    assert checked.evidence["credit-default"].records == {}


def test_recording_a_report_of_other_specs_says_it_is_stale(
    project: Path, predictions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    report = _evaluate(project, predictions, tmp_path / "eval.json", monkeypatch)
    suite = project / "suites" / "credit-default-eval.yaml"
    suite.write_text(suite.read_text("utf-8").replace("max: 0.12", "max: 0.10", 1), "utf-8")
    capsys.readouterr()
    assert main(["evidence", "record", "--project", str(project), str(tmp_path / "eval.json")]) == 0
    assert capsys.readouterr().out == (
        f"recorded {RECORD}: eval gate {report['verdict']} (judged other specs than today's: stale)\n"
    )
    entry = check_path(project).evidence["credit-default"]
    assert entry.records["eval"].changed == ("suite",)


def test_a_failing_evidence_rule_or_a_broken_record_does_not_stop_measuring(
    project: Path, predictions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    broken = project / RECORD
    broken.parent.mkdir(parents=True)
    broken.write_text('{"kind": "Evidence",', "utf-8")
    found = [(d.code, d.policy, d.severity.value) for d in check_path(project).diagnostics]
    assert ("CH100", None, "error") in found
    # Evidence gates promotion, not rendering (issue 22): missing evidence is a warning the deploy jobs enforce.
    assert ("CH500", "eu-ai-act-evidence", "warning") in found
    report = _evaluate(project, predictions, tmp_path / "eval.json", monkeypatch)
    assert report["verdict"] == "pass"
    assert main(["evidence", "record", "--project", str(project), str(tmp_path / "eval.json")]) == 0
    assert [d for d in check_path(project).diagnostics if d.severity.value == "error"] == []
