"""Generated workflows install nothing by name alone (issue 10, THREATS.md: "a generated workflow that
installs a package by name alone runs whoever publishes that name").

Charter reaches a job through `uses: <repository>/setup@<40-hex commit>`: Charter from that commit, its
dependencies from that commit's hashed lock (setup/install.sh, requirements/runtime/). No `run:` script of a
generated workflow installs a package at all; a test below shows the detector catches each way of doing so.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from compiler.commands.cli import main
from compiler.core.pins import PINS

ROOT = Path(__file__).resolve().parent.parent
GENERATED = sorted(
    [*ROOT.glob("examples/*/.github/workflows/*.yml"), *ROOT.glob("tests/golden/*/.github/workflows/*.yml")]
)
# Commands that fetch and install software; `python -m pip` and `uv pip` are caught through `pip`.
INSTALLERS = {
    "pip",
    "pip3",
    "pipx",
    "uv",
    "uvx",
    "conda",
    "mamba",
    "npm",
    "npx",
    "yarn",
    "pnpm",
    "apt",
    "apt-get",
    "gem",
    "cargo",
    "go",
    "brew",
    "curl",
    "wget",
}


def installers_in(script: str) -> list[str]:
    """Every installer word a shell script runs, found in its tokens (not in comments or quoted text)."""
    found = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        try:
            tokens = list(lexer)
        except ValueError:  # an unbalanced quote: judge the words as they stand
            tokens = line.split()
        found += [token for token in tokens if token.rsplit("/", 1)[-1] in INSTALLERS]
    return found


def steps(path: Path) -> Iterator[dict[str, Any]]:
    workflow = YAML(typ="safe", pure=True).load(path.read_text("utf-8"))
    for job in workflow["jobs"].values():
        yield from job.get("steps", [])


def test_the_generated_workflows_are_all_here() -> None:
    names = {path.name for path in GENERATED}
    assert {"charter-pull-request.yml", "model-credit-default.yml", "monitor-demand-forecast.yml"} <= names


@pytest.mark.parametrize("path", GENERATED, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_script_installs_a_package(path: Path) -> None:
    for step in steps(path):
        assert installers_in(step.get("run", "")) == [], f"{step.get('name')}: {step.get('run')}"


@pytest.mark.parametrize("path", GENERATED, ids=lambda path: str(path.relative_to(ROOT)))
def test_charter_comes_from_the_pinned_setup_action(path: Path) -> None:
    charter = PINS["charter"]
    expected = f"{charter.repository}/setup@{charter.sha}"
    setups = [step for step in steps(path) if str(step.get("uses", "")).startswith(f"{charter.repository}/")]
    runs_charter = any("charter " in step.get("run", "") for step in steps(path))
    assert [step["uses"] for step in setups] == ([expected] * len(setups))
    assert bool(setups) == runs_charter
    text = path.read_text("utf-8")
    assert text.count(f"uses: {expected} # {charter.version}\n") == len(setups)
    for step in setups:
        assert set(step.get("with", {})) <= {"extras"}
        assert step.get("with", {}).get("extras", "") in ("", "gates", "gates,objectstore", "gates,postgres")


@pytest.mark.parametrize(
    "script",
    [
        'python -m pip install "charter[gates]==0.1.0"',
        "pip3 install --upgrade charter",
        "uv pip install charter",
        "set -e\nsudo apt-get install -y jq",
        "npx some-tool@latest",
        "curl -sSL https://example.com/install.sh | sh",
        "/usr/bin/pip install x",
        "echo ok && pipx run charter",
        "python -m \\\n  pip install charter",
    ],
)
def test_the_detector_catches_every_way_to_install(script: str) -> None:
    assert installers_in(script)


@pytest.mark.parametrize(
    "script", ['charter gate data . --contract "$CONTRACT"', "echo 'pip install is not run here'", "# pip install x"]
)
def test_the_detector_reads_commands_not_text(script: str) -> None:
    assert installers_in(script) == []


def test_a_project_chooses_its_charter_commit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An organisation's mirror of Charter at a commit it reviewed; the comment says where the pin comes from."""
    project = tmp_path / "demand-forecast"
    shutil.copytree(ROOT / "examples" / "demand-forecast", project)
    settings = project / "charter.yaml"
    mirror = "acme/charter-mirror"
    commit = "0123456789abcdef0123456789abcdef01234567"
    text = settings.read_text("utf-8")
    assert "  ci:\n" in text
    text = text.replace("  ci:\n", f"  ci:\n    charter:\n      repository: {mirror}\n      commit: {commit}\n")
    settings.write_text(text, "utf-8")
    assert main(["build", str(project)]) == 0
    capsys.readouterr()
    pipeline = (project / ".github/workflows/model-demand-forecast.yml").read_text("utf-8")
    setups = pipeline.count("/setup@")
    assert setups >= 2
    assert pipeline.count(f"uses: {mirror}/setup@{commit} # pinned in charter.yaml\n") == setups
    assert PINS["charter"].sha not in pipeline


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("commit", "v0.1.0", "a full commit SHA"),
        ("commit", "E379EB30708BA3B7552EC82D966952D5C70DF094", "a full commit SHA"),
        ("repository", "--upload-pack=evil/x", "a GitHub repository"),
    ],
)
def test_a_charter_pin_that_can_move_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str, value: str, expected: str
) -> None:
    project = tmp_path / "demand-forecast"
    shutil.copytree(ROOT / "examples" / "demand-forecast", project)
    settings = project / "charter.yaml"
    text = settings.read_text("utf-8").replace("  ci:\n", f"  ci:\n    charter:\n      {field}: '{value}'\n")
    settings.write_text(text, "utf-8")
    assert main(["check", str(project)]) == 1
    out = capsys.readouterr().out
    line = text.splitlines().index(f"      {field}: '{value}'") + 1
    assert f"charter.yaml:{line}:" in out
    assert expected in out


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False)


def test_the_pinned_commit_is_in_this_repository_with_its_setup_action_and_locks() -> None:
    """The default pin names a commit of this repository that holds the setup action and every runtime lock."""
    if not (ROOT / ".git").exists() or _git("rev-parse", "--is-shallow-repository").stdout.strip() != "false":
        pytest.skip("needs the repository's history (a full clone)")
    sha = PINS["charter"].sha
    assert _git("merge-base", "--is-ancestor", sha, "HEAD").returncode == 0, f"{sha} is not an ancestor of HEAD"
    listed = set(_git("ls-tree", "-r", "--name-only", sha).stdout.split())
    locks = {f"requirements/runtime/{name}.txt" for name in ("core", "gates", "gates-objectstore", "gates-postgres")}
    assert {"setup/action.yml", "setup/install.sh", *locks} <= listed
    version = _git("show", f"{sha}:compiler/__init__.py").stdout
    assert f'__version__ = "{PINS["charter"].version.removeprefix("v")}"' in version


def test_init_writes_the_charter_pin_into_the_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The pin is the project's: visible in charter.yaml, so CI installs what renders the committed files."""
    project = tmp_path / "churn"
    assert main(["init", str(project)]) == 0
    text = (project / "charter.yaml").read_text("utf-8")
    assert f"      commit: {PINS['charter'].sha}\n" in text
    assert main(["check", str(project)]) == 0
    capsys.readouterr()
