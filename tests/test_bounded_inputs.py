"""Every input is bounded and linear (issue 30, item 4).

Memory bounds are real: the command runs in a child process under `prlimit --as`, so reading what should not
be read ends in a MemoryError there, not in a slow test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from test_plan_fixtures import git

ROOT = Path(__file__).resolve().parents[1]
MiB = 1024 * 1024
PROJECT = """\
apiVersion: charter/v1alpha1
kind: Project
metadata:
  name: lending
  owner: team-ml
spec:
  specs: ["**/*.yaml"]
  policies:
    packs: []
"""


def bounded(cwd: Path, memory: int, *argv: str) -> subprocess.CompletedProcess[str]:
    """`charter ARGV` in a child process that cannot map more than `memory` bytes."""
    return subprocess.run(
        ["prlimit", f"--as={memory}", sys.executable, "-m", "compiler", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), "CHARTER_TODAY": "2026-06-01"},
    )


def test_blobs_over_the_cap_are_sized_never_read(tmp_path: Path) -> None:
    """A base revision with four 80 MB spec files: `plan` reads none of them (320 MB would not fit in 400 MB
    of address space beside the interpreter, twice over as the old reader held them); each is CH116."""
    repo = tmp_path / "repo"
    (repo / "ml").mkdir(parents=True)
    git(repo, "init", "--quiet", "--initial-branch=main")
    (repo / "ml" / "charter.yaml").write_text(PROJECT, "utf-8")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "project")
    line = b"# " + b"x" * 97 + b"\n"
    for index in range(4):
        # Straight into the object database: the working tree never holds them.
        sha = subprocess.run(
            ["git", "hash-object", "-w", "--stdin"],
            cwd=repo,
            input=line * (800_000 + index),
            capture_output=True,
            check=True,
        ).stdout.decode("ascii")
        git(repo, "update-index", "--add", "--cacheinfo", f"100644,{sha.strip()},ml/big-{index}.yaml")
    git(repo, "commit", "--quiet", "-m", "data committed by mistake")
    git(repo, "rm", "--quiet", "--cached", "ml/big-0.yaml", "ml/big-1.yaml", "ml/big-2.yaml", "ml/big-3.yaml")
    git(repo, "commit", "--quiet", "-m", "data removed")
    done = bounded(repo, 400 * MiB, "plan", "ml", "--base", "HEAD~1")
    assert "internal error" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stdout + done.stderr
    for index in range(4):
        too_large = f"fixed  error[CH116] ml/big-{index}.yaml: file is larger than the limit of 10,485,760 bytes"
        assert too_large in done.stdout, done.stdout
    assert done.stdout.rstrip().endswith("charter plan: passes.")
