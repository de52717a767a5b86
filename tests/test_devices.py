"""Every command writes a device or a pipe in place, never replacing it (issue 22).

Measured: `charter gate ... --report`/`--summary` pointed at a device replaced it with a regular file; run as
root, `--summary /dev/null` destroyed the machine's /dev/null. A FIFO stands in for the device here (the same
kind of file to `os.replace`), so the test cannot harm the machine when it fails.
"""

from __future__ import annotations

import os
import shutil
import stat
import threading
from pathlib import Path

import pytest

from compiler.commands.cli import main
from compiler.gates.data import synthetic

ROOT = Path(__file__).resolve().parent.parent


class Fifo:
    """A named pipe with a reader that collects what is written to it."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        self.path = path
        self.received = b""
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        with open(self.path, "rb") as handle:
            self.received = handle.read()

    def done(self) -> bytes:
        self.thread.join(timeout=20)
        assert stat.S_ISFIFO(self.path.lstat().st_mode), f"{self.path} was replaced"
        return self.received


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "credit-scoring"
    shutil.copytree(ROOT / "examples" / "credit-scoring", root)
    monkeypatch.chdir(root)
    return root


def test_gate_report_and_summary_go_through_pipes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    synthetic.write(synthetic.predictions(2_000, seed=7, separation=1.8), project / "predictions.parquet")
    report, summary = Fifo(project / "report.pipe"), Fifo(project / "summary.pipe")
    argv = ["gate", "eval", ".", "--model", "credit-default", "--predictions", "predictions.parquet"]
    main([*argv, "--report", str(report.path), "--summary", str(summary.path)])
    assert b'"gate": "eval"' in report.done()
    assert b"Charter eval gate" in summary.done()
    capsys.readouterr()


def test_check_output_goes_through_a_pipe(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = Fifo(project / "out.pipe")
    main(["check", ".", "--format", "json", "--output", str(output.path)])
    assert output.done().startswith(b"{")
    capsys.readouterr()
