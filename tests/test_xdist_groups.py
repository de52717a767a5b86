"""`make test` runs pytest in two processes (pytest-xdist, `--dist loadgroup`): tests sharing a fixture of the
suite's own set up once per module (a server, Spark, a browser) run in one process, so it is set up once; the
others are handed out one by one (tests/conftest.py). Checked on a small suite run with the suite's conftest."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

CONFTEST = Path(__file__).resolve().parent / "conftest.py"

SHARED = """\
import os

import pytest


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with open(os.environ["SETUPS"], "a") as log:
        log.write(f"{os.getpid()}\\n")
    return "started"


@pytest.mark.parametrize("n", range(6))
def test_uses_the_server(server, n):
    assert server == "started"
"""

ALONE = """\
import pytest


@pytest.mark.parametrize("n", range(6))
def test_alone(n, tmp_path):  # tmp_path comes from pytest's session-scoped tmp_path_factory: no group
    assert tmp_path.is_dir()
"""


def test_tests_sharing_a_module_fixture_run_in_one_process_and_set_it_up_once(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(CONFTEST.read_text("utf-8"), "utf-8")
    (suite / "test_a_alone.py").write_text(ALONE, "utf-8")  # first: the other process is free for the shared ones
    (suite / "test_shared.py").write_text(SHARED, "utf-8")
    setups = tmp_path / "setups.log"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v", "-p", "no:cacheprovider",
         "-W", "error", "--rootdir", str(suite), str(suite)],
        cwd=suite, capture_output=True, text=True, check=False, timeout=300,
        env={**_without_pytest_variables(), "SETUPS": str(setups)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    ran = re.findall(r"^\[(gw\d)\] \[\s*\d+%\] PASSED (\S+)", done.stdout, re.MULTILINE)
    shared = {(worker, test) for worker, test in ran if test.startswith("test_shared.py")}
    assert len(shared) == 6
    assert len({worker for worker, _ in shared}) == 1, shared
    assert all(test.endswith("]@test_shared") for _, test in shared), shared  # how the scheduler knows the group
    assert all(not test.endswith("@test_a_alone") for _, test in ran if test.startswith("test_a_alone.py"))
    assert len(setups.read_text("utf-8").splitlines()) == 1


def _without_pytest_variables() -> dict[str, str]:
    """This process's environment without what xdist sets in its workers (PYTEST_XDIST_WORKER...)."""
    return {name: value for name, value in os.environ.items() if not name.startswith("PYTEST_")}
