"""Generated workflows install nothing by name alone (issue 10, THREATS.md: "a generated workflow that
installs a package by name alone runs whoever publishes that name").

Charter reaches a job through `uses: <repository>/setup@<40-hex commit>`: Charter from that commit, its
dependencies from that commit's hashed lock (setup/install.sh, requirements/runtime/). No `run:` script of a
generated workflow installs a package, but one: the Kubeflow Pipelines train step installs kfp into a venv of its
own with `--require-hashes --no-deps` from the hash-pinned lock Charter writes beside the pipeline, in exactly that
form. Tests below show the detector catches each way of installing, and each looser form of that one install.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

import compiler
from compiler.commands.cli import main
from compiler.core import installed
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


# The one install a generated script may run: the Kubeflow Pipelines train step's kfp, into a venv of its own, by
# hash only, from the lock Charter writes beside the pipeline (compiler/stages/render/orchestration_job.py).
_VENV_PYTHON = re.compile(r"\$RUNNER_TEMP/[a-z]+/bin/python")
_BY_HASH = ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--quiet", "--require-hashes"]
_BY_HASH += ["--no-deps", "--requirement", "$REQUIREMENTS"]
# A lock's requirement: one version, an optional marker, and its sha256 hashes; nothing else (no URL, no option).
_HASHED = re.compile(
    r"[A-Za-z0-9._-]+(\[[A-Za-z0-9._,-]+\])?==[^\s;]+( ; (?:(?!--)[^\\])+)?( --hash=sha256:[0-9a-f]{64})+"
)


def _tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def hash_pinned_lock(lock: Path) -> bool:
    """Every requirement of `lock` is one version with its hashes, so pip installs exactly what was reviewed."""
    text = lock.read_text("utf-8").replace("\\\n", " ")
    requirements = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return bool(requirements) and all(_HASHED.fullmatch(" ".join(line.split())) for line in requirements)


def installs_by_hash_from_the_pipelines_lock(step: dict[str, Any], project: Path) -> bool:
    """The step's only install is `<venv>/bin/python -m pip install ... --require-hashes --no-deps --requirement
    "$REQUIREMENTS"`, and REQUIREMENTS is the hash-pinned lock committed beside the pipeline the step submits."""
    installs = [line for line in step["run"].replace("\\\n", " ").splitlines() if installers_in(line)]
    if len(installs) != 1:
        return False
    tokens = _tokens(installs[0])
    env = step.get("env") or {}
    pipeline, lock = str(env.get("PIPELINE", "")), str(env.get("REQUIREMENTS", ""))
    return (
        bool(_VENV_PYTHON.fullmatch(tokens[0]))
        and tokens[1:] == _BY_HASH
        and pipeline.endswith("/pipeline.py")
        and lock == pipeline.removesuffix("pipeline.py") + "requirements.txt"
        and (project / pipeline).is_file()
        and (project / lock).is_file()
        and hash_pinned_lock(project / lock)
    )


@pytest.mark.parametrize("path", GENERATED, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_script_installs_a_package(path: Path) -> None:
    project = path.parents[2]
    for step in steps(path):
        found = installers_in(step.get("run", ""))
        if found == ["pip"] and installs_by_hash_from_the_pipelines_lock(step, project):
            continue
        assert found == [], f"{step.get('name')}: {step.get('run')}"


def test_the_kfp_train_step_is_the_one_install_and_it_is_by_hash() -> None:
    """The credit-scoring example trains on Kubeflow Pipelines: exactly its train step installs, in that form."""
    path = ROOT / "examples/credit-scoring/.github/workflows/model-credit-default.yml"
    installing = [step for step in steps(path) if installers_in(step.get("run", ""))]
    assert [step["name"] for step in installing] == ["Train in the cluster: a Kubeflow Pipelines run"]
    assert installs_by_hash_from_the_pipelines_lock(installing[0], path.parents[2])


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("--require-hashes \\\n", "\\\n"),  # by name and version alone
        ("--no-deps ", ""),  # dependencies resolved anew
        ('"$REQUIREMENTS"', '"$REQUIREMENTS" kfp'),  # one more package by name
        ('"$RUNNER_TEMP/kfp/bin/python" -m pip', "pip"),  # into the runner's own Python
    ],
)
def test_a_looser_kfp_install_is_caught(old: str, new: str) -> None:
    path = ROOT / "examples/credit-scoring/.github/workflows/model-credit-default.yml"
    (step,) = [step for step in steps(path) if installers_in(step.get("run", ""))]
    assert old in step["run"]
    assert installs_by_hash_from_the_pipelines_lock(step, path.parents[2])  # as generated
    assert not installs_by_hash_from_the_pipelines_lock(
        {**step, "run": step["run"].replace(old, new, 1)}, path.parents[2]
    )


@pytest.mark.parametrize(
    ("env", "lock_text"),
    [
        ({"REQUIREMENTS": "requirements/test.txt"}, None),  # a lock elsewhere than beside the pipeline
        ({}, "kfp==2.14.0\n"),  # no hash
        ({}, "kfp>=2 \\\n    --hash=sha256:" + "0" * 64 + "\n"),  # a range
        ({}, "--index-url https://example.com/simple\nkfp==2.14.0 --hash=sha256:" + "0" * 64 + "\n"),  # an option
        ({}, ""),  # nothing pinned
        ({}, "kfp==2.14.0 ; x --index-url https://example.com/simple --hash=sha256:" + "0" * 64 + "\n"),  # smuggled
    ],
)
def test_the_lock_must_sit_beside_the_pipeline_and_pin_every_requirement_by_hash(
    tmp_path: Path, env: dict[str, str], lock_text: str | None
) -> None:
    source = ROOT / "examples/credit-scoring"
    path = source / ".github/workflows/model-credit-default.yml"
    (step,) = [step for step in steps(path) if installers_in(step.get("run", ""))]
    pipeline = Path(step["env"]["PIPELINE"])
    shutil.copytree(source / pipeline.parent, tmp_path / pipeline.parent)
    assert installs_by_hash_from_the_pipelines_lock(step, tmp_path)  # the copy as written passes
    if lock_text is not None:
        (tmp_path / pipeline.parent / "requirements.txt").write_text(lock_text, "utf-8")
    assert not installs_by_hash_from_the_pipelines_lock({**step, "env": {**step["env"], **env}}, tmp_path)


def project_pin(workflow: Path) -> tuple[str, str, str]:
    """(repository, commit, version comment) the project of a generated workflow pins, from its charter.yaml."""
    example = workflow.relative_to(ROOT).parts[2 if workflow.is_relative_to(ROOT / "tests") else 1]
    project = ROOT / "examples" / example  # a golden file is what its example builds
    settings = YAML(typ="safe", pure=True).load((project / "charter.yaml").read_text("utf-8"))
    chosen = (settings["spec"].get("ci") or {}).get("charter") or {}
    charter = PINS["charter"]
    repository, commit = chosen.get("repository", charter.repository), chosen.get("commit", charter.sha)
    known = (repository, commit) == (charter.repository, charter.sha)
    return repository, commit, charter.version if known else "pinned in charter.yaml"


@pytest.mark.parametrize("path", GENERATED, ids=lambda path: str(path.relative_to(ROOT)))
def test_charter_comes_from_the_pinned_setup_action(path: Path) -> None:
    repository, commit, comment = project_pin(path)
    expected = f"{repository}/setup@{commit}"
    setups = [step for step in steps(path) if str(step.get("uses", "")).startswith(f"{repository}/")]
    runs_charter = any("charter " in step.get("run", "") for step in steps(path))
    assert [step["uses"] for step in setups] == ([expected] * len(setups))
    assert bool(setups) == runs_charter
    text = path.read_text("utf-8")
    assert text.count(f"uses: {expected} # {comment}\n") == len(setups)
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
    project = _pinned_copy(tmp_path, None)
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
    project = _pinned_copy(tmp_path, None)
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


# --- Charter knows which Charter it is, and says when the workflows install another (issue 22) ----------------

OTHER = "fedcba9876543210fedcba9876543210fedcba98"


def _running(monkeypatch: pytest.MonkeyPatch, commit: str | None, repository: str = "charter-dev/charter") -> None:
    charter = installed.Installation("0.1.0", "git" if commit else "directory", repository, commit)
    monkeypatch.setattr(installed, "running", lambda: charter)


def _pinned_copy(tmp_path: Path, commit: str | None) -> Path:
    project = tmp_path / "demand-forecast"
    shutil.copytree(ROOT / "examples" / "demand-forecast", project)
    settings = project / "charter.yaml"
    text = re.sub(r"    charter:\n      repository: \S+\n      commit: \S+\n", "", settings.read_text("utf-8"))
    if commit:
        text = text.replace(
            "  ci:\n", f"  ci:\n    charter:\n      repository: charter-dev/charter\n      commit: {commit}\n"
        )
    settings.write_text(text, "utf-8")
    return project


def test_build_warns_when_the_pinned_charter_is_not_the_one_building(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """CI's `build --check` runs the pinned Charter: a build by another one is said, at the pin, with the fix."""
    project = _pinned_copy(tmp_path, PINS["charter"].sha)
    _running(monkeypatch, OTHER)
    assert main(["build", str(project)]) == 0
    err = capsys.readouterr().err
    line = (project / "charter.yaml").read_text("utf-8").splitlines().index(f"      commit: {PINS['charter'].sha}") + 1
    assert f"charter.yaml:{line}:15: warning[CH440] the generated workflows install Charter e379eb30708b " in err
    assert f"(pinned in charter.yaml), but this is charter 0.1.0 (commit {OTHER} of charter-dev/charter)" in err
    assert f"commit: {OTHER}}}}}" in err
    # The files do not depend on the machine: the workflows install the pinned commit, whoever builds.
    pipeline = (project / ".github/workflows/model-demand-forecast.yml").read_text("utf-8")
    assert OTHER not in pipeline
    assert f"/setup@{PINS['charter'].sha} # v0.1.0\n" in pipeline
    assert main(["build", str(project), "--check"]) == 0
    assert "warning[CH440]" in capsys.readouterr().err


def test_a_project_without_a_pin_is_told_where_to_pin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _pinned_copy(tmp_path, None)
    _running(monkeypatch, OTHER)
    assert main(["build", str(project)]) == 0
    line = (project / "charter.yaml").read_text("utf-8").splitlines().index("  ci:") + 1
    err = capsys.readouterr().err
    assert f"charter.yaml:{line}:3: warning[CH440] the generated workflows install Charter e379eb30708b " in err
    assert "(the release this Charter knows; charter.yaml pins none)" in err


@pytest.mark.parametrize("commit", [OTHER, None])
def test_no_warning_when_the_pinned_charter_builds_or_cannot_tell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], commit: str | None
) -> None:
    """In CI the setup action installs the pinned commit; a Charter installed from a directory cannot tell."""
    project = _pinned_copy(tmp_path, OTHER)
    _running(monkeypatch, commit)
    assert main(["build", str(project)]) == 0
    assert "CH440" not in capsys.readouterr().err


def test_init_pins_the_charter_that_runs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _running(monkeypatch, OTHER, "acme/charter-mirror")
    project = tmp_path / "churn"
    assert main(["init", str(project)]) == 0
    text = (project / "charter.yaml").read_text("utf-8")
    assert f"      repository: acme/charter-mirror\n      commit: {OTHER}\n" in text
    assert main(["build", str(project)]) == 0
    assert f"uses: acme/charter-mirror/setup@{OTHER} # pinned in charter.yaml\n" in (
        project / ".github/workflows/model-churn.yml"
    ).read_text("utf-8")
    assert "CH440" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("direct_url", "expected"),
    [
        (
            {"url": "https://github.com/charter-dev/charter.git", "vcs_info": {"vcs": "git", "commit_id": OTHER}},
            ("git", "charter-dev/charter", OTHER),
        ),
        (
            {"url": "https://git.example.com/charter", "vcs_info": {"vcs": "git", "commit_id": OTHER}},
            ("git", None, OTHER),
        ),
        ({"url": "https://github.com/a/b", "vcs_info": {"vcs": "git", "commit_id": "main"}}, ("git", "a/b", None)),
        ({"url": "file:///src/charter", "dir_info": {}}, ("directory", None, None)),
        (None, ("release", PINS["charter"].repository, PINS["charter"].sha)),
    ],
)
def test_what_an_installation_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct_url: dict[str, Any] | None, expected: tuple[Any, ...]
) -> None:
    """PEP 610: a git install records its commit; a release from an index records nothing (pins.py knows it)."""
    site = tmp_path / "site"
    package = site / "compiler"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('__version__ = "0.1.0"\n', "utf-8")
    info = site / "charter-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: charter\nVersion: 0.1.0\n", "utf-8")
    (info / "RECORD").write_text("compiler/__init__.py,,\n", "utf-8")
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url), "utf-8")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(compiler, "__file__", str(package / "__init__.py"))
    found = installed.running()
    assert (found.how, found.repository, found.commit) == expected


def test_metadata_of_another_copy_is_not_believed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A source tree first on PYTHONPATH runs its own code: the installed copy's commit would be a lie."""
    site = tmp_path / "site"
    info = site / "charter-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: charter\nVersion: 0.1.0\n", "utf-8")
    url = {"url": "https://github.com/charter-dev/charter", "vcs_info": {"vcs": "git", "commit_id": OTHER}}
    (info / "direct_url.json").write_text(json.dumps(url), "utf-8")
    monkeypatch.syspath_prepend(str(site))
    assert installed.running() == installed.Installation(compiler.__version__, "source")


def test_version_says_what_is_running(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _running(monkeypatch, OTHER)
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"charter 0.1.0 (commit {OTHER} of charter-dev/charter)\n"
