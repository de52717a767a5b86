"""Bring an orchestrated training's predictions to the evaluation gate: `<storageUri>/predictions.parquet`, which
the training image wrote in the cluster (`CHARTER_PREDICTIONS_URI`), to `model-output/predictions.parquet` in the
GitHub job, where the gate reads them as it reads a runner's training output.

The store is the model's own `serving.storageUri` at the endpoint charter.yaml trusts (model_store.destination),
with the cloud's standard credentials; the target is written inside the job's directory, never through a link.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from compiler.core.models.model import Serving
from compiler.core.models.project import Project
from compiler.gates.errors import UnusableInput
from compiler.gates.io import model_store

PREDICTIONS = "predictions.parquet"
_CHUNK = 8 * 1024 * 1024


def fetch(serving: Serving, project: Project | None, target: Path) -> tuple[str, int]:
    """Copy the predictions beside the stored model to `target`; where they came from and their size."""
    location, filesystem = model_store.destination(serving, project)
    key = f"{location.base}/{PREDICTIONS}"
    display = f"{location.display.rstrip('/')}/{PREDICTIONS}"
    _refuse_link(target)
    size = _copy(filesystem, key, display, target)
    if size == 0:
        target.unlink()
        raise UnusableInput(
            f"{display} is empty: the training in the cluster wrote no predictions",
            hint="the image writes its predictions on the evaluation data to $CHARTER_PREDICTIONS_URI",
            code="CH775",
        )
    return display, size


def _copy(filesystem: Any, key: str, display: str, target: Path) -> int:
    from pyarrow import fs

    try:
        info = filesystem.get_file_info(key)
    except OSError as error:
        raise UnusableInput(f"{display}: cannot read: {_first_line(error)}") from None
    if info.type != fs.FileType.File:
        raise UnusableInput(
            f"{display}: no such object: the training in the cluster wrote no predictions",
            hint="the image writes its predictions on the evaluation data to $CHARTER_PREDICTIONS_URI "
            "(<storageUri>/predictions.parquet); see the orchestrator's log of the run",
            code="CH775",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    try:
        with filesystem.open_input_stream(key) as source, target.open("xb") as out:
            while chunk := source.read(_CHUNK):
                out.write(chunk)
                size += len(chunk)
    except OSError as error:
        raise UnusableInput(f"{display}: cannot copy: {_first_line(error)}") from None
    return size


def _refuse_link(target: Path) -> None:
    """The target is new, in the job's directory, and no link lies on its way (a committed `model-output` link
    would send the predictions anywhere)."""
    if target.is_absolute() or ".." in target.parts:
        raise UnusableInput(f"{target}: give a path inside the job's directory", code="CH752")
    current = Path()
    for part in target.parts:
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return
        if stat.S_ISLNK(mode):
            raise UnusableInput(f"{target}: {current} is a symbolic link: not written through", code="CH752")
    raise UnusableInput(f"{target} already exists: predictions are fetched once, into a new file", code="CH752")


def _first_line(error: BaseException) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
