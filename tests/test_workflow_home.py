"""A project below the repository root gets its workflows where GitHub reads them (issue 22).

Measured: a project in `ml/` of a monorepo had its workflows written to `ml/.github/workflows`, which GitHub
never reads, and `outputs.workflows: ../.github/workflows` was refused. Now that setting writes them at the
repository root, with every step in `ml/`, `paths:` filters and action paths from the root; a directory above the
git repository is refused (CH449); the default below the root is a warning (CH442) naming the setting. The outputs
written above the project keep the build's ownership rules: no write through a link, no manifest entry outside,
no claim on the repository's own workflows. The run on act is tests/test_act_monorepo.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from compiler.commands.cli import main

ROOT = Path(__file__).resolve().parent.parent
AT_ROOT = "    workflows: ../.github/workflows   # GitHub Actions: train, evaluate, gate, deploy\n"
DEFAULT = "    workflows: .github/workflows   # GitHub Actions: train, evaluate, gate, deploy\n"


def _monorepo(tmp_path: Path, workflows: str | None = AT_ROOT, *, git: bool = True) -> Path:
    """credit-scoring in `ml/` of a repository (without the outputs it had at its own root)."""
    repo = tmp_path / "mono"
    shutil.copytree(ROOT / "examples" / "credit-scoring", repo / "ml")
    shutil.rmtree(repo / "ml" / ".github")
    (repo / "ml" / ".charter" / "manifest.json").unlink()
    if workflows is not None:
        settings = repo / "ml" / "charter.yaml"
        settings.write_text(settings.read_text("utf-8").replace(DEFAULT, workflows), "utf-8")
    if git:
        subprocess.run(["git", "init", "--quiet", str(repo)], check=True)
    return repo


def _line(repo: Path, text: str) -> int:
    return (repo / "ml" / "charter.yaml").read_text("utf-8").splitlines().index(text.rstrip("\n")) + 1


def test_the_workflows_of_a_project_in_a_subdirectory_are_the_roots(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _monorepo(tmp_path)
    assert main(["build", str(repo / "ml")]) == 0
    out = capsys.readouterr().out
    assert f"created {repo.as_posix()}/.github/workflows/model-credit-default.yml" in out
    assert sorted(p.name for p in (repo / ".github" / "workflows").iterdir()) == [
        "charter-pull-request.yml",
        "model-credit-default.yml",
        "monitor-credit-default.yml",
    ]
    assert not (repo / "ml" / ".github").exists()
    manifest = json.loads((repo / "ml" / ".charter" / "manifest.json").read_text("utf-8"))["files"]
    assert "../.github/workflows/model-credit-default.yml" in manifest
    assert "deploy/production/credit-default/inferenceservice.yaml" in manifest  # deploy/ and docs/ stay in the project
    assert main(["build", str(repo / "ml"), "--check"]) == 0
    assert "CH442" not in capsys.readouterr().err

    pipeline = yaml.safe_load((repo / ".github/workflows/model-credit-default.yml").read_text("utf-8"))
    assert pipeline["defaults"] == {"run": {"working-directory": "ml"}}
    assert pipeline[True]["push"]["paths"] == [
        "ml/contracts/credit-applications.odcs.yaml",
        "ml/environments/production.yaml",
        "ml/environments/staging.yaml",
        "ml/environments/training.yaml",
        "ml/models/credit-default.yaml",
        "ml/suites/credit-default-eval.yaml",
        "ml/evidence/credit-default/**",
    ]
    # Actions run from the repository root, not in `working-directory`: the paths they are given say `ml/`.
    uploads = [
        s["with"]["path"] for job in pipeline["jobs"].values() for s in job["steps"] if "path" in s.get("with", {})
    ]
    assert uploads == [
        "ml/data-gate.json",
        "ml/model-output/",
        "ml/model-output/",
        "ml/eval-gate.json",
        "ml",
        "ml/evidence/",
    ]
    check = yaml.safe_load((repo / ".github/workflows/charter-pull-request.yml").read_text("utf-8"))
    assert check["defaults"] == {"run": {"working-directory": "ml"}}
    sarif = [s["with"]["sarif_file"] for s in check["jobs"]["check"]["steps"] if "sarif_file" in s.get("with", {})]
    assert sarif == ["ml/charter.sarif"]


def test_a_project_at_the_root_renders_no_working_directory(tmp_path: Path) -> None:
    repo = tmp_path / "flat"
    shutil.copytree(ROOT / "examples" / "credit-scoring", repo)
    subprocess.run(["git", "init", "--quiet", str(repo)], check=True)
    assert main(["build", str(repo), "--check"]) == 0
    pipeline = yaml.safe_load((repo / ".github/workflows/model-credit-default.yml").read_text("utf-8"))
    assert "defaults" not in pipeline
    assert pipeline[True]["push"]["paths"][0] == "contracts/credit-applications.odcs.yaml"


def test_the_default_below_the_root_is_warned_with_the_setting_that_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _monorepo(tmp_path, workflows=None)
    assert main(["build", str(repo / "ml")]) == 0
    err = capsys.readouterr().err
    line = _line(repo, DEFAULT)
    assert f"charter.yaml:{line}:5: warning[CH442] the workflows are written to `ml/.github/workflows`, but " in err
    assert "hint: set `outputs.workflows: ../.github/workflows` in charter.yaml" in err


@pytest.mark.parametrize("git", [True, False])
def test_workflows_above_the_repository_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], git: bool
) -> None:
    """`../../.github/workflows` from `ml/` of the repository (or any `../` outside a repository): nothing written."""
    climbing = AT_ROOT.replace("../.github", "../../.github") if git else AT_ROOT
    repo = _monorepo(tmp_path, climbing, git=git)
    assert main(["build", str(repo / "ml")]) == 1
    found = capsys.readouterr()
    err = found.out + found.err
    line = _line(repo, climbing)
    where = "the git repository at `mono/`" if git else "no git repository"
    workflows = "../../.github/workflows" if git else "../.github/workflows"
    assert f"charter.yaml:{line}:16: error[CH449] `{workflows}` leaves the project's repository ({where})" in err
    assert ("use `../.github/workflows`" if git else "build in a clone of the repository") in err
    assert not (tmp_path / ".github").exists()
    assert not (repo / ".github").exists()
    assert not (repo / "ml" / ".charter" / "manifest.json").exists()


def test_a_linked_github_folder_at_the_root_is_not_written_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _monorepo(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, repo / ".github")
    assert main(["build", str(repo / "ml")]) == 1
    found = capsys.readouterr()
    err = found.out + found.err
    assert (
        "error[CH831] `../.github/workflows` in the output directory `../.github/workflows` is `.github` is a "
        "symbolic link; Charter does not follow links"
    ) in err
    assert err.count("error[CH120] output not written: `.github` is a symbolic link") == 3
    assert list(elsewhere.iterdir()) == []


def test_manifest_entries_outside_the_workflows_are_not_trusted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pull request edits the manifest to claim a file above the project: it is neither deleted nor trusted."""
    repo = _monorepo(tmp_path)
    assert main(["build", str(repo / "ml")]) == 0
    victim = repo / "README.md"
    victim.write_text("the repository's own\n", "utf-8")
    manifest_path = repo / "ml" / ".charter" / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    digest = __import__("hashlib").sha256(b"the repository's own\n").hexdigest()
    manifest["files"]["../.github/workflows/../../README.md"] = digest
    manifest["files"]["../../outside.yml"] = digest
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    capsys.readouterr()
    assert main(["build", str(repo / "ml")]) == 1
    err = capsys.readouterr().err
    assert "manifest entry `../.github/workflows/../../README.md` is not trusted: not inside an output directory" in err
    assert "manifest entry `../../outside.yml` is not trusted: not inside an output directory" in err
    assert victim.read_text("utf-8") == "the repository's own\n"


def test_the_repositorys_own_workflows_at_the_root_are_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The root's `.github/workflows` is shared: a workflow not named like Charter's is the repository's; one that
    is (`model-rogue.yml`) and that no spec renders is CH830."""
    repo = _monorepo(tmp_path)
    workflows = repo / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "docs.yml").write_text("name: docs\n", "utf-8")
    assert main(["build", str(repo / "ml")]) == 0
    (workflows / "model-rogue.yml").write_text("name: rogue\n", "utf-8")
    capsys.readouterr()
    assert main(["build", str(repo / "ml"), "--check"]) == 1
    out = capsys.readouterr()
    assert (
        "error[CH830] `../.github/workflows/model-rogue.yml` is in the output directory `../.github/workflows` but "
        "no spec generates it"
    ) in out.out + out.err
    assert "docs.yml" not in out.out + out.err
    assert (workflows / "docs.yml").read_text("utf-8") == "name: docs\n"


def test_annotations_name_the_file_from_the_repository_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`charter check . --format github` in `ml/` (the workflows' working-directory): GitHub places `file=` from
    the repository root (GITHUB_WORKSPACE), so the annotation says `ml/models/...`, not `models/...`."""
    repo = _monorepo(tmp_path)
    model = repo / "ml" / "models" / "credit-default.yaml"
    model.write_text(model.read_text("utf-8").replace("      replicas: 2", "      replcas: 2", 1), "utf-8")
    line = model.read_text("utf-8").splitlines().index("      replcas: 2") + 1
    monkeypatch.chdir(repo / "ml")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(repo))
    assert main(["check", ".", "--format", "github"]) == 1
    out = capsys.readouterr().out
    span = f"line={line},col=7,endLine={line},endColumn=14,title=CH200"
    assert f"::error file=ml/models/credit-default.yaml,{span}" in out
    monkeypatch.delenv("GITHUB_WORKSPACE")
    assert main(["check", ".", "--format", "github"]) == 1
    assert f"::error file=models/credit-default.yaml,line={line},col=7," in capsys.readouterr().out


def test_init_below_the_repository_root_writes_the_workflows_at_the_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`charter init ml` in a clone: the new project's workflows are where GitHub reads them, without a warning."""
    repo = tmp_path / "mono"
    subprocess.run(["git", "init", "--quiet", str(repo)], check=True)
    assert main(["init", str(repo / "ml")]) == 0
    settings = (repo / "ml" / "charter.yaml").read_text("utf-8")
    assert "    workflows: ../.github/workflows   # the repository root's: GitHub runs only those\n" in settings
    assert main(["build", str(repo / "ml")]) == 0
    found = capsys.readouterr()
    assert "CH442" not in found.out + found.err
    assert (repo / ".github" / "workflows" / "model-ml.yml").is_file()
    assert main(["init", str(tmp_path / "alone")]) == 0  # no repository: as before
    assert "    workflows: .github/workflows\n" in (tmp_path / "alone" / "charter.yaml").read_text("utf-8")
