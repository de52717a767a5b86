"""Upload a trained model to its `serving.storageUri`, where KServe or the serving image reads it.

The destination is the model spec's `storageUri` (never a command-line value), the endpoint the Project's
`spec.endpoints` allows (compiler/core/endpoints.py: a MinIO-style `serving.endpointUrl` only when listed,
plain HTTP only where the entry says so), and the credentials the cloud's standard environment holds
(the train job's OIDC role). A version's model is immutable: a destination that already holds objects is
refused, so an evaluated model is never replaced under the URI that serves it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.core import repofs
from compiler.core.endpoints import Allowed, judge_s3_endpoint
from compiler.core.models.model import Serving
from compiler.core.models.project import Project
from compiler.gates.errors import UnusableInput
from compiler.gates.io import objectstore

# storageUri scheme -> the object store type that writes it (ODCS server types, as the gates read them).
UPLOADABLE = {"s3": "s3", "gs": "gcs"}
_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class Uploaded:
    files: int
    size: int


def destination(serving: Serving, project: Project | None) -> tuple[objectstore.Location, Any]:
    """Where the model goes and the filesystem that writes there, or UnusableInput saying why not."""
    scheme = serving.storage_uri.split("://", 1)[0]
    kind = UPLOADABLE.get(scheme)
    if kind is None:
        raise UnusableInput(
            f"storageUri {serving.storage_uri!r}: Charter uploads to s3:// and gs:// only",
            hint="upload the model yourself in a step after training, or store it in S3 or Google Cloud Storage",
        )
    location = objectstore.parse_location(kind, serving.storage_uri)
    if location.pattern is not None:
        raise UnusableInput(f"storageUri {serving.storage_uri!r}: a glob is not a place to store a model")
    verdict = judge_s3_endpoint(serving.endpoint_url, project) if kind == "s3" else Allowed()
    if not isinstance(verdict, Allowed):
        raise UnusableInput(f"serving.endpointUrl: {verdict.message}", hint=verdict.hint, code="CH750")
    region = project.spec.cloud.aws.region if project is not None and project.spec.cloud.aws else None
    plain_http = verdict.tls == "disabled"
    return location, objectstore.filesystem(location, serving.endpoint_url, region, plain_http=plain_http)


def model_files(source: Path) -> list[Path]:
    """The regular files under `source` (relative to the working directory, the job's checkout), sorted; links
    are neither followed nor uploaded, and none may be on the way: a `model-output` link committed in a pull
    request would otherwise send the runner's own files to the bucket."""
    try:
        info = repofs.inspect(Path.cwd(), source.as_posix())
    except repofs.Refused as refused:
        raise UnusableInput(
            f"{source}: {refused.reason}",
            hint="the model is read from the job's own directory (model-output/model), never through a link",
            code="CH760",
        ) from None
    if info is None or not stat.S_ISDIR(info.st_mode):
        raise UnusableInput(
            f"{source}: no such directory (or a link): the training image wrote no model",
            hint="the image writes its model under $CHARTER_OUTPUT/model/ (model-output/model/ in the job)",
            code="CH760",
        )
    files: list[Path] = []
    for folder, directories, names in os.walk(source, followlinks=False):
        directories[:] = sorted(d for d in directories if not os.path.islink(os.path.join(folder, d)))
        files.extend(Path(folder, name) for name in sorted(names) if stat.S_ISREG(os.lstat(Path(folder, name)).st_mode))
    if not files:
        raise UnusableInput(
            f"{source}: empty: the training image wrote no model",
            hint="the image writes its model under $CHARTER_OUTPUT/model/ (model-output/model/ in the job)",
            code="CH760",
        )
    return files


def upload(source: Path, location: objectstore.Location, filesystem: Any) -> Uploaded:
    """Every file under `source` to the location's prefix, keeping relative paths; refused when it holds any."""
    files = model_files(source)
    if objectstore.list_files(filesystem, location):
        raise UnusableInput(
            f"{location.display} already holds a model: a version's model is never replaced",
            hint="bump the model's `version` and its `storageUri`, or delete the old objects on purpose",
            code="CH761",
        )
    size = 0
    for path in files:
        key = f"{location.base}/{path.relative_to(source).as_posix()}"
        try:
            with path.open("rb") as data, filesystem.open_output_stream(key) as out:
                while chunk := data.read(_CHUNK):
                    out.write(chunk)
                    size += len(chunk)
        except OSError as error:
            raise UnusableInput(f"{location.display}: cannot write {path.name}: {_first_line(error)}") from None
    return Uploaded(len(files), size)


def _first_line(error: BaseException) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
