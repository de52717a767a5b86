"""The command line contract: exit codes, formats, output files, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.commands.cli import main

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "../shared/odcs-examples/schema__table-column.odcs.yaml"


def test_exit_0_on_a_clean_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "contract.yaml"
    spec.write_text("apiVersion: v3.0.2\nkind: DataContract\nid: c1\nversion: 1.0.0\nstatus: active\n", "utf-8")
    assert main(["check", str(spec)]) == 0
    assert capsys.readouterr().out == "All checks passed: 1 file, 1 spec.\n"


def test_exit_1_on_an_error_and_0_on_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.yaml").write_text("\n", "utf-8")
    assert main(["check", str(tmp_path)]) == 0
    assert "warning[CH103]" in capsys.readouterr().out
    (tmp_path / "broken.yaml").write_text("a: [1\n", "utf-8")
    assert main(["check", str(tmp_path)]) == 1


def test_exit_2_on_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "/no/such/path"]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    with pytest.raises(SystemExit) as raised:
        main(["check", "--format", "yaml"])
    assert raised.value.code == 2
    assert main([]) == 2


def test_output_file_is_written_whole(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("kind: Model\n", "utf-8")
    out = tmp_path / "report" / "findings.json"
    assert main(["check", str(tmp_path / "bad.yaml"), "--format", "json", "--output", str(out)]) == 1
    report = json.loads(out.read_text("utf-8"))
    assert [d["code"] for d in report["diagnostics"]] == ["CH114"]
    assert [p.name for p in out.parent.iterdir()] == ["findings.json"]


def test_python_dash_m_and_plain_output_when_piped(tmp_path: Path) -> None:
    (tmp_path / "dup.yaml").write_text("a: 1\na: 2\n", "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "compiler", "check", str(tmp_path / "dup.yaml")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TERM": "xterm-256color"},
    )
    assert done.returncode == 1
    assert "\x1b[" not in done.stdout
    assert ":2:1: error[CH104] duplicate key `a` (first at line 1)" in done.stdout
    assert "Traceback" not in done.stderr


def test_color_always_uses_ansi(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "dup.yaml").write_text("a: 1\na: 2\n", "utf-8")
    assert main(["check", str(tmp_path / "dup.yaml"), "--color", "always"]) == 1
    assert "\x1b[" in capsys.readouterr().out


def test_every_documented_command_exists(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--help"])
    assert raised.value.code == 0
    out = capsys.readouterr().out
    for command in ("init", "check", "build", "plan", "schema", "explain", "policy", "gate", "github"):
        assert f"    {command}" in out, command
