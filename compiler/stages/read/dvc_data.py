"""DVC-tracked data named by a contract's server: `customProperties: [{property: dvc, value: <file>}]`, where the
file is a `.dvc` file (`dvc add`) or a `dvc.lock` (a pipeline's outputs), relative to the project root.

The data version is the output's `md5` there: what `dvc checkout` restores for this commit. The gates record it
in evidence beside the rows they measured, so a card says which data version the model was judged on; a local
file that is not that version (changed without `dvc add` or `dvc repro`) is refused before anything is measured.
The files are read like specs: inside the project, never through a link, parsed by the hardened YAML loader.
"""

from __future__ import annotations

import hashlib
import posixpath
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.core import repofs
from compiler.core.diagnostics import Diagnostic, PathSegment
from compiler.core.odcs import read_odcs
from compiler.core.sources import Sources
from compiler.core.specs import Spec
from compiler.stages.read.load import load_bytes

_CHUNK = 8 * 1024 * 1024


class DvcError(Exception):
    """The named DVC file is missing, unreadable, or does not track the server's data."""


@dataclass(frozen=True)
class DataVersion:
    file: str
    """The `.dvc` file or `dvc.lock`, relative to the project root."""
    path: str
    """The tracked output, relative to the project root."""
    md5: str
    size: int | None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"file": self.file, "path": self.path, "md5": self.md5}
        if self.size is not None:
            data["size"] = self.size
        return data


Reader = Callable[[str], bytes]


def project_reader(sources: Sources) -> Reader:
    """Reads a DVC file named relative to the project root (which may sit below the repository's top), never
    one outside the project."""

    def read(file: str) -> bytes:
        return sources.read(project_file(sources, file), repofs.DEFAULT_CAP)

    return read


def project_file(sources: Sources, file: str) -> str:
    """The top-relative path of a DVC file named relative to the project root; Refused outside the project."""
    normal = posixpath.normpath(file)
    if posixpath.isabs(normal) or normal == ".." or normal.startswith("../"):
        raise repofs.Refused(file, "outside the project: name a DVC file inside it")
    return sources.inside(normal)


def data_version(read: Reader, file: str, data_path: str | None) -> DataVersion:
    """The version of `data_path` (the server's `path`, relative to the root) that `file` records; `read` reads a
    project file (repofs.read_bytes at the gate's root, the run's Sources in `check`)."""
    outs = _outputs(read, file)
    base = posixpath.dirname(file)
    wanted = posixpath.normpath(data_path) if data_path else None
    found = [out for out in outs if wanted is None or posixpath.normpath(posixpath.join(base, out[0])) == wanted]
    if not found:
        raise DvcError(f"{file} tracks no output at `{data_path}`" if data_path else f"{file} tracks no output")
    if len(found) > 1:
        raise DvcError(f"{file} tracks several outputs: the server's `path` must name one")
    out_path, md5, size = found[0]
    return DataVersion(file, posixpath.normpath(posixpath.join(base, out_path)), md5, size)


def verify_local(root: Path, version: DataVersion) -> None:
    """A tracked file that is here must be that version (DVC's md5 of its bytes); a directory's `.dir` md5 is
    a listing DVC keeps in its cache, so only files are compared."""
    if version.md5.endswith(".dir"):
        return
    digest = hashlib.md5(usedforsecurity=False)
    try:
        info = repofs.inspect(root, version.path)  # inside the root, no link on the way or at the end
        if info is None or not stat.S_ISREG(info.st_mode):
            raise DvcError(f"{version.path}: the DVC-tracked data is not here (`dvc pull` or `dvc checkout` it)")
        with (root / version.path).open("rb") as data:
            while chunk := data.read(_CHUNK):
                digest.update(chunk)
    except repofs.Refused as refused:
        raise DvcError(f"{version.path}: {refused.reason}") from None
    except OSError as error:
        raise DvcError(f"{version.path}: cannot read the DVC-tracked data ({error.strerror})") from None
    if digest.hexdigest() != version.md5:
        raise DvcError(
            f"{version.path} is not the version {version.file} records (md5 {version.md5}, here "
            f"{digest.hexdigest()}): `dvc checkout` it, or `dvc add` / `dvc repro` and commit the new version"
        )


def _outputs(read: Reader, file: str) -> list[tuple[str, str, int | None]]:
    try:
        raw = read(file)
    except repofs.Refused as refused:
        raise DvcError(f"{file}: {refused.reason}") from None
    except repofs.TooLarge as large:
        raise DvcError(f"{file}: larger than {large.cap:,} bytes: not a DVC file") from None
    except OSError:
        raise DvcError(f"{file}: cannot read the DVC file") from None
    loaded = load_bytes(raw, file)
    if loaded.diagnostics or not loaded.documents or not isinstance(loaded.documents[0].data, dict):
        raise DvcError(f"{file}: not a DVC file (YAML with `outs` or `stages`)")
    data = loaded.documents[0].data
    if posixpath.basename(file) == "dvc.lock":
        stages = data.get("stages")
        stages = stages if isinstance(stages, dict) else {}
        outs = [out for stage in stages.values() if isinstance(stage, dict) for out in stage.get("outs") or []]
    else:
        outs = data.get("outs") or []
    found = []
    for out in outs:
        if isinstance(out, dict) and isinstance(out.get("path"), str) and isinstance(out.get("md5"), str):
            size = out.get("size")
            found.append((out["path"], out["md5"], size if isinstance(size, int) else None))
    return found


def dvc_findings(specs: Iterable[Spec], read: Reader) -> list[Diagnostic]:
    """CH484 for a contract server whose named DVC file is missing, unreadable, or tracks nothing at its `path`."""
    findings = []
    for spec in specs:
        servers = read_odcs(spec.data).servers if spec.contract is not None else ()
        for server in servers:
            file, position = server.dvc_file, server.dvc_position
            if file is None or position is None:
                continue
            path: list[PathSegment] = ["servers", server.index, "customProperties", position, "value"]
            try:
                data_version(read, file, server.local_path)
            except DvcError as error:
                hint = "name the `.dvc` file `dvc add` wrote, or the `dvc.lock` whose stage outputs the server's path"
                findings.append(spec.finding("CH484", str(error), path, hint=hint))
    return findings
