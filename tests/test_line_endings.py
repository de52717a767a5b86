"""A clone with `core.autocrlf=true` (Git for Windows' default) keeps the generated files current (issue 22).

Measured: in such a clone `build --check` called all 9 generated files "edited by hand" and `build` refused to
fix them, since Git had checked them out with CRLF. `charter init` writes `.gitattributes` (`* text=auto
eol=lf`), so every checkout holds the bytes `charter build` wrote.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from compiler.commands.cli import main


def _git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": str(cwd.parent / "empty-gitconfig")}
    (cwd.parent / "empty-gitconfig").touch()
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", *args], cwd=cwd, env=env, check=True,
        capture_output=True,
    )  # fmt: skip


def _windows_clone(tmp_path: Path, keep_attributes: bool, capsys: pytest.CaptureFixture[str]) -> int:
    project = tmp_path / "origin"
    assert main(["init", str(project), "--name", "churn"]) == 0
    if not keep_attributes:
        (project / ".gitattributes").unlink()
    assert main(["build", str(project)]) == 0
    _git(project, "init", "--quiet", "--initial-branch=main")
    _git(project, "add", "--all")
    _git(project, "commit", "--quiet", "-m", "project")
    _git(tmp_path, "-c", "core.autocrlf=true", "clone", "--quiet", "--config", "core.autocrlf=true", "origin", "clone")
    capsys.readouterr()
    code = main(["build", str(tmp_path / "clone"), "--check"])
    return code


def test_init_keeps_generated_files_current_in_a_crlf_checkout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _windows_clone(tmp_path, keep_attributes=True, capsys=capsys) == 0
    assert "generated files are current" in capsys.readouterr().out


def test_without_the_attributes_the_files_read_as_edited(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The measured failure, kept as the reason for the file: a CRLF checkout is not what build wrote."""
    assert _windows_clone(tmp_path, keep_attributes=False, capsys=capsys) == 1
    assert "edited by hand" in capsys.readouterr().out


def test_init_adds_the_rule_once_to_existing_attributes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "p"
    target.mkdir()
    (target / ".gitattributes").write_text("*.png binary", "utf-8")
    assert main(["init", str(target)]) == 0
    assert main(["init", str(target), "--force"]) == 0
    text = (target / ".gitattributes").read_text("utf-8")
    assert text.startswith("*.png binary\n#")
    assert text.count("* text=auto eol=lf\n") == 1
    capsys.readouterr()
