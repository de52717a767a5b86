"""The train job logs in to the image's registry and passes the training data's credentials into the
container, by name (issue 22).

Measured: the train job ran `docker run` with no registry login (a private image could never be pulled)
and gave the container no credentials (an image reading its training data from S3 or PostgreSQL had none).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from scripts_support import runner_trained

from compiler.commands.cli import main

ROOT = Path(__file__).resolve().parent.parent
ECR_IMAGE = (
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com/credit-default-train"
    "@sha256:9f94b0c6927104a081be99426d287f168a0e913d8043ab579a941bda65037b8d"
)
GHCR_IMAGE = (
    "ghcr.io/acme-bank/credit-default-train@sha256:9f94b0c6927104a081be99426d287f168a0e913d8043ab579a941bda65037b8d"
)
LOGIN = "Log in to the training image's registry"


def _train(pipeline: Path) -> dict[str, Any]:
    job: dict[str, Any] = yaml.safe_load(pipeline.read_text("utf-8"))["jobs"]["train"]
    return job


def _step(job: dict[str, Any], name: str) -> dict[str, Any]:
    (step,) = [step for step in job["steps"] if step.get("name") == name]
    return step


def _with_image(tmp_path: Path, image: str) -> Path:
    project = runner_trained(tmp_path, "credit-scoring")
    model = project / "models" / "credit-default.yaml"
    model.write_text(model.read_text("utf-8").replace(GHCR_IMAGE, image), "utf-8")
    return project


def _runner_job(tmp_path: Path, example: str) -> dict[str, Any]:
    project = runner_trained(tmp_path, example)
    (pipeline,) = (project / ".github" / "workflows").glob("model-*.yml")
    return _train(pipeline)


def test_ghcr_is_pulled_with_the_jobs_own_token(tmp_path: Path) -> None:
    job = _runner_job(tmp_path, "credit-scoring")
    assert job["permissions"] == {"contents": "read", "id-token": "write", "packages": "read"}
    assert "environment" not in job
    assert _step(job, LOGIN) == {
        "name": LOGIN,
        "run": 'printf \'%s\' "$REGISTRY_TOKEN" | docker login "$REGISTRY" --username "$REGISTRY_USER" '
        "--password-stdin",
        "env": {"REGISTRY": "ghcr.io", "REGISTRY_USER": "${{ github.actor }}", "REGISTRY_TOKEN": "${{ github.token }}"},
    }


def test_ecr_is_pulled_with_the_projects_aws_role(tmp_path: Path) -> None:
    project = _with_image(tmp_path, ECR_IMAGE)
    assert main(["build", str(project)]) == 0
    job = _train(project / ".github" / "workflows" / "model-credit-default.yml")
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    names = [step.get("name") for step in job["steps"]]
    assert (
        names.index("AWS credentials from the OIDC token") < names.index(LOGIN) < names.index("Run the training image")
    )
    assert _step(job, LOGIN) == {
        "name": LOGIN,
        "run": 'aws ecr get-login-password --region "$REGION" | docker login "$REGISTRY" --username AWS '
        "--password-stdin",
        "env": {"REGISTRY": "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "REGION": "eu-west-1"},
    }


def test_ecr_without_an_aws_role_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _with_image(tmp_path, ECR_IMAGE)
    charter = project / "charter.yaml"
    text = charter.read_text("utf-8")
    start = text.index("  cloud:\n")
    end = text.index("  # Who approves a change to governance.")
    charter.write_text(text[:start] + text[end:], "utf-8")
    # The training data in S3 needs the role as well: keep only the ECR finding in view.
    capsys.readouterr()
    assert main(["check", str(project), "--format", "json"]) == 1
    findings = [f for f in json.loads(capsys.readouterr().out)["diagnostics"] if f["code"] == "CH443"]
    assert [(f["file"], f["line"], f["column"], f["severity"]) for f in findings] == [
        (str(project / "models" / "credit-default.yaml"), 66, 12, "error")
    ]
    assert findings[0]["message"] == (
        "the training image is in Amazon ECR (123456789012.dkr.ecr.eu-west-1.amazonaws.com), but charter.yaml "
        "names no AWS role (`spec.cloud.aws`): the train job cannot log in to pull it"
    )


def _fake_docker(tmp_path: Path) -> Path:
    """A `docker` that records its arguments, its stdin and the variables it was given, as JSON."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "stdin = sys.stdin.read() if sys.argv[1] == 'login' else ''\n"
        "names = [n for n in ('PGUSER', 'PGPASSWORD') if n in os.environ]\n"
        f"open({str(tmp_path / 'docker.json')!r}, 'a').write(json.dumps([sys.argv[1:], stdin, names]) + '\\n')\n",
        "utf-8",
    )
    docker.chmod(0o755)
    return bin_dir


def _run(step: dict[str, Any], tmp_path: Path, extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **{k: v for k, v in step["env"].items() if "${{" not in v}, **extra}
    env["PATH"] = f"{_fake_docker(tmp_path)}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )


def _calls(tmp_path: Path) -> list[Any]:
    log = tmp_path / "docker.json"
    return [json.loads(line) for line in log.read_text("utf-8").splitlines()] if log.exists() else []


def test_database_credentials_reach_the_container_by_name_only(tmp_path: Path) -> None:
    job = _runner_job(tmp_path / "built", "demand-forecast")
    # Secrets only in a job bound to a GitHub environment, whose protection rules guard them.
    assert job["environment"] == "charter-data"
    step = _step(job, "Run the training image")
    assert step["env"]["TRAINING_ENV"] == '["PGPASSWORD", "PGUSER"]'
    assert step["env"]["PGUSER"] == "${{ secrets.PGUSER }}"
    assert step["env"]["PGPASSWORD"] == "${{ secrets.PGPASSWORD }}"
    done = _run(step, tmp_path, {"PGUSER": "forecaster", "PGPASSWORD": "s3cret-value"})
    assert done.returncode == 0, done.stderr
    ((argv, _, names),) = _calls(tmp_path)
    assert argv[: argv.index("--")] == [
        "run", "--rm", "--volume", f"{tmp_path}:/workspace", "--workdir", "/workspace",
        "--env", "CHARTER_OUTPUT=/workspace/model-output", "--env", "PGPASSWORD", "--env", "PGUSER",
        # spec.training.resources: limits.memory 8Gi, requests.memory 8Gi (CPU is the runner's)
        "--memory", str(8 * 2**30), "--memory-reservation", str(8 * 2**30),
    ]  # fmt: skip
    assert "s3cret-value" not in json.dumps(argv)
    assert names == ["PGUSER", "PGPASSWORD"]


def test_the_s3_credentials_reach_the_container_and_nothing_else(tmp_path: Path) -> None:
    job = _runner_job(tmp_path, "credit-scoring")
    step = _step(job, "Run the training image")
    assert json.loads(step["env"]["TRAINING_ENV"]) == [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ]
    assert not [name for name in step["env"] if name.startswith("PG")]


def test_another_registry_logs_in_with_the_environments_secrets(tmp_path: Path) -> None:
    project = _with_image(
        tmp_path, "quay.io/acme/train@sha256:9f94b0c6927104a081be99426d287f168a0e913d8043ab579a941bda65037b8d"
    )
    assert main(["build", str(project)]) == 0
    job = _train(project / ".github" / "workflows" / "model-credit-default.yml")
    assert job["environment"] == "charter-data"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    step = _step(job, LOGIN)
    assert step["env"] == {
        "REGISTRY": "quay.io",
        "REGISTRY_USERNAME": "${{ secrets.CHARTER_REGISTRY_USERNAME }}",
        "REGISTRY_PASSWORD": "${{ secrets.CHARTER_REGISTRY_PASSWORD }}",
    }
    work = tmp_path / "anonymous"
    work.mkdir()
    anonymous = _run(step, work, {"REGISTRY_USERNAME": "", "REGISTRY_PASSWORD": ""})
    assert (anonymous.returncode, anonymous.stdout, _calls(work)) == (
        0,
        "No CHARTER_REGISTRY_PASSWORD: pulling anonymously.\n",
        [],
    )
    work = tmp_path / "private"
    work.mkdir()
    private = _run(step, work, {"REGISTRY_USERNAME": "robot", "REGISTRY_PASSWORD": "p4ss"})
    assert private.returncode == 0, private.stderr
    assert _calls(work) == [[["login", "quay.io", "--username", "robot", "--password-stdin"], "p4ss", []]]
