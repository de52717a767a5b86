"""A project below the repository root is told that GitHub will not run its workflows (issue 22).

Measured: a project in `ml/` of a monorepo had its workflows written to `ml/.github/workflows`, which
GitHub never reads, silently. `build` now warns (CH442) with the layout that runs: charter.yaml at the
repository root, its specs in `ml/`; that layout builds, its workflows at the root, filtered on `ml/`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from compiler.commands.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _monorepo(tmp_path: Path) -> Path:
    repo = tmp_path / "mono"
    shutil.copytree(ROOT / "examples" / "demand-forecast", repo / "ml")
    subprocess.run(["git", "init", "--quiet", str(repo)], check=True)
    return repo


def test_a_project_in_a_subdirectory_is_warned(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _monorepo(tmp_path)
    assert main(["build", str(repo / "ml")]) == 0
    err = capsys.readouterr().err
    line = (repo / "ml" / "charter.yaml").read_text("utf-8").splitlines().index("    workflows: .github/workflows") + 1
    assert f"charter.yaml:{line}:5: warning[CH442] the workflows are written to `ml/.github/workflows`, but " in err
    assert 'put charter.yaml at the repository root with `specs: ["ml/**/*.yaml"]`' in err


def test_the_layout_the_warning_suggests_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _monorepo(tmp_path)
    for generated in (".github", ".charter", "deploy", "docs"):
        shutil.rmtree(repo / "ml" / generated)
    (repo / "ml" / "evidence").rename(repo / "evidence")
    settings = (repo / "ml" / "charter.yaml").read_text("utf-8")
    settings = re.sub(r"  specs:\n(    - .*\n)+", '  specs: ["ml/**/*.yaml"]\n', settings, count=1)
    (repo / "charter.yaml").write_text(settings, "utf-8")
    (repo / "ml" / "charter.yaml").unlink()
    assert main(["build", str(repo)]) == 0
    assert main(["build", str(repo), "--check"]) == 0
    assert "CH442" not in capsys.readouterr().err
    workflow = yaml.safe_load((repo / ".github/workflows/model-demand-forecast.yml").read_text("utf-8"))
    assert workflow[True]["push"]["paths"] == [
        "ml/contracts/sales-history.odcs.yaml",
        "ml/environments/production.yaml",
        "ml/environments/staging.yaml",
        "ml/models/demand-forecast.yaml",
        "ml/suites/demand-forecast-eval.yaml",
    ]
