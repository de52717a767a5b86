"""What a change does to the data the models are judged on: a contract server's DVC data version (the md5 its
`.dvc` file or `dvc.lock` records, compiler/stages/read/dvc_data.py) that differs between the base and the head.

CH670 (info), at the server's DVC property in the head's contract: the gates now judge another version of the
data, so evidence measured on the base's version no longer says what the next run will measure. A DVC file that
either revision cannot read is `check`'s finding (CH484), not the plan's.
"""

from __future__ import annotations

from compiler.core.diagnostics import PathSegment
from compiler.core.odcs import Server, read_odcs
from compiler.integrations.gitops.snapshot import Snapshot
from compiler.plan.rules import BreakingChange
from compiler.stages import dvc_data

CODE = "CH670"


def data_versions_changed(base: Snapshot, head: Snapshot) -> list[BreakingChange]:
    """A finding per contract server whose DVC data version the change moves."""
    found: list[BreakingChange] = []
    for spec in head.result.specs:
        servers = read_odcs(spec.data).servers if spec.contract is not None else ()
        for server in servers:
            file, position = server.dvc_file, server.dvc_position
            if file is None or position is None:
                continue
            before = _version(base, file, server)
            after = _version(head, file, server)
            if before is None or after is None or before.md5 == after.md5:
                continue
            path: list[PathSegment] = ["servers", server.index, "customProperties", position, "value"]
            message = (
                f"server `{server.name}`: the data version {file} records changed, md5 {before.md5} -> "
                f"{after.md5}: the gates judge the new version"
            )
            hint = "run the model's pipeline on it: evidence measured on the old version says nothing of the new"
            finding = spec.finding(CODE, message, path, hint=hint)
            found.append(finding.with_changes(rule="data-version-changed", kind=spec.kind, name=spec.name))
    return found


def _version(snapshot: Snapshot, file: str, server: Server) -> dvc_data.DataVersion | None:
    try:
        read = dvc_data.project_reader(snapshot.result.input)
        return dvc_data.data_version(read, file, server.local_path)
    except (dvc_data.DvcError, OSError):
        return None
