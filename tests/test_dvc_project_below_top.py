"""A DVC file is named relative to the project root, also when the project sits below the repository's top
(a monorepo's `ml/`): `check` reads it there, and never outside the project."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from compiler.commands.cli import main

CASE = Path(__file__).resolve().parent / "cases" / "ch484-dvc-file-unusable"


def _findings(project: Path, capsys: pytest.CaptureFixture[str]) -> list[tuple[str, int, str]]:
    capsys.readouterr()
    main(["check", str(project), "--format", "json"])
    diagnostics = json.loads(capsys.readouterr().out)["diagnostics"]
    return [(d["code"], d["line"], d["message"]) for d in diagnostics if d["code"] == "CH484"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    repository = tmp_path / "repo"
    shutil.copytree(CASE, repository / "ml", ignore=shutil.ignore_patterns("expected.yaml"))
    subprocess.run(["git", "init", "-q", str(repository)], check=True)
    return repository / "ml"


def test_a_dvc_file_is_read_from_the_project_below_the_top(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _findings(project, capsys) == [
        ("CH484", 21, "data/holdout.csv.dvc: no such file"),
        ("CH484", 28, "data/train.csv.dvc tracks no output at `data/recent.csv`"),
    ]


def test_a_dvc_file_outside_the_project_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(project / "data" / "train.csv.dvc", project.parent / "train.csv.dvc")
    contract = project / "contract.yaml"
    contract.write_text(contract.read_text("utf-8").replace("value: data/holdout.csv.dvc", "value: ../train.csv.dvc"))
    assert _findings(project, capsys)[0] == (
        "CH484",
        21,
        "../train.csv.dvc: outside the project: name a DVC file inside it",
    )
