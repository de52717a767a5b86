"""Issue 21, case 8 (second half): evidence is verified, not believed.

Each test edits a copy of examples/credit-scoring as a pull request could: the committed evaluation record
(roc_auc set to 0.55 under its 0.8 bound with the verdict left `pass`, a bound lowered to match, the data
digest removed), or the specs under it (a tightened bound, another `storageUri`, a version bump with the
record copied along). `charter check` recomputes the record's verdicts from its measured values against
today's bounds and reports the exact code, line and column; the card and the evidence rule never show an
unfounded pass, and `charter evidence require` (what the deploy jobs run: evidence gates promotion, so the
evidence rule itself is a warning where specs are checked) refuses to promote on it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from compiler.commands.cli import main
from compiler.core.diagnostics import Diagnostic, Severity
from compiler.evidence.card import card_view
from compiler.stages import Checked, check_path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "credit-scoring"
EVAL = "evidence/credit-default/3.2.0/eval.json"
MODEL = "models/credit-default.yaml"
SUITE = "suites/credit-default-eval.yaml"
Capture = pytest.CaptureFixture[str]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CHARTER_TODAY", "2026-11-01")
    copy = tmp_path / "credit-scoring"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns(".charter"))
    return copy


def record(project: Path, relative: str = EVAL) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((project / relative).read_text("utf-8"))
    return data


def save(project: Path, data: dict[str, Any], relative: str = EVAL) -> str:
    """Write a record as `charter evidence record` does; its text, to find where a value is."""
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (project / relative).parent.mkdir(parents=True, exist_ok=True)
    (project / relative).write_text(text, "utf-8")
    return text


def position(text: str, needle: str, *, value: bool = True) -> tuple[int, int]:
    """(line, column) of the one line holding `needle`: of its value after `": "`, or of the key."""
    lines = [number for number, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(lines) == 1, f"{needle!r} is on lines {lines}"
    line = text.splitlines()[lines[0] - 1]
    column = line.index(needle) + (len(needle.split(": ", maxsplit=1)[0]) + 2 if value and ": " in needle else 0)
    return lines[0], column + 1


def edit(project: Path, relative: str, old: str, new: str) -> None:
    path = project / relative
    text = path.read_text("utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {relative}"
    path.write_text(text.replace(old, new), "utf-8")


def found(checked: Checked, *codes: str) -> list[tuple[str, str, int, int]]:
    return [(d.code, d.file, d.line, d.column) for d in checked.diagnostics if d.code in codes]


def evidence_rule(checked: Checked) -> list[Diagnostic]:
    return [d for d in checked.diagnostics if d.rule == "evaluation-evidence"]


def refused(project: Path, capsys: Capture, why: str) -> None:
    """`charter evidence require` exits 1 and says why: the gate in front of every deployment."""
    capsys.readouterr()
    assert main(["evidence", "require", "--model", "credit-default", "--project", str(project)]) == 1
    out, err = capsys.readouterr()
    assert (out, err.split(": not promoted.")[0]) == ("", f"::error title=charter evidence::{why}")


def relative(checked: Checked, file: str) -> str:
    return Path(file).relative_to(checked.root).as_posix() if Path(file).is_absolute() else file


def test_the_committed_records_verify(project: Path) -> None:
    checked = check_path(project)
    assert found(checked, "CH820", "CH821", "CH822", "CH823") == []
    assert checked.evidence["credit-default"].records["eval"].verdict == "pass"


def test_a_value_edited_under_its_bound_with_the_verdict_left_pass(project: Path, capsys: Capture) -> None:
    data = record(project)
    assert data["metrics"][0]["metric"] == "roc_auc"
    assert data["metrics"][0]["min"] == 0.8
    data["metrics"][0]["value"] = 0.55
    text = save(project, data)
    line, column = position(text, '"value": 0.55')
    assert main(["check", str(project), "--color", "never"]) == 1
    out = capsys.readouterr().out
    assert (
        f"{EVAL}:{line}:{column}: error[CH820] roc_auc = 0.55 under the bound >= 0.8 is `fail`, "
        "but the record says `pass`" in out.replace(str(project) + "/", "")
    )
    checked = check_path(project)
    shown = {(code, relative(checked, file), ln, col) for code, file, ln, col in found(checked, "CH820")}
    # The check that repeats the measurement no longer agrees with it either.
    check_line, check_column = position(text, '"value": 0.9746779679158172')
    assert shown == {("CH820", EVAL, line, column), ("CH820", EVAL, check_line, check_column)}
    # Not evidence: the evidence rule warns, the card shows no measurement at all, and the version is not promoted.
    assert "eval" not in checked.evidence["credit-default"].records
    (rule,) = evidence_rule(checked)
    assert rule.severity is Severity.WARNING
    assert rule.message.startswith("no evaluation evidence for version 3.2.0")
    assert card_view(checked.evidence["credit-default"], None)["state"] == "none"
    refused(project, capsys, f"no evaluation evidence for credit-default 3.2.0 ({EVAL})")


def test_a_record_edited_everywhere_still_claims_todays_suite(project: Path) -> None:
    data = record(project)
    data["metrics"][0].update(value=0.55, min=0.5)
    data["checks"][0].update(value=0.55, expected="≥ 0.5")
    text = save(project, data)
    checked = check_path(project)
    line, column = position(text, '"min": 0.5,')
    assert [(c, relative(checked, f), ln, col) for c, f, ln, col in found(checked, "CH820", "CH821")] == [
        ("CH821", EVAL, line, column)
    ]
    (finding,) = [d for d in checked.diagnostics if d.code == "CH821"]
    assert finding.message == (
        "the record says it judged today's suite `credit-default-eval`, but lists the bound of roc_auc as "
        ">= 0.5 where the suite says >= 0.8"
    )
    assert "eval" not in checked.evidence["credit-default"].records


def test_the_verdict_and_summary_must_follow_from_the_checks(project: Path) -> None:
    data = record(project)
    data["checks"][0].update(status="fail")
    data["metrics"][0].update(status="fail", value=0.5)
    data["checks"][0]["value"] = 0.5
    text = save(project, data)
    checked = check_path(project)
    verdict = position(text, '"verdict": "pass"')
    summary = position(text, '"summary": {', value=False)
    assert [(c, relative(checked, f), ln, col) for c, f, ln, col in found(checked, "CH820")] == [
        ("CH820", EVAL, summary[0], summary[1] + len('"summary": ')),
        ("CH820", EVAL, *verdict),
    ]


def test_a_tightened_bound_judges_the_recorded_values_again(project: Path, capsys: Capture) -> None:
    edit(project, SUITE, "min: 0.80", "min: 0.98")
    checked = check_path(project)
    assert found(checked, "CH820", "CH821", "CH823") == []  # an honest record of an older suite
    entry = checked.evidence["credit-default"]
    eval_record = entry.records["eval"]
    assert (eval_record.evidence.verdict, eval_record.verdict) == ("pass", "fail")
    (rule,) = evidence_rule(checked)
    assert rule.severity is Severity.WARNING
    assert rule.message == "the evaluation evidence for version 3.2.0 has verdict `fail`, not `pass`"
    assert (relative(checked, rule.file), rule.line, rule.column) == (MODEL, 14, 12)
    view = card_view(entry, entry.suite)
    roc = view["metrics"][0]
    assert (roc["metric"], roc["bound"], roc["bound_today"], roc["verdict"]) == ("roc_auc", ">= 0.8", ">= 0.98", "FAIL")
    assert view["verdict"] == "FAIL"
    assert view["state"] == "stale"
    refused(project, capsys, "the evaluation evidence for credit-default 3.2.0 has verdict `fail`")


def test_another_storage_uri_under_the_same_version_is_not_measured(project: Path, capsys: Capture) -> None:
    edit(project, MODEL, "credit-default/3.2.0", "credit-default/3.2.0-untested")
    text = (project / EVAL).read_text("utf-8")
    checked = check_path(project)
    line, column = position(text, '"model-identity": "sha256:')
    assert [(c, relative(checked, f), ln, col) for c, f, ln, col in found(checked, "CH822")] == [
        ("CH822", EVAL, line, column)
    ]
    assert checked.evidence["credit-default"].records["eval"].verdict == "no-verdict"
    (rule,) = evidence_rule(checked)
    assert rule.message == "the evaluation evidence for version 3.2.0 has verdict `no-verdict`, not `pass`"
    # The record still says `pass` of the model it measured; the gate goes by what it says of this one.
    assert checked.evidence["credit-default"].records["eval"].evidence.verdict == "pass"
    refused(project, capsys, "the evaluation evidence for credit-default 3.2.0 has verdict `no-verdict`")


def test_a_record_copied_to_a_new_version_is_not_its_evidence(project: Path, capsys: Capture) -> None:
    edit(project, MODEL, 'version: "3.2.0"', 'version: "3.3.0"')
    data = record(project)
    data["version"] = data["subject"]["version"] = "3.3.0"
    text = save(project, data, "evidence/credit-default/3.3.0/eval.json")
    checked = check_path(project)
    line, column = position(text, '"model-identity": "sha256:')
    assert [(c, relative(checked, f), ln, col) for c, f, ln, col in found(checked, "CH822")] == [
        ("CH822", "evidence/credit-default/3.3.0/eval.json", line, column)
    ]
    (rule,) = evidence_rule(checked)
    assert rule.severity is Severity.WARNING
    assert rule.message == "the evaluation evidence for version 3.3.0 has verdict `no-verdict`, not `pass`"
    refused(project, capsys, "the evaluation evidence for credit-default 3.3.0 has verdict `no-verdict`")


def test_a_record_without_the_digest_of_its_predictions_is_not_evidence(project: Path) -> None:
    data = record(project)
    del data["inputs"][0]["digest"]
    text = save(project, data)
    checked = check_path(project)
    inputs, _ = position(text, '"inputs": [', value=False)
    # At the input that names no digest: the object that opens on the next line.
    assert [(c, relative(checked, f), ln, col) for c, f, ln, col in found(checked, "CH823")] == [
        ("CH823", EVAL, inputs + 1, 5)
    ]
    assert "eval" not in checked.evidence["credit-default"].records


def test_the_gate_names_the_digest_of_the_predictions_it_judged(project: Path) -> None:
    """The committed record's digest is `sha256sum` of the predictions file the examples' script writes."""
    from compiler.gates.data import synthetic

    predictions = project / "predictions.parquet"
    synthetic.write(synthetic.predictions(20_000, seed=7, separation=1.8), predictions)
    (item,) = record(project)["inputs"]
    assert item["digest"] == "sha256:" + hashlib.sha256(predictions.read_bytes()).hexdigest()
    assert item["fileDigests"] == [item["digest"]]


DATA = "evidence/credit-default/3.2.0/data.json"
CONTRACT = "contracts/credit-applications.odcs.yaml"


def row_count(data: dict[str, Any]) -> dict[str, Any]:
    (check,) = [c for c in data["checks"] if c["id"] == "applications.quality[0]"]
    assert (check["value"], check["expected"], check["status"]) == (60000, "> 50000", "pass")
    return check


def test_a_data_record_whose_count_breaks_todays_rule_with_the_status_left_pass(project: Path) -> None:
    data = record(project, DATA)
    check = row_count(data)
    check["details"]["count"] = check["details"]["rows"] = check["value"] = 40000
    text = save(project, data, DATA)
    checked = check_path(project)
    line, column = _status_after(text, "40000")
    (finding,) = [d for d in checked.diagnostics if d.code == "CH820"]
    assert (relative(checked, finding.file), finding.line, finding.column) == (DATA, line, column)
    assert finding.message == (
        "check `applications.quality[0]` = 40000 is `fail` under > 50000, but the record says `pass`"
    )
    assert "data" not in checked.evidence["credit-default"].records


def test_a_tightened_quality_rule_judges_the_recorded_count_again(project: Path) -> None:
    edit(project, CONTRACT, "mustBeGreaterThan: 50000", "mustBeGreaterThan: 70000")
    checked = check_path(project)
    assert found(checked, "CH820", "CH821", "CH823") == []  # an honest record of an older rule
    data_record = checked.evidence["credit-default"].records["data"]
    assert (data_record.evidence.verdict, data_record.verdict) == ("pass", "fail")
    gates = {line["gate"]: line["verdict"] for line in card_view(checked.evidence["credit-default"], None)["gates"]}
    assert gates == {"data": "FAIL", "eval": "pass"}


def _status_after(text: str, value: str) -> tuple[int, int]:
    """(line, column) of the `status` value in the check whose `value` line reads `value`."""
    lines = text.splitlines()
    (at,) = [n for n, line in enumerate(lines) if line.strip() == f'"value": {value}']
    # Keys are sorted: `status` comes before `target`, `title` and `value` in a check.
    (status,) = [n for n in range(at - 4, at) if lines[n].strip().startswith('"status": ')]
    return status + 1, lines[status].index('"status": ') + len('"status": ') + 1


def test_the_plan_of_a_pull_request_that_edits_a_record_fails(project: Path) -> None:
    """The pull request of the issue, read from git objects: the head's record is judged like the working tree's."""
    import subprocess
    import sys

    from test_plan_fixtures import commit, git

    git(project, "init", "--quiet", "--initial-branch=main")
    commit(project, "the example")
    data = record(project)
    data["metrics"][0]["value"] = 0.55
    text = save(project, data)
    commit(project, "a better roc_auc")
    env = {"PATH": "/usr/bin:/bin", "CHARTER_TODAY": "2026-11-01", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "compiler", "plan", ".", "--base", "HEAD~1", "--head", "HEAD", "--format", "json"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    new = json.loads(done.stdout)["findings"]["new"]
    unfounded = [(f["file"], f["line"], f["column"]) for f in new if f["code"] == "CH820"]
    # At the edited value, and at the check that repeats the measurement it no longer matches.
    assert unfounded == [
        (EVAL, *position(text, '"value": 0.9746779679158172')),
        (EVAL, *position(text, '"value": 0.55')),
    ]
    rules = [(f["code"], f["file"], f.get("rule")) for f in new if f["code"] == "CH500"]
    assert rules == [("CH500", MODEL, "evaluation-evidence")]
