"""CH430 and CH433: a contract's server that the gates may not contact or read, at the line that chose it.

Where a gate sends the job's credentials is the Project's decision (`spec.endpoints`,
`compiler.core.endpoints`): a contract naming anything else is CH430. A location that could leave its
bucket or prefix, or a local path that leaves the project (`compiler.core.locations`), is CH433. Both are
errors here, before any pipeline runs; the gates refuse the same servers (CH750, CH752).
"""

from __future__ import annotations

from collections.abc import Iterable

from compiler.core.diagnostics import Diagnostic, PathSegment
from compiler.core.endpoints import Refusal, judge
from compiler.core.locations import LOCAL_HINT, LOCATION_HINT, local_parts, prefix_escape
from compiler.core.models.project import Project
from compiler.core.odcs import Server, read_odcs
from compiler.core.specs import Spec

CODE = "CH430"
LOCATION_CODE = "CH433"
_OBJECT_STORES = ("s3", "gcs", "azure")


def untrusted_servers(specs: Iterable[Spec], project: Project | None) -> list[Diagnostic]:
    """One finding per server entry of a contract that the gates may not contact or read as written."""
    findings: list[Diagnostic] = []
    for spec in specs:
        if spec.contract is None or not isinstance(spec.data, dict):
            continue
        for server in read_odcs(spec.data).servers:
            index, name = server.index, server.name
            label = f"server `{name}`: " if isinstance(name, str) else ""
            verdict = judge(server, project)
            if isinstance(verdict, Refusal):
                at: list[PathSegment] = ["servers", index]
                if server.writes(verdict.field):
                    at.append(verdict.field)
                findings.append(spec.finding(CODE, label + verdict.message, at, hint=verdict.hint))
            if (escape := _escape(server)) is not None:
                field, message, hint = escape
                findings.append(spec.finding(LOCATION_CODE, label + message, ["servers", index, field], hint=hint))
    return findings


def _escape(server: Server) -> tuple[str, str, str] | None:
    """(field, message, hint) when the server's location or path could lead the gate elsewhere."""
    kind, location, path = server.kind, server.location, server.path
    if kind in _OBJECT_STORES and isinstance(location, str) and "://" in location:
        why = prefix_escape(location, azure=kind == "azure")
        if why is not None:
            return "location", f"location `{location}`: {why}, so it could leave its bucket or prefix", LOCATION_HINT
    if kind == "local" and isinstance(path, str) and local_parts(path) is None:
        return "path", f"path `{path}` leaves the project: the gates read local paths inside it only", LOCAL_HINT
    return None
