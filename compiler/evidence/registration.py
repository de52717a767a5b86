"""The registration record: `evidence/<model>/<version>/registration.json`, written by `charter model register
--record` from the registry's answer, read back like the gates' records.

It is what a card and the report say of the registered version and of the run that trained it: never the spec,
which cannot know the number the registry gives. It is current while the spec digest and every evidence record it
was registered with are today's; a stale one is shown as such (the version in the registry is then not what the
gates judge today).
"""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.core import repofs
from compiler.core.fsutil import write_atomic
from compiler.core.models.registration import Registration
from compiler.evidence import EVIDENCE_DIR

FILE = "registration.json"


@dataclass(frozen=True)
class Registered:
    """A valid registration record, where it was read, and whether it is today's."""

    record: Registration
    path: str
    current: bool

    def version_url(self) -> str | None:
        """The registered version in the MLflow UI, when the record names the UI."""
        ui = self.record.ui
        return f"{ui.rstrip('/')}/#/models/{self.record.name}/versions/{self.record.registered_version}" if ui else None

    def run_url(self) -> str | None:
        """The training run in the MLflow UI, when the record names the UI and an MLflow run."""
        run, ui = self.record.run, self.record.ui
        if ui is None or run is None or run.mlflow_run is None or run.experiment is None:
            return None
        return f"{ui.rstrip('/')}/#/experiments/{run.experiment}/runs/{run.mlflow_run}"

    def run_label(self) -> str | None:
        run = self.record.run
        if run is None:
            return None
        return f"MLflow run {run.mlflow_run}" if run.mlflow_run is not None else str(run.wandb)


def registration_path(model: str, version: str) -> str:
    return f"{EVIDENCE_DIR}/{model}/{version}/{FILE}"


def file_registration(root: Path, record: Registration) -> str:
    """Write the record under the project root, never through a link; the path written, relative to the root."""
    relative = registration_path(record.model, record.version)
    info = repofs.inspect(root, relative)  # Refused when a link or a file is on the way
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise repofs.Refused(relative, "not a regular file")
    write_atomic(root / relative, render(record))
    return relative


def render(record: Registration) -> str:
    data = record.model_dump(mode="json", by_alias=True, exclude_none=True)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def is_current(record: Registration, spec_digest: str, digests: Mapping[str, str]) -> bool:
    """Registered with today's spec digest and with exactly today's evidence records (`digests`: their SHA-256)."""
    return record.spec_digest == spec_digest and dict(record.evidence) == dict(digests)


def record_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def card_view(registered: Registered | None) -> dict[str, Any] | None:
    """What the card shows of the registration: name, version, links, run; None when none is recorded."""
    if registered is None:
        return None
    record = registered.record
    return {
        "name": record.name,
        "version": record.registered_version,
        "url": registered.version_url(),
        "run": registered.run_label(),
        "run_url": registered.run_url(),
        "current": registered.current,
        "file": registered.path,
    }
