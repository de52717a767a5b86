"""`make bench` (part): the worst shapes of input a pull request can commit, timed and sized.

Each row is a shape that was quadratic or unbounded before issue 30 and is now linear or refused early:

  4,000 findings, one file   4,000 small broken documents in one 350 KB file: `charter check` in text
                             against JSON (the text report split the file once per finding)
  the same, language server  publishing those findings against the check that found them
  80 MB blobs in a revision  `charter plan --base` over a revision holding four 80 MB spec files (they were
                             read whole; now sized first and refused unread): wall time and peak memory
  deep or huge report        `charter evidence record` of a report nested 900 deep, and of 150,000 values

It prints figures only and asserts nothing about time; the tests (tests/test_bounded_inputs.py) hold the
bounds.

    .venv/bin/python bench/worst.py [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing
sys.path.insert(0, str(ROOT / "tests"))

from compiler.lsp.workspace import Workspace  # noqa: E402

PROJECT = """\
apiVersion: charter/v1alpha1
kind: Project
metadata: {name: worst, owner: bench}
spec:
  specs: ["**/*.yaml"]
  policies: {packs: []}
"""
DOCUMENT = "apiVersion: charter/v1alpha1\nkind: Model\nmetadata: {{name: m{}, owner: t}}\nspec: [broken]\n"
# Runs a command and prints the largest resident set of it and its children, in KiB (Linux).
PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
    "stderr=subprocess.DEVNULL, check=False); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="charter-worst-"))
    rows: list[tuple[str, str, str]] = []
    try:
        rows += many_findings(work / "findings")
        rows += large_blobs(work / "blobs")
        rows += hostile_reports(work / "reports")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("| shape | measured | figure |\n| --- | --- | ---: |")
    for shape, what, figure in rows:
        print(f"| {shape} | {what} | {figure} |")
    return 0


def charter(cwd: Path, *argv: str) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "compiler", *argv], cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - started, done.returncode


def peak_mib(cwd: Path, *argv: str) -> float:
    command = [sys.executable, "-c", PEAK, sys.executable, "-m", "compiler", *argv]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=True)
    return int(done.stdout.strip()) / 1024


def many_findings(root: Path) -> list[tuple[str, str, str]]:
    root.mkdir(parents=True)
    (root / "charter.yaml").write_text(PROJECT, "utf-8")
    (root / "many.yaml").write_text("---\n".join(DOCUMENT.format(index) for index in range(4_000)), "utf-8")
    size = (root / "many.yaml").stat().st_size // 1024
    as_json = min(charter(root, "check", "many.yaml", "--format", "json")[0] for _ in range(2))
    as_text = min(charter(root, "check", "many.yaml", "--format", "text")[0] for _ in range(2))
    workspace = Workspace(root)
    started = time.perf_counter()
    checked = workspace.check({})
    checking = time.perf_counter() - started
    started = time.perf_counter()
    workspace.diagnostics(checked)
    publishing = time.perf_counter() - started
    shape = f"4,000 findings in one {size} KB file"
    return [
        (shape, "`check --format text` over `--format json`, wall", f"{as_text:.2f} s / {as_json:.2f} s"),
        (shape, "language server: publishing over checking", f"{publishing:.2f} s / {checking:.2f} s"),
    ]


def large_blobs(repo: Path) -> list[tuple[str, str, str]]:
    from test_plan_fixtures import git

    (repo / "ml").mkdir(parents=True)
    git(repo, "init", "--quiet", "--initial-branch=main")
    (repo / "ml" / "charter.yaml").write_text(PROJECT, "utf-8")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "project")
    line = b"# " + b"x" * 97 + b"\n"
    for index in range(4):
        blob = line * (800_000 + index)
        done = subprocess.run(
            ["git", "hash-object", "-w", "--stdin"], cwd=repo, input=blob, capture_output=True, check=True
        )
        sha = done.stdout.decode("ascii").strip()
        git(repo, "update-index", "--add", "--cacheinfo", f"100644,{sha},ml/big-{index}.yaml")
    git(repo, "commit", "--quiet", "-m", "data committed by mistake")
    git(repo, "rm", "--quiet", "-r", "--cached", "ml/big-0.yaml", "ml/big-1.yaml", "ml/big-2.yaml", "ml/big-3.yaml")
    git(repo, "commit", "--quiet", "-m", "data removed")
    took, _ = charter(repo, "plan", "ml", "--base", "HEAD~1")
    peak = peak_mib(repo, "plan", "ml", "--base", "HEAD~1")
    return [
        ("four 80 MB blobs in the base revision", "`plan --base`: wall, peak memory", f"{took:.2f} s, {peak:.0f} MiB")
    ]


def hostile_reports(folder: Path) -> list[tuple[str, str, str]]:
    project = folder / "credit"
    shutil.copytree(
        ROOT / "examples" / "credit-scoring", project, ignore=shutil.ignore_patterns("evidence", ".charter")
    )
    judged = {"model": "credit-default", "version": "3.2.0", "digest": "sha256:" + "0" * 64, "parts": {}}
    head = json.dumps({"gate": "eval", "charterVersion": "bench", "verdict": "pass", "judged": judged})[:-1]
    rows = []
    for shape, extra in (
        ("a gate report nested 900 deep", "[" * 900 + "]" * 900),
        ("a gate report of 150,000 values", "[" + ", ".join(['{"a": 1}'] * 150_000) + "]"),
    ):
        report = folder / "report.json"
        report.write_text(f'{head}, "extra": {extra}}}', "utf-8")
        took, code = charter(folder, "evidence", "record", "--project", str(project), str(report))
        rows.append((shape, "`evidence record`: wall, exit code", f"{took:.2f} s, exit {code}"))
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
