"""CH430: a contract's server that the gates may not contact, at the line of the field that chose it.

Where a gate sends the job's credentials is the Project's decision (`spec.endpoints`,
`compiler.core.endpoints`); a contract naming anything else is an error here, before any pipeline runs.
"""

from __future__ import annotations

from collections.abc import Iterable

from compiler.core.diagnostics import Diagnostic, PathSegment
from compiler.core.endpoints import Refusal, judge
from compiler.core.models.project import Project
from compiler.core.specs import Spec

CODE = "CH430"


def untrusted_servers(specs: Iterable[Spec], project: Project | None) -> list[Diagnostic]:
    """One finding per server entry of a contract that names an endpoint, host or account the Project does not."""
    findings: list[Diagnostic] = []
    for spec in specs:
        if spec.contract is None or not isinstance(spec.data, dict):
            continue
        servers = spec.data.get("servers")
        for index, server in enumerate(servers if isinstance(servers, list) else []):
            if not isinstance(server, dict):
                continue
            verdict = judge(server, project)
            if isinstance(verdict, Refusal):
                name = server.get("server")
                label = f"server `{name}`: " if isinstance(name, str) else ""
                at: list[PathSegment] = ["servers", index]
                if verdict.field in server:
                    at.append(verdict.field)
                findings.append(spec.finding(CODE, label + verdict.message, at, hint=verdict.hint))
    return findings
