"""DVC data versions (issue 28): a contract's server names the DVC file of its data, the data gate records the
version (DVC's md5) in evidence and refuses data that is another version, and `check` locates a DVC file that does
not track the server's data. The `.dvc` files and `dvc.lock` are written by real DVC (`dvc init`, `dvc add`,
`dvc repro`) in a git repository the test makes; DVC lives in `.venv-dvc` (`make dvc`, hashed lock).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_gates_reach import CONTRACT, NOW, add_server
from test_gates_support import gate

from compiler.commands.cli import main
from compiler.gates.data import synthetic

ROOT = Path(__file__).resolve().parent.parent
DVC = Path(os.environ.get("CHARTER_DVC", ROOT / ".venv-dvc" / "bin" / "dvc"))
CREDIT = ROOT / "examples" / "credit-scoring"


def _run(*command: str, cwd: Path) -> None:
    environment = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd.parent), "DVC_NO_ANALYTICS": "1"}
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, timeout=300, env=environment)


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """credit-scoring in a git repository with DVC, its applications extract added with `dvc add`: made once, as
    DVC takes seconds to start (each test changes a copy of it)."""
    if not DVC.is_file():
        reason = f"no {DVC}: `make dvc` installs DVC from its hashed lock"
        if os.environ.get("CHARTER_REQUIRE_ORACLES") or os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("dvc") / "credit-scoring"
    shutil.copytree(CREDIT, root, ignore=shutil.ignore_patterns(".github", "deploy", "docs", ".charter"))
    _run("git", "init", "--quiet", cwd=root)
    _run(str(DVC), "init", "--quiet", cwd=root)
    (root / "data").mkdir(exist_ok=True)  # the example keeps its own DVC files there
    synthetic.write(synthetic.credit_applications(2_000), root / "data" / "applications.parquet")
    _run(str(DVC), "add", "--quiet", "data/applications.parquet", cwd=root)
    return root


@pytest.fixture
def project(tracked: Path, tmp_path: Path) -> Path:
    """A copy of the DVC repository for one test: its git repository, DVC's files and cache, the data."""
    return Path(shutil.copytree(tracked, tmp_path / "credit-scoring", symlinks=True))


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def _server(dvc_file: str) -> dict[str, Any]:
    return {
        "server": "versioned",
        "type": "local",
        "path": "data/applications.parquet",
        "format": "parquet",
        "customProperties": [{"property": "dvc", "value": dvc_file}],
    }


def _data_gate(root: Path, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    report = tmp_path / "report.json"
    argv = ["data", str(root), "--contract", "credit-applications", "--server", "versioned", "--now", NOW]
    code = gate([*argv, "--report", str(report)])
    return code, json.loads(report.read_text("utf-8"))


def test_the_gate_records_the_dvc_data_version(project: Path, tmp_path: Path) -> None:
    add_server(project, _server("data/applications.parquet.dvc"))
    code, report = _data_gate(project, tmp_path)
    assert (code, report.get("error")) in ((0, None), (1, None))  # measured: the verdict is the contract's
    (measured,) = report["inputs"]
    assert measured["dvc"] == {
        "file": "data/applications.parquet.dvc",
        "path": "data/applications.parquet",
        "md5": _md5(project / "data" / "applications.parquet"),
        "size": (project / "data" / "applications.parquet").stat().st_size,
    }


def test_a_dvc_lock_output_names_the_version_too(project: Path, tmp_path: Path) -> None:
    (project / "data" / "applications.parquet.dvc").unlink()
    shutil.move(project / "data" / "applications.parquet", project / "raw.parquet")
    _run(
        str(DVC),
        "stage",
        "add",
        "--quiet",
        "-n",
        "extract",
        "-d",
        "raw.parquet",
        "-o",
        "data/applications.parquet",
        "cp raw.parquet data/applications.parquet",
        cwd=project,
    )
    _run(str(DVC), "repro", "--quiet", cwd=project)
    # DVC's own dvc.yaml is no Charter spec: the project's globs name the spec folders (README, DVC data versions).
    charter = project / "charter.yaml"
    text = charter.read_text("utf-8")
    folders = ["contracts", "models", "suites", "environments", "policies", "waivers"]
    globs = "".join(f"\n    - {folder}/*.yaml" for folder in folders)
    charter.write_text(text.replace('  specs:\n    - "**/*.yaml"', f"  specs:{globs}"), "utf-8")
    add_server(project, _server("dvc.lock"))
    code, report = _data_gate(project, tmp_path)
    assert (code, report.get("error")) in ((0, None), (1, None))
    assert report["inputs"][0]["dvc"]["file"] == "dvc.lock"
    assert report["inputs"][0]["dvc"]["md5"] == _md5(project / "data" / "applications.parquet")


def test_data_that_is_another_version_is_refused(project: Path, tmp_path: Path) -> None:
    add_server(project, _server("data/applications.parquet.dvc"))
    recorded = _md5(project / "data" / "applications.parquet")
    synthetic.write(synthetic.credit_applications(2_000, seed=7), project / "data" / "applications.parquet")
    code, report = _data_gate(project, tmp_path)
    assert code == 2
    here = _md5(project / "data" / "applications.parquet")
    assert report["error"].startswith(
        f"CH778 data/applications.parquet is not the version data/applications.parquet.dvc records (md5 {recorded}, "
        f"here {here}): `dvc checkout` it, or `dvc add` / `dvc repro` and commit the new version"
    )


def test_a_dvc_file_that_does_not_exist_is_located(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_server(project, _server("data/missing.parquet.dvc"))
    capsys.readouterr()
    assert main(["check", str(project), "--format", "json"]) == 1
    (finding,) = [f for f in json.loads(capsys.readouterr().out)["diagnostics"] if f["code"] == "CH484"]
    contract = (project / CONTRACT).read_text("utf-8").splitlines()
    line = next(n for n, text in enumerate(contract, 1) if "data/missing.parquet.dvc" in text)
    assert (finding["file"], finding["line"]) == (str(project / CONTRACT), line)
    assert finding["message"] == "data/missing.parquet.dvc: no such file"


def test_the_card_names_the_data_version() -> None:
    from compiler.evidence.card import _input

    version = {"file": "data/applications.parquet.dvc", "path": "data/applications.parquet", "md5": "0" * 32}
    assert _input({"path": "x", "format": "parquet", "rows": 2000, "dvc": version})["dvc"] == "0" * 32
    assert _input({"path": "x", "format": "parquet", "rows": 2000})["dvc"] is None


def _commit(root: Path, message: str) -> None:
    _run("git", "add", "--all", cwd=root)
    _run("git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", message, cwd=root)


def test_the_plan_says_when_the_data_version_changed(project: Path) -> None:
    from compiler.core.diagnostics import Severity
    from compiler.plan.make import make_plan

    add_server(project, _server("data/applications.parquet.dvc"))
    _commit(project, "the applications, version 1")
    before = _md5(project / "data" / "applications.parquet")
    synthetic.write(synthetic.credit_applications(2_000, seed=7), project / "data" / "applications.parquet")
    _run(str(DVC), "add", "--quiet", "data/applications.parquet", cwd=project)
    _commit(project, "the applications, version 2")
    after = _md5(project / "data" / "applications.parquet")

    plan = make_plan(project, "HEAD~1", "HEAD", render=False)
    (change,) = [c for c in plan.breaking if c.code == "CH670"]
    contract = (project / CONTRACT).read_text("utf-8").splitlines()
    line = next(n for n, text in enumerate(contract, 1) if "data/applications.parquet.dvc" in text)
    assert (change.severity, change.file, change.line, change.rule) == (
        Severity.INFO,
        str(project / CONTRACT),
        line,
        "data-version-changed",
    )
    assert change.message == (
        f"server `versioned`: the data version data/applications.parquet.dvc records changed, md5 {before} -> "
        f"{after}: the gates judge the new version"
    )
    same = make_plan(project, "HEAD", "HEAD", render=False)
    assert [c for c in same.breaking if c.code == "CH670"] == []


def test_a_dvc_file_past_the_read_cap_is_located_not_a_traceback(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "data" / "huge.dvc").write_bytes(b"#" * (11 << 20))
    add_server(project, _server("data/huge.dvc"))
    capsys.readouterr()
    assert main(["check", str(project), "--format", "json"]) == 1
    (finding,) = [f for f in json.loads(capsys.readouterr().out)["diagnostics"] if f["code"] == "CH484"]
    assert finding["message"] == "data/huge.dvc: larger than 10,485,760 bytes: not a DVC file"
