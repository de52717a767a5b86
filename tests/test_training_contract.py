"""The train job fails when the image wrote no predictions (issue 22).

Measured: `model-output` was uploaded without `if-no-files-found: error`, so a training image that wrote
nothing "succeeded" and the evaluation gate failed later, far from the cause. The job now checks the
training contract at its boundary ($CHARTER_OUTPUT/predictions.parquet) and the upload refuses no files.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from scripts_support import runner_trained

ROOT = Path(__file__).resolve().parent.parent
# The examples train in a cluster (issue 28): the runner's train job is judged on copies trained on the runner.
EXAMPLES = sorted(path.parent.name for path in ROOT.glob("examples/*/charter.yaml"))


def _train_steps(pipeline: Path) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = yaml.safe_load(pipeline.read_text("utf-8"))["jobs"]["train"]["steps"]
    return steps


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_train_job_checks_the_training_contract(example: str, tmp_path: Path) -> None:
    (pipeline,) = (runner_trained(tmp_path / "built", example) / ".github" / "workflows").glob("model-*.yml")
    steps = _train_steps(pipeline)
    names = [step.get("name") for step in steps]
    check = steps[names.index("The training contract holds")]
    assert names.index("Run the training image") < names.index("The training contract holds")
    (upload,) = [step for step in steps if "upload-artifact" in str(step.get("uses"))]
    assert upload["with"] == {"name": "model-output", "path": "model-output/", "if-no-files-found": "error"}
    script = ["bash", "-e", "-c", check["run"]]
    nothing = subprocess.run(script, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert nothing.returncode == 1
    assert nothing.stdout.startswith("::error title=charter train::the training image wrote no $CHARTER_OUTPUT/")
    (tmp_path / "model-output").mkdir()
    (tmp_path / "model-output" / "predictions.parquet").write_bytes(b"PAR1")
    written = subprocess.run(script, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert written.returncode == 0
