"""`make demo` installs only Charter's runtime lock, ends cleanly, and says what to try next.

It installed the whole test lock (145 packages, a 1.6 GB virtualenv with playwright and mypy), took
9 min 20 s on a loaded 2-core machine, and ended with `make: [Makefile:60: demo] Error 1 (ignored)`.
It builds a virtualenv from PyPI (about 30 s on a warm package cache), so it runs under `make test`
and in CI (or with CHARTER_NETWORK_TESTS=1), like the published pre-commit hook's test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from checkout import copy_checkout

ROOT = Path(__file__).resolve().parent.parent
RUN = any(os.environ.get(name) for name in ("CHARTER_NETWORK_TESTS", "CHARTER_REQUIRE_ORACLES", "CI"))


def locked(lock: Path) -> set[str]:
    return {match.group(1).lower() for match in re.finditer(r"^([A-Za-z0-9_.-]+)==", lock.read_text("utf-8"), re.M)}


@pytest.mark.skipif(not RUN, reason="builds a virtualenv from PyPI (about 30 s)")
@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_demo_installs_the_runtime_lock_and_ends_cleanly(tmp_path: Path) -> None:
    venv = tmp_path / "demo-venv"
    # On a copy of the checkout: the demo writes .demo/, the editable install's egg-info and the examples'
    # check cache beside the files it reads, which the other test process of `make test` copies meanwhile.
    checkout = copy_checkout(tmp_path / "checkout")
    done = subprocess.run(
        ["make", "--no-print-directory", "demo", f"DEMO_VENV={venv}"],
        cwd=checkout, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Error" not in done.stderr
    assert "(ignored)" not in done.stdout + done.stderr
    lines = done.stdout.rstrip("\n").splitlines()
    assert lines[-1] == f"Next: {venv}/bin/charter init my-project && {venv}/bin/charter check my-project"
    assert "4 errors, 0 warnings, 0 infos in 5 files." in done.stdout
    assert "charter build --check: 12 generated files are current." in done.stdout
    frozen = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    installed = {line.split("==")[0].lower().replace("_", "-") for line in frozen.splitlines() if "==" in line}
    runtime = {name.replace("_", "-") for name in locked(ROOT / "requirements" / "runtime" / "core.txt")}
    assert installed - {"charter", "pip"} <= runtime
    assert not {"pytest", "playwright", "mypy"} & installed
