"""The Charter the examples pin, installed the way the setup action installs it, checks and builds them (issue 22).

`uses: charter-dev/charter/setup@<commit>`: GitHub downloads the repository at that commit and the action
runs setup/install.sh with `github.action_repository` and `github.action_ref`. This test does the same with
the commit the examples pin (`ci.charter.commit`): `git archive` of that commit, a new virtual environment,
install.sh, and then that Charter's `charter check` and `charter build --check` on the examples as they are
committed now. Before issue 22 the pin was a Charter 109 commits old that rejected the examples.

When it fails because the pinned Charter renders other files: commit the change, `make pin`, commit again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(path.parent for path in ROOT.glob("examples/*/charter.yaml"))


def pinned(example: Path) -> tuple[str, str]:
    settings = YAML(typ="safe", pure=True).load((example / "charter.yaml").read_text("utf-8"))
    charter = settings["spec"]["ci"]["charter"]
    return charter["repository"], charter["commit"]


def test_every_example_pins_one_charter_of_this_repository() -> None:
    pins = {pinned(example) for example in EXAMPLES}
    assert len(pins) == 1, pins
    ((repository, commit),) = pins
    assert repository == "charter-dev/charter"
    assert len(commit) == 40


def _git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, check=False)


@pytest.fixture(scope="module")
def pinned_charter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with the pinned Charter, installed by that commit's own setup/install.sh."""
    repository, commit = pinned(EXAMPLES[0])
    if _git("cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        pytest.skip(f"needs the repository's history: {commit} is not in this clone")
    work = tmp_path_factory.mktemp("setup")
    source = work / "action"
    archive = _git("archive", "--format=tar", commit)
    assert archive.returncode == 0, archive.stderr
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(source, filter="data")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(venv),
        "EXTRAS": "",
        "CHARTER_REPOSITORY": repository,
        "CHARTER_COMMIT": commit,
    }
    env.pop("PYTHONPATH", None)
    install = ["bash", str(source / "setup" / "install.sh")]
    done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == f"charter 0.1.0 (commit {commit} of {repository})"
    return venv


def _charter(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(
        [str(venv / "bin" / "charter"), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_the_pinned_charter_checks_and_builds_the_examples(pinned_charter: Path, example: Path, tmp_path: Path) -> None:
    project = tmp_path / example.name
    shutil.copytree(example, project)
    checked = _charter(pinned_charter, "check", project.name, "--color", "never", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    built = _charter(pinned_charter, "build", project.name, "--check", cwd=tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    # The Charter that runs is the one the workflows install: nothing to warn about (CH440).
    assert "CH440" not in built.stderr
    assert built.stdout.strip().endswith("generated files are current.")
