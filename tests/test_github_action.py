"""`action.yml`: the composite action parses, validates and is safe.

Oracles: the GitHub Action metadata JSON Schema (vendored by
check-jsonschema, offline), zizmor (when installed), and actionlint (when
installed; it reads a local action's metadata through a workflow that uses it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.core.pins import PINS

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
SETUP = ROOT / "setup" / "action.yml"
BIN = Path(sys.executable).parent


def action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ACTION.read_text("utf-8"))
    return loaded


def test_a_composite_action_that_checks_builds_and_reports() -> None:
    data = action()
    assert data["runs"]["using"] == "composite"
    runs = [step.get("run", "") for step in data["runs"]["steps"]]
    assert any(run.endswith('bash "$INSTALL"\n') for run in runs)
    assert any(run.startswith('charter check "$CHARTER_PATH" --format github') for run in runs)
    assert any(run.startswith('charter build "$CHARTER_PATH" --check') for run in runs)
    assert any("charter github report" in run for run in runs)


@pytest.mark.parametrize("path", [ACTION, SETUP], ids=["action", "setup"])
def test_inputs_never_reach_a_script_as_an_expression(path: Path) -> None:
    data: dict[str, Any] = yaml.safe_load(path.read_text("utf-8"))
    declared = set(data["inputs"])
    for step in data["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step["name"]
            assert step["shell"] == "bash"
        for value in [*step.get("env", {}).values(), *step.get("with", {}).values(), step.get("if", "")]:
            for name in re.findall(r"inputs\.([A-Za-z0-9_-]+)", str(value)):
                assert name in declared, name


def test_actions_are_pinned_to_the_same_commits_as_generated_workflows() -> None:
    used = [step["uses"] for step in action()["runs"]["steps"] if "uses" in step]
    assert used == [PINS["setup_python"].ref]
    assert all(re.fullmatch(r"[\w./-]+@[0-9a-f]{40}", ref) for ref in used)
    text = ACTION.read_text("utf-8")
    assert f"{PINS['setup_python'].ref} # {PINS['setup_python'].version}" in text


def test_the_setup_action_installs_from_its_own_commit_and_hashed_lock() -> None:
    """`charter-dev/charter/setup@<sha>`: what generated pipelines use; nothing by name alone."""
    data: dict[str, Any] = yaml.safe_load(SETUP.read_text("utf-8"))
    assert data["runs"]["using"] == "composite"
    (step,) = data["runs"]["steps"]
    assert step["run"] == 'bash "$INSTALL"'
    assert step["env"] == {
        "EXTRAS": "${{ inputs.extras }}",
        "INSTALL": "${{ github.action_path }}/install.sh",
        "CHARTER_REPOSITORY": "${{ github.action_repository }}",
        "CHARTER_COMMIT": "${{ github.action_ref }}",
    }
    installs = [line.strip() for line in (ROOT / "setup" / "install.sh").read_text("utf-8").splitlines()]
    pip = [line for line in installs if line.startswith('"${pip[@]}"')]
    assert pip == [
        '"${pip[@]}" --require-hashes --no-deps -r "$root/requirements/runtime/$lock.txt"',
        '"${pip[@]}" --no-deps --no-build-isolation "$root"',
    ]


@pytest.mark.parametrize("extras", ["unknown", "gates;rm -rf /", "gates,objectstore,"])
def test_the_setup_script_refuses_extras_it_has_no_lock_for(extras: str) -> None:
    done = subprocess.run(
        ["bash", str(ROOT / "setup" / "install.sh")],
        env={"EXTRAS": extras, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout.startswith("::error title=charter setup::unknown extras")


@pytest.mark.parametrize("path", [ACTION, SETUP], ids=["action", "setup"])
def test_the_action_metadata_schema(path: Path) -> None:
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", [ACTION, SETUP], ids=["action", "setup"])
def test_zizmor_finds_nothing(path: Path) -> None:
    zizmor = shutil.which("zizmor", path=str(BIN)) or shutil.which("zizmor")
    if zizmor is None:
        pytest.skip("zizmor is not installed")
    done = subprocess.run(
        [zizmor, "--offline", "--no-progress", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _actionlint() -> str | None:
    for candidate in (ROOT / "node_modules" / ".bin" / "actionlint", BIN / "actionlint"):
        if candidate.exists():
            return str(candidate)
    return shutil.which("actionlint")


def test_actionlint_accepts_a_workflow_that_uses_the_action(tmp_path: Path) -> None:
    """The way users call the action; actionlint (the binary) also reads a local action's inputs."""
    actionlint = _actionlint()
    if actionlint is None:
        pytest.skip("actionlint is not installed")
    shutil.copy(ACTION, tmp_path / "action.yml")
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    checkout = PINS["checkout"]
    (workflows / "charter.yml").write_text(
        f"""\
name: charter
on:
  pull_request:
permissions: {{}}
jobs:
  charter:
    runs-on: ubuntu-24.04
    permissions:
      contents: read
      checks: write
      pull-requests: write
    steps:
      - uses: {checkout.ref} # {checkout.version}
        with:
          fetch-depth: 0
          persist-credentials: false
      - uses: ./
        with:
          path: examples/credit-scoring
          fail-on: warning
          build-check: "false"
""",
        "utf-8",
    )
    subprocess.run(["git", "init", "--quiet"], cwd=tmp_path, check=True)
    done = subprocess.run(
        [actionlint, "-no-color", ".github/workflows/charter.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
