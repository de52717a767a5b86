"""Issue 10: a pull request's repository is hostile. Each attack is one row of ATTACKS.

A row stages a copy of examples/credit-scoring (built once, so its manifest is
real), applies the attack (links, manifest entries, charter.yaml edits), runs a
command, and asserts the exact findings (code, file, line, column), that no file
outside the output directories changed, and that no byte of the outside secret
or of the environment appears in stdout or stderr, in every output format.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "credit-scoring"
SECRET = "TOP-SECRET-7f3a9c"
ENV_SECRET = "ENV-SECRET-51d2e8"
OUTPUT_DIRS = (".github/workflows", "deploy", "docs/models")


@dataclass(frozen=True)
class Attack:
    name: str
    arrange: Callable[[Path, Path], None]  # (project, outside secret file)
    command: tuple[str, ...]
    expected: tuple[tuple[str, str, int, int], ...]  # (code, file, line, column)
    exit_code: int = 1


def _manifest_lists(*paths: str) -> Callable[[Path, Path], None]:
    def arrange(project: Path, secret: Path) -> None:
        manifest = project / ".charter/manifest.json"
        data = json.loads(manifest.read_text("utf-8"))
        for path in paths:
            data["files"][path] = "0" * 64
        manifest.write_text(json.dumps(data, indent=2) + "\n", "utf-8")

    return arrange


def _manifest_links(project: Path, secret: Path) -> None:
    (project / "deploy/secret.yaml").symlink_to(secret)
    (project / "deploy/environ.yaml").symlink_to("/proc/self/environ")
    _manifest_lists("deploy/secret.yaml", "deploy/environ.yaml")(project, secret)


def _spec_link(project: Path, secret: Path) -> None:
    (project / "models/passwd.yaml").symlink_to(secret)


def _charter_dir_link(project: Path, secret: Path) -> None:
    elsewhere = secret.parent / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(project / ".charter")
    (project / ".charter").symlink_to(elsewhere)


def _output_link(project: Path, secret: Path) -> None:
    target = project / "docs/models/credit-default.md"
    target.unlink()
    target.symlink_to("/dev/zero")


def _edit_project(old: str, new: str) -> Callable[[Path, Path], None]:
    def arrange(project: Path, secret: Path) -> None:
        path = project / "charter.yaml"
        text = path.read_text("utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), "utf-8")

    return arrange


ATTACKS = [
    Attack(
        "manifest-lists-repository-files",
        _manifest_lists("README.md", "charter.yaml", "models/credit-default.yaml", ".git/config"),
        ("build",),
        tuple(("CH902", ".charter/manifest.json", line, 5) for line in (16, 17, 18, 19)),  # after its 12 outputs
    ),
    Attack(
        "manifest-lists-links-to-secrets",
        _manifest_links,
        ("build", "--check"),
        (("CH902", ".charter/manifest.json", 16, 5), ("CH902", ".charter/manifest.json", 17, 5)),
    ),
    Attack("spec-is-a-link", _spec_link, ("check",), (("CH120", "models/passwd.yaml", 0, 0),)),
    Attack("charter-dir-is-a-link", _charter_dir_link, ("build",), (("CH120", ".charter/manifest.json", 0, 0),)),
    Attack(
        "output-is-a-link-to-dev-zero",
        _output_link,
        ("build", "--check"),
        (("CH120", "docs/models/credit-default.md", 0, 0),),
    ),
    Attack(
        "policy-path-outside-the-repository",
        _edit_project("      - policies/", "      - /etc"),
        ("check",),
        (("CH205", "charter.yaml", 34, 9),),
    ),
    Attack(
        "absolute-spec-glob",
        _edit_project('    - "**/*.yaml"', '    - "/etc/*"'),
        ("check",),
        (("CH205", "charter.yaml", 18, 7),),
    ),
    Attack(
        "outputs-into-git",
        _edit_project("deploy: deploy", "deploy: .git/refs"),
        ("build",),
        (("CH208", "charter.yaml", 45, 13),),
    ),
]


def _stage(tmp_path: Path) -> tuple[Path, Path]:
    project = tmp_path / "project"
    shutil.copytree(EXAMPLE, project, symlinks=True)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    secret = tmp_path / "secret.txt"
    secret.write_text(f"{SECRET}\nroot:x:0:0\n", "utf-8")
    return project, secret


def _tree(project: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project).as_posix()
        if path.is_symlink():
            files[relative] = b"-> " + str(path.readlink()).encode()
        elif path.is_file() and not relative.startswith((*OUTPUT_DIRS, ".charter/")):
            files[relative] = path.read_bytes()
    return files


def _run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH: the Charter of this checkout (an installed one may be another's).
    env = {"PATH": "/usr/bin:/bin", "CHARTER_TODAY": "2026-11-01", "LEAK_ME": ENV_SECRET, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "compiler", *args]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.name for attack in ATTACKS])
def test_attack_is_refused(attack: Attack, tmp_path: Path) -> None:
    project, secret = _stage(tmp_path)
    attack.arrange(project, secret)
    before = _tree(project)
    done = _run(project, *attack.command, ".", "--format", "json")
    assert done.returncode == attack.exit_code, done.stderr
    if attack.command[0] == "check" or any(code.startswith(("CH2", "CH4")) for code, *_ in attack.expected):
        found = json.loads(done.stdout)["diagnostics"]
        unwaived = [d for d in found if not d.get("waiver")]
        assert [(d["code"], d["file"], d["line"], d["column"]) for d in unwaived] == list(attack.expected)
    else:
        for code, file, line, column in attack.expected:
            where = f"{file}:{line}:{column}" if line else file
            assert f"{where}: error[{code}]" in done.stderr
    assert _tree(project) == before, "a file outside the output directories changed"
    assert not (tmp_path / "elsewhere" / "manifest.json").exists(), "the manifest was written through a link"
    for fmt in ("text", "sarif", "github"):
        shown = _run(project, *attack.command, ".", "--format", fmt)
        for leaked in (SECRET, ENV_SECRET, "root:x:0:0"):
            assert leaked not in shown.stdout + shown.stderr, f"{fmt} output leaks {leaked}"
