"""An orchestrated training's predictions reach the evaluation gate (issue 28), from moto's S3 on 127.0.0.1.

In the cluster the training image writes its predictions beside the model (`CHARTER_PREDICTIONS_URI`,
`<storageUri>/predictions.parquet`); the GitHub train job copies them to `model-output/predictions.parquet` with
`charter model predictions`, from the endpoint charter.yaml trusts, never through a link, and fails with CH775
when the training wrote none.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_servers import S3
from test_model_upload import BUCKET, PREFIX, _project, fresh_bucket, s3

from compiler.commands.cli import main

__all__ = ["s3"]  # test_model_upload's moto server (a module-scoped fixture: one for this module too)

PREDICTIONS = b"PAR1" + bytes(range(256)) * 8 + b"PAR1"


@pytest.fixture
def bucket(s3: S3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    monkeypatch.chdir(tmp_path)  # the job's directory
    yield from fresh_bucket(s3, monkeypatch)


def _fetch(project: Path, *extra: str) -> int:
    return main(["model", "predictions", "--model", "credit-default", "--project", str(project), *extra])


def test_the_predictions_come_to_the_job(
    tmp_path: Path, s3: S3, bucket: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path, s3)
    bucket.put_object(Bucket=BUCKET, Key=PREFIX + "predictions.parquet", Body=PREDICTIONS)
    capsys.readouterr()
    assert _fetch(project) == 0
    assert capsys.readouterr().out == (
        "charter model predictions: s3://acme-models/credit-default/3.2.0/predictions.parquet (2,056 bytes) "
        "to model-output/predictions.parquet\n"
    )
    assert (tmp_path / "model-output" / "predictions.parquet").read_bytes() == PREDICTIONS


def test_no_predictions_is_a_failure(tmp_path: Path, s3: S3, bucket: Any, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path, s3)
    capsys.readouterr()
    assert _fetch(project) == 1
    assert capsys.readouterr().err == (
        "charter model predictions: CH775 s3://acme-models/credit-default/3.2.0/predictions.parquet: no such "
        "object: the training in the cluster wrote no predictions\n  hint: the image writes its predictions on the "
        "evaluation data to $CHARTER_PREDICTIONS_URI (<storageUri>/predictions.parquet); see the orchestrator's "
        "log of the run\n"
    )
    assert not (tmp_path / "model-output").exists()


def test_empty_predictions_are_a_failure(
    tmp_path: Path, s3: S3, bucket: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path, s3)
    bucket.put_object(Bucket=BUCKET, Key=PREFIX + "predictions.parquet", Body=b"")
    capsys.readouterr()
    assert _fetch(project) == 1
    assert capsys.readouterr().err.startswith("charter model predictions: CH775 s3://acme-models/credit-default/")
    assert not (tmp_path / "model-output" / "predictions.parquet").exists()


def test_a_link_on_the_way_is_not_written_through(
    tmp_path: Path, s3: S3, bucket: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pull request commits `model-output` as a link to the runner's home: nothing is written there."""
    project = _project(tmp_path, s3)
    bucket.put_object(Bucket=BUCKET, Key=PREFIX + "predictions.parquet", Body=PREDICTIONS)
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    os.symlink(elsewhere, tmp_path / "model-output")
    capsys.readouterr()
    assert _fetch(project) == 2
    assert capsys.readouterr().err == (
        "charter model predictions: CH752 model-output/predictions.parquet: model-output is a symbolic link: "
        "not written through\n"
    )
    assert list(elsewhere.iterdir()) == []
