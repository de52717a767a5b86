"""Data-driven checks: every directory under tests/cases is a small project plus
the exact findings `charter check` must report on it (see tests/cases/README.md).

The demo case (`make demo`) is also run through the command line in every
output format, and each format must carry its four findings at their exact
line and column.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from checkout import copy_project

from compiler.commands.cli import main
from compiler.core.codes import all_codes
from compiler.core.diagnostics import Diagnostic, Severity
from compiler.stages import check_path

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "tests" / "cases"


def _case_tools() -> ModuleType:
    """tests/cases/regenerate.py: the same staging and records as the script."""
    spec = importlib.util.spec_from_file_location("case_tools", CASES / "regenerate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("case_tools", module)
    spec.loader.exec_module(module)
    return module


tools = _case_tools()
CASE_DIRS: list[Path] = tools.case_dirs()

# Codes no case can produce, and why; every other CH1xx-CH4xx and CH9xx code needs a case.
NOT_IN_CASES = {
    "CH940": "a SARIF notification, not a finding, past GitHub's 25,000 results: tests/test_sarif_github.py",
    "CH116": "a file over 10 MiB: tests/test_loader.py builds one in memory",
    "CH117": "an unreadable file cannot be committed: tests/test_loader.py reads a directory",
    "CH120": "links and special files cannot be staged by copying: tests/test_repository_attacks.py makes them",
    "CH440": "a build-time finding about the running Charter's commit: tests/test_pinned_install.py",
    "CH442": "a build-time finding about the git repository around the project: tests/test_workflow_home.py",
    "CH449": "a build-time finding about the git repository around the project: tests/test_workflow_home.py",
    "CH902": "a build-time finding about the manifest: tests/test_repository_attacks.py",
    "CH900": "an internal error is a bug; the pipeline's guard is tested with a failing loader",
    "CH695": "a plan finding (two revisions): tests/test_plan_endpoints.py",
    "CH445": "GitHub's answer about an environment (`charter github environments`): tests/test_github_environments.py",
    "CH446": "GitHub's answer about an environment (`charter github environments`): tests/test_github_environments.py",
    "CH447": "GitHub's answer about an environment (`charter github environments`): tests/test_github_environments.py",
    "CH448": "GitHub could not answer about an environment: tests/test_github_environments.py",
    "CH696": "a plan finding (two revisions): tests/test_plan_endpoints.py",
    "CH481": "the MLflow registry's answer about an alias (needs a tracking server): tests/test_mlflow_registry.py",
    "CH482": "the MLflow registry's answer about an alias (needs a tracking server): tests/test_mlflow_registry.py",
    "CH483": "the MLflow registry could not answer (needs MLFLOW_TRACKING_URI): tests/test_mlflow_registry.py",
}


def _case_param(case_dir: Path) -> Any:
    bug = tools.KNOWN_BUGS.get(case_dir.name)
    marks = [pytest.mark.xfail(reason=bug, strict=True)] if bug else []
    return pytest.param(case_dir, id=case_dir.name, marks=marks)


def run_case(case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Diagnostic]:
    workdir = tools.stage(case_dir, tmp_path / case_dir.name)
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("CHARTER_TODAY", tools.TODAY)
    return list(check_path(Path(".")).diagnostics)


def show(entries: list[dict[str, Any]]) -> str:
    return "\n".join(f"  {e['code']} {e['file']}:{e['line']}:{e['column']} {e.get('message', '')}" for e in entries)


@pytest.mark.parametrize("case_dir", [_case_param(path) for path in CASE_DIRS])
def test_case(case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = tools.read_expected(case_dir)
    diagnostics = run_case(case_dir, tmp_path, monkeypatch)
    actual = [{**tools.record(d), "message": d.message} for d in diagnostics]
    assert [tools.key(a) for a in actual] == [tools.key(e) for e in expected], (
        f"{case_dir.name}: findings differ\nexpected:\n{show(expected)}\nactual:\n{show(actual)}\n"
        f"(review, then `python tests/cases/regenerate.py {case_dir.name}` if the new output is right)"
    )
    for diagnostic, entry in zip(diagnostics, expected, strict=True):
        where = f"{case_dir.name}: {diagnostic.code} at {diagnostic.file}:{diagnostic.line}:{diagnostic.column}"
        if "severity" in entry:
            assert diagnostic.severity.value == entry["severity"], where
        assert diagnostic.waiver == entry.get("waiver"), where
        if "message_contains" in entry:
            assert entry["message_contains"] in diagnostic.message, where
        if "hint_contains" in entry:
            assert entry["hint_contains"] in (diagnostic.hint or ""), where


def test_there_are_enough_cases() -> None:
    assert len(CASE_DIRS) >= 35
    names = {path.name for path in CASES.iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert names == {path.name for path in CASE_DIRS}, "every case directory needs an expected.yaml"


def test_every_producible_code_has_a_case() -> None:
    covered = {entry["code"] for case_dir in CASE_DIRS for entry in tools.read_expected(case_dir)}
    wanted = {code.id for code in all_codes() if code.id[2] in "1234" or code.id.startswith("CH9")}
    missing = wanted - covered - set(NOT_IN_CASES)
    assert not missing, f"codes without a case: {sorted(missing)}"
    assert not covered & set(NOT_IN_CASES), "a case covers a code listed as impossible: update NOT_IN_CASES"


@pytest.mark.parametrize("case_dir", [p for p in CASE_DIRS if p.name.startswith("good-")], ids=lambda p: p.name)
def test_good_cases_block_nothing(case_dir: Path) -> None:
    """A good case may show waived findings, never one that counts."""
    for entry in tools.read_expected(case_dir):
        assert "waiver" in entry or entry.get("severity") == "info", entry


def test_expected_files_are_what_regenerate_writes() -> None:
    """Hand edits stay in the format the script reads and writes back (key order, comments)."""
    for case_dir in CASE_DIRS:
        text = (case_dir / tools.EXPECTED).read_text("utf-8")
        entries = tools.read_expected(case_dir)
        assert text == tools.dump(entries), f"{case_dir.name}/expected.yaml is not in the canonical form"


# --- the demo ------------------------------------------------------------------

DEMO = "tests/cases/demo-broken"
DEMO_FILE = f"{DEMO}/model.yaml"
FOUR = [  # (code, line, column): read off model.yaml by hand
    ("CH104", 9, 3),  # `owner:` again
    ("CH202", 12, 12),  # `version: 1.10`, a number
    ("CH200", 30, 7),  # `replcas:`
    ("CH401", 31, 20),  # `environment: prod`
]
FORMATS = ["text", "json", "sarif", "github", "junit"]


def run_demo(fmt: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """`charter check tests/cases/demo-broken`, run where a copy of it stands at that path (its cache is written
    beside it)."""
    copy_project(DEMO, tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHARTER_TODAY", tools.TODAY)
    code = main(["check", DEMO, "--format", fmt, "--color", "never"])
    captured = capsys.readouterr()
    assert code == 1, captured.err
    return captured.out


def test_demo_has_exactly_four_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("CHARTER_TODAY", tools.TODAY)
    result = check_path(Path(DEMO))
    found = [(d.code, d.file, d.line, d.column) for d in result.diagnostics]
    assert found == [(code, DEMO_FILE, line, column) for code, line, column in FOUR]
    assert all(d.severity is Severity.ERROR and d.hint for d in result.diagnostics)


def test_demo_text(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    out = run_demo("text", capsys, monkeypatch, tmp_path)
    headers = re.findall(r"^(\S+):(\d+):(\d+): error\[(CH\d{3})\]", out, re.MULTILINE)
    assert headers == [(DEMO_FILE, str(line), str(column), code) for code, line, column in FOUR]
    assert "\x1b[" not in out


def test_demo_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    document = json.loads(run_demo("json", capsys, monkeypatch, tmp_path))
    found = [(d["code"], d["file"], d["line"], d["column"]) for d in document["diagnostics"]]
    assert found == [(code, DEMO_FILE, line, column) for code, line, column in FOUR]
    assert document["summary"]["errors"] == 4


def test_demo_sarif(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    log = json.loads(run_demo("sarif", capsys, monkeypatch, tmp_path))
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    found = []
    for result in run["results"]:
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        region = physical["region"]
        uri = physical["artifactLocation"]["uri"]
        found.append((result["ruleId"], uri, region["startLine"], region["startColumn"]))
        assert result["level"] == "error"
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    assert found == [(code, DEMO_FILE, line, column) for code, line, column in FOUR]


def test_demo_github(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    lines = run_demo("github", capsys, monkeypatch, tmp_path).splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert len(commands) == 4
    for command, (code, line, column) in zip(commands, FOUR, strict=True):
        assert command.startswith(f"::error file={DEMO_FILE},line={line},col={column},"), command
        assert f",title={code} " in command, command
    assert lines[-1] == "charter: 4 errors, 0 warnings"


def test_demo_junit(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    root = ET.fromstring(run_demo("junit", capsys, monkeypatch, tmp_path).split("\n", 1)[1])
    assert root.tag == "testsuites"
    assert root.get("failures") == "4"
    found = []
    for case in root.iter("testcase"):
        failure = case.find("failure")
        assert failure is not None
        assert failure.text is not None
        file, line, column = failure.text.splitlines()[0].rsplit(":", 2)
        found.append((failure.get("type"), file, int(line), int(column)))
        assert case.get("name", "").startswith(f"{failure.get('type')} {line}:{column}")
    assert found == [(code, DEMO_FILE, line, column) for code, line, column in FOUR]
