"""The trained model reaches `serving.storageUri` (issue 22), in moto's S3 on 127.0.0.1.

Measured: nothing uploaded the model: the InferenceService pointed at a `storageUri` no job ever wrote.
`charter model upload` (the train job's last step) copies `$CHARTER_OUTPUT/model/` there, to the endpoint
charter.yaml trusts, and never replaces a version's stored model.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_servers import S3, moto_s3, trust

from compiler.commands.cli import main

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "acme-models"
PREFIX = "credit-default/3.2.0/"


@pytest.fixture(scope="module")
def s3() -> Iterator[S3]:
    with moto_s3() as server:
        yield server


def fresh_bucket(s3: S3, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """BUCKET, new, with moto's credentials in the environment: its client; emptied and deleted afterwards."""
    for name, value in s3.environment.items():
        monkeypatch.setenv(name, value)
    client: Any = s3.client()
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    yield client
    for listed in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=listed["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def bucket(s3: S3, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.chdir(Path.cwd())  # the tests move into the checkout they upload from; back afterwards
    yield from fresh_bucket(s3, monkeypatch)


def _project(tmp_path: Path, s3: S3, *, trusted: bool = True) -> Path:
    project = tmp_path / "credit-scoring"
    shutil.copytree(ROOT / "examples" / "credit-scoring", project)
    model = project / "models" / "credit-default.yaml"
    text = model.read_text("utf-8")
    model.write_text(
        text.replace("    modelFormat: xgboost\n", f"    modelFormat: xgboost\n    endpointUrl: {s3.endpoint_url}\n"),
        "utf-8",
    )
    if trusted:
        trust(project, s3=s3)
    return project


def _model(tmp_path: Path) -> Path:
    source = tmp_path / "model-output" / "model"
    (source / "booster").mkdir(parents=True)
    (source / "model.json").write_text('{"learner": "xgboost"}', "utf-8")
    (source / "booster" / "weights.bin").write_bytes(bytes(range(256)) * 4)
    # A link (to a credentials file, say) is neither followed nor uploaded.
    os.symlink("/etc/passwd", source / "passwd")
    return source


def _keys(client: Any) -> list[str]:
    return sorted(listed["Key"] for listed in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def _upload(project: Path, source: Path) -> int:
    """As the train job runs it: from the checkout, `--from` relative to it."""
    os.chdir(source.parent.parent)
    relative = source.relative_to(source.parent.parent).as_posix()
    return main(["model", "upload", "--model", "credit-default", "--project", str(project), "--from", relative])


def test_the_model_is_uploaded_to_its_storage_uri(
    tmp_path: Path, s3: S3, bucket: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    project, source = _project(tmp_path, s3), _model(tmp_path)
    capsys.readouterr()
    assert _upload(project, source) == 0
    assert capsys.readouterr().out == (
        "charter model upload: 2 files (1,046 bytes) to s3://acme-models/credit-default/3.2.0\n"
    )
    assert _keys(bucket) == [PREFIX + "booster/weights.bin", PREFIX + "model.json"]
    stored = bucket.get_object(Bucket=BUCKET, Key=PREFIX + "booster/weights.bin")["Body"].read()
    assert stored == bytes(range(256)) * 4


def test_a_stored_model_is_never_replaced(
    tmp_path: Path, s3: S3, bucket: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    project, source = _project(tmp_path, s3), _model(tmp_path)
    bucket.put_object(Bucket=BUCKET, Key=PREFIX + "model.json", Body=b"the evaluated model")
    capsys.readouterr()
    assert _upload(project, source) == 1
    assert capsys.readouterr().err == (
        "charter model upload: CH761 s3://acme-models/credit-default/3.2.0 already holds a model: a version's "
        "model is never replaced\n  hint: bump the model's `version` and its `storageUri`, or delete the old "
        "objects on purpose\n"
    )
    assert _keys(bucket) == [PREFIX + "model.json"]
    assert bucket.get_object(Bucket=BUCKET, Key=PREFIX + "model.json")["Body"].read() == b"the evaluated model"


def test_no_model_written_is_a_failure(tmp_path: Path, s3: S3, bucket: Any, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path, s3)
    capsys.readouterr()
    assert _upload(project, tmp_path / "model-output" / "model") == 1
    err = capsys.readouterr().err
    assert err == (
        "charter model upload: CH760 model-output/model: no such directory (or a link): the training image wrote "
        "no model\n  hint: the image writes its model under $CHARTER_OUTPUT/model/ (model-output/model/ in the job)\n"
    )
    assert _keys(bucket) == []


def test_a_link_on_the_way_is_refused(tmp_path: Path, s3: S3, bucket: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """A pull request commits `model-output` as a link to the runner's home: nothing of it is uploaded."""
    project = _project(tmp_path, s3)
    secrets = tmp_path / "home"
    (secrets / "model").mkdir(parents=True)
    (secrets / "model" / "credentials").write_text("[default]\naws_secret_access_key = x\n", "utf-8")
    (tmp_path / "checkout").mkdir()
    os.symlink(secrets, tmp_path / "checkout" / "model-output")
    capsys.readouterr()
    assert _upload(project, tmp_path / "checkout" / "model-output" / "model") == 1
    assert capsys.readouterr().err.startswith("charter model upload: CH760 model-output/model: ")
    assert _keys(bucket) == []


def test_an_endpoint_charter_yaml_does_not_list_is_not_contacted(
    tmp_path: Path, s3: S3, bucket: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    project, source = _project(tmp_path, s3, trusted=False), _model(tmp_path)
    capsys.readouterr()
    assert _upload(project, source) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"charter model upload: CH750 serving.endpointUrl: endpointUrl `{s3.endpoint_url}` is plain")
    assert _keys(bucket) == []


def test_check_names_the_untrusted_endpoint(tmp_path: Path, s3: S3, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    project = _project(tmp_path, s3, trusted=False)
    capsys.readouterr()
    assert main(["check", str(project), "--format", "json"]) == 1
    (finding,) = [f for f in json.loads(capsys.readouterr().out)["diagnostics"] if f["code"] == "CH444"]
    model = project / "models" / "credit-default.yaml"
    assert (finding["file"], finding["line"], finding["column"]) == (str(model), 79, 18)
    assert finding["message"].startswith(f"endpointUrl `{s3.endpoint_url}` is plain HTTP (a loopback address)")


def test_without_an_identity_to_write_with_nothing_is_uploaded(tmp_path: Path) -> None:
    import yaml

    project = tmp_path / "demand-forecast"
    shutil.copytree(ROOT / "examples" / "demand-forecast", project)
    charter = project / "charter.yaml"
    text = charter.read_text("utf-8")
    charter.write_text(text[: text.index("  # The train job uploads")] + text[text.index("  endpoints:") :], "utf-8")
    assert main(["build", str(project)]) == 0
    pipeline = project / ".github" / "workflows" / "model-demand-forecast.yml"
    job = yaml.safe_load(pipeline.read_text("utf-8"))["jobs"]["train"]
    names = [step.get("name") for step in job["steps"]]
    assert "Upload the model to its storageUri" not in names
    assert "Google Cloud credentials from the OIDC token" not in names
    assert "id-token" not in job["permissions"]


def test_the_train_job_uploads_after_the_training_contract_holds(tmp_path: Path) -> None:
    import yaml
    from scripts_support import runner_trained

    pipeline = runner_trained(tmp_path, "demand-forecast") / ".github" / "workflows" / "model-demand-forecast.yml"
    job = yaml.safe_load(pipeline.read_text("utf-8"))["jobs"]["train"]
    names = [step.get("name") for step in job["steps"]]
    assert names.index("Google Cloud credentials from the OIDC token") < names.index("Run the training image")
    assert names.index("The training contract holds") < names.index("Upload the model to its storageUri")
    upload = job["steps"][names.index("Upload the model to its storageUri")]
    assert upload["run"] == 'charter model upload --model "$MODEL" --from model-output/model'
    assert upload["env"] == {"MODEL": "demand-forecast"}
    assert job["permissions"]["id-token"] == "write"
    # The upload's credentials are the job's, not the container's: the image gets only its data's.
    run = job["steps"][names.index("Run the training image")]
    assert run["env"]["TRAINING_ENV"] == '["PGPASSWORD", "PGUSER"]'
