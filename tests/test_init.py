"""`charter init`: a starter project that checks clean, written safely."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.commands.cli import main
from compiler.core.diagnostics import Severity
from compiler.core.models import Model, Project
from compiler.core.models.common import NAME_PATTERN
from compiler.scaffold.project import (
    DEFAULT_NAME,
    MAX_NAME_LENGTH,
    TOKEN,
    ScaffoldError,
    derive_name,
    scaffold,
    to_label,
)
from compiler.stages import check_path

EXPECTED = [
    "charter.yaml",
    "contracts/training-data.odcs.yaml",
    "environments/production.yaml",
    "environments/staging.yaml",
    "models/model.yaml",
    "suites/evaluation.yaml",
]


def relative(paths: list[Path], root: Path) -> list[str]:
    return [path.relative_to(root).as_posix() for path in paths]


def test_init_writes_a_project_that_checks_clean(tmp_path: Path) -> None:
    target = tmp_path / "churn-model"
    written = scaffold(target)
    assert relative(written, target) == [*EXPECTED, ".gitignore", ".gitattributes"]
    assert all(path.is_file() for path in written)
    for path in written[:-1]:
        text = path.read_text("utf-8")
        assert TOKEN not in text
        assert "${{" not in text
    result = check_path(target)
    problems = [d for d in result.diagnostics if d.severity is not Severity.INFO]
    assert not problems, "\n".join(f"{d.file}:{d.line} {d.code} {d.message}" for d in problems)
    assert isinstance(result.project, Project)
    assert result.project.metadata.name == "churn-model"
    models = [spec.model for spec in result.specs if isinstance(spec.model, Model)]
    assert len(models) == 1
    assert models[0].metadata.name == "churn-model"
    assert models[0].spec.evaluation.suite == "churn-model-eval"
    assert len(result.specs) == len(EXPECTED)


def test_init_keeps_the_check_cache_out_of_git(tmp_path: Path) -> None:
    target = tmp_path / "existing"
    target.mkdir()
    (target / ".gitignore").write_text("*.pyc")
    scaffold(target)
    assert (target / ".gitignore").read_text() == (
        "*.pyc\n# charter check's cache: the last run's results, signed with a key of the user's\n.charter/cache/\n"
    )
    written = scaffold(target, force=True)  # already there: not added twice
    assert ".gitignore" not in relative(written, target)
    assert (target / ".gitignore").read_text().count(".charter/cache/") == 1


def test_init_globs_read_yml_files_too(tmp_path: Path) -> None:
    """A contract saved as `.yml` in a new project is checked, not silently skipped."""
    target = tmp_path / "churn-model"
    scaffold(target)
    contract = (target / "contracts" / "training-data.odcs.yaml").read_text("utf-8")
    (target / "contracts" / "training-data.odcs.yaml").unlink()
    (target / "contracts" / "training-data.odcs.yml").write_text(contract.replace("status: ", "statuz: "), "utf-8")
    result = check_path(target)
    unknown = [d for d in result.diagnostics if d.code == "CH200"]
    assert [(d.file.rsplit("/", 1)[-1], d.message) for d in unknown] == [
        ("training-data.odcs.yml", "unknown field `statuz`")
    ]
    assert not [d for d in result.diagnostics if d.code == "CH412"]


def test_init_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "fraud"
    assert main(["init", str(target)]) == 0
    out = capsys.readouterr().out
    for name in EXPECTED:
        assert f"created {(target / name).as_posix()}" in out
    assert main(["check", str(target), "--color", "never"]) == 0
    out = capsys.readouterr().out
    assert "error[" not in out, out
    assert "warning[" not in out, out


def test_init_into_the_current_directory_names_it_after_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "Sales Forecast"
    target.mkdir()
    monkeypatch.chdir(target)
    written = scaffold(Path("."))
    assert relative([p.resolve() for p in written], target.resolve()) == [*EXPECTED, ".gitignore", ".gitattributes"]
    assert "name: sales-forecast\n" in (target / "charter.yaml").read_text("utf-8")


def test_second_init_refuses_and_lists_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "project"
    scaffold(target)
    (target / "models" / "model.yaml").write_text("# mine\n", "utf-8")
    with pytest.raises(ScaffoldError) as raised:
        scaffold(target)
    message = str(raised.value)
    for name in EXPECTED:
        assert (target / name).as_posix() in message
    assert "--force" in message
    assert (target / "models" / "model.yaml").read_text("utf-8") == "# mine\n", "nothing was overwritten"

    assert main(["init", str(target)]) == 2
    err = capsys.readouterr().err
    assert "refusing to overwrite 6 existing file(s)" in err
    assert (target / "charter.yaml").as_posix() in err


def test_one_existing_file_blocks_every_write(tmp_path: Path) -> None:
    target = tmp_path / "project"
    target.mkdir()
    (target / "charter.yaml").write_text("# an existing project\n", "utf-8")
    with pytest.raises(ScaffoldError, match=re.escape((target / "charter.yaml").as_posix())):
        scaffold(target)
    assert sorted(p.name for p in target.iterdir()) == ["charter.yaml"], "refusal writes nothing"


def test_force_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "project"
    scaffold(target)
    model = target / "models" / "model.yaml"
    original = model.read_text("utf-8")
    model.write_text("# edited\n", "utf-8")
    written = scaffold(target, force=True)
    assert relative(written, target) == EXPECTED
    assert model.read_text("utf-8") == original
    model.write_text("# edited again\n", "utf-8")
    assert main(["init", str(target), "--force"]) == 0
    capsys.readouterr()
    assert model.read_text("utf-8") == original
    assert not list(target.rglob("*.tmp")), "atomic writes leave no temporary files"


def test_explicit_name(tmp_path: Path) -> None:
    target = tmp_path / "Whatever Dir"
    scaffold(target, name="risk-scorer")
    text = (target / "models" / "model.yaml").read_text("utf-8")
    assert "name: risk-scorer\n" in text
    assert "suite: risk-scorer-eval" in text
    assert not [d for d in check_path(target).diagnostics if d.severity is not Severity.INFO]


@pytest.mark.parametrize(
    "name",
    ["Risk Scorer", "risk_scorer", "-risk", "risk-", "9lives", "", "a" * (MAX_NAME_LENGTH + 1), "x\ny: 1", "é"],
)
def test_invalid_explicit_name_is_refused(tmp_path: Path, name: str) -> None:
    target = tmp_path / "project"
    with pytest.raises(ScaffoldError, match="not a valid project name"):
        scaffold(target, name=name)
    assert not target.exists(), "nothing is written for a bad name"


def test_invalid_name_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path / "p"), "--name", "Bad Name"]) == 2
    assert "for example `bad-name`" in capsys.readouterr().err


def test_a_directory_in_the_way_is_refused_even_with_force(tmp_path: Path) -> None:
    target = tmp_path / "project"
    (target / "models" / "model.yaml").mkdir(parents=True)
    with pytest.raises(ScaffoldError, match="cannot write over directories"):
        scaffold(target, force=True)
    assert not (target / "charter.yaml").exists(), "nothing is written"


def test_target_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x", "utf-8")
    with pytest.raises(ScaffoldError, match="not a directory"):
        scaffold(target)


@pytest.mark.parametrize(
    ("directory", "expected"),
    [
        ("churn-model", "churn-model"),
        ("My Project_2", "my-project-2"),
        ("credit.scoring", "credit-scoring"),
        ("--weird--name--", "weird-name"),
        ("2024-forecast", "forecast"),
        ("___", DEFAULT_NAME),
        ("123", DEFAULT_NAME),
        ("Ünïcode", "n-code"),
    ],
)
def test_name_derivation(tmp_path: Path, directory: str, expected: str) -> None:
    assert derive_name(tmp_path / directory) == expected


def test_long_directory_names_are_cut_to_fit(tmp_path: Path) -> None:
    name = derive_name(tmp_path / ("a" * 40 + "-" + "b" * 40))
    assert len(name) <= MAX_NAME_LENGTH
    assert not name.endswith("-")
    assert len(name + "-eval") <= 63


@given(st.text(max_size=200))
def test_any_text_becomes_a_valid_label(text: str) -> None:
    label = to_label(text)
    assert re.fullmatch(NAME_PATTERN, label)
    assert len(label) <= MAX_NAME_LENGTH
