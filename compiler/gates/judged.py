"""Stamp a gate report with what it judged: the model and version, the digests of their specs, the commit.

`charter evidence record` files reports by this block, and model cards compare its digests
with today's specs to mark evidence stale. The commit comes from the runner (`GITHUB_SHA`,
which GitHub sets, not the workflow's author) or from git; it is null outside a repository.
"""

from __future__ import annotations

import os
import re
from typing import Any

from compiler.core.gate_report import GateReport
from compiler.evidence.digest import Judged, judged_by_contract, judged_by_model
from compiler.gates.errors import UnusableInput
from compiler.gates.project import ProjectSpecs

_COMMIT = re.compile(r"^([0-9a-f]{40}|[0-9a-f]{64})$")


def stamp(report: GateReport, project: ProjectSpecs, model: str | None) -> None:
    """Set `report.judged`; `model` is the model the gate ran for (the data gate's is optional)."""
    judged: Judged | None
    block: dict[str, Any] = {}
    if model is not None:
        spec, found = project.model(model)
        judged = judged_by_model(project.resolved, spec.name, project.policies, project.project)
        block = {"model": spec.name, "version": found.spec.version}
    else:
        contract = project.contract(str(report.subject.get("contract")), _text(report.subject.get("version")))
        judged = judged_by_contract(contract, project.policies, project.project)
    if judged is None:  # pragma: no cover - project.model() raised already
        raise UnusableInput(f"no Model named `{model}`")
    report.judged = {**block, "commit": current_commit(project), **judged.to_json()}


def current_commit(project: ProjectSpecs) -> str | None:
    runner = os.environ.get("GITHUB_SHA", "").strip().lower()
    if _COMMIT.match(runner):
        return runner
    from compiler.integrations.gitops.git import GitError, Repo

    try:
        head = Repo.discover(project.root).resolve("HEAD")
    except GitError:
        return None
    return head if _COMMIT.match(head) else None


def _text(value: object) -> str | None:
    return None if value is None else str(value)
