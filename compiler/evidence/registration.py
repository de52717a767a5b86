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

from pydantic import ValidationError

from compiler.core import repofs
from compiler.core.diagnostics import Diagnostic
from compiler.core.fsutil import write_atomic
from compiler.core.models.registration import Registration
from compiler.core.sources import Sources, unsafe_path_finding
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


def load_registration(
    sources: Sources, filed: tuple[str, str], spec_digest: str, records: Mapping[str, str]
) -> tuple[Registered | None, list[Diagnostic]]:
    """The registration of `filed` (model, version), if one is committed; `records`: each gate's record path.

    CH800 when it is not a registration record, CH801 when it names another model or version."""
    model, version = filed
    relative = registration_path(model, version)
    inside = sources.inside(relative)
    shown = sources.display(inside)
    try:
        data = json.loads(sources.read(inside).decode("utf-8"))
        record = Registration.model_validate(data)
        digests = {gate: _sha256(sources, sources.inside(path)) for gate, path in records.items()}
    except repofs.Refused as refused:  # a link or a special file: refused, nothing of it read
        return None, [unsafe_path_finding(refused, shown)]
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        where = _where(error)
        return None, [
            Diagnostic.of(
                "CH800",
                f"registration record is not valid{where}",
                shown,
                hint="it is written by `charter model register --record`; register again instead of editing it",
            )
        ]
    if (record.model, record.version) != (model, version):
        message = f"registration of {record.model} {record.version} filed under {model} {version}"
        return None, [Diagnostic.of("CH801", message, shown, hint="register again with `charter model register`")]
    current = record.spec_digest == spec_digest and dict(record.evidence) == digests
    return Registered(record, relative, current), []


def _where(error: Exception) -> str:
    if isinstance(error, ValidationError):
        detail = error.errors()[0]
        return f" at `{'.'.join(str(part) for part in detail['loc']) or 'the record'}`: {detail['msg']}"
    return ": not JSON"


def _sha256(sources: Sources, relative: str) -> str:
    return "sha256:" + hashlib.sha256(sources.read(relative)).hexdigest()


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
