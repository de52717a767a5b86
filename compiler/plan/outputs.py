"""The plan's side of "output directories belong to Charter" (compiler/stages/ownership.py): what the head revision
holds in its output directories that its specs do not render.

Both revisions' output directories are listed, since a change may move one (`outputs.deploy`) and leave a file
behind in the old place, where Argo CD still syncs. An extra file is allowed only when the `allowExtra` of the
base and of the head both match it: the change under review cannot widen the allow-list to admit its own file.
"""

from __future__ import annotations

from compiler.core.codes import registered
from compiler.core.models.project import Outputs
from compiler.integrations.gitops.snapshot import Snapshot
from compiler.plan.rules import BreakingChange
from compiler.stages.emit.ownership import findings, output_directories, unowned_outputs
from compiler.stages.read.discovery import matches_glob

CODES = ("CH630", "CH631")


def unowned_in_head(base: Snapshot, head: Snapshot) -> list[BreakingChange]:
    """A finding per file, link or special entry in the head's output directories that no head spec renders."""
    if head.outputs is None:
        return []  # the head does not render: its errors fail the plan, and no file can be judged against it
    base_outputs, head_outputs = _outputs(base), _outputs(head)
    directories = list(dict.fromkeys(output_directories(head_outputs) + output_directories(base_outputs)))
    sources = head.result.input
    rendered = {output.path for output in head.outputs}
    entries = [
        entry
        for entry in unowned_outputs(sources, directories, rendered, ())
        if not (entry.regular and _allowed(entry.path, head_outputs) and _allowed(entry.path, base_outputs))
    ]
    project = head.result.project
    name = project.metadata.name if project is not None else "charter.yaml"
    owner = project.metadata.owner if project is not None else None
    found = findings(entries, CODES, lambda path: sources.display(sources.inside(path)))
    return [
        finding.with_changes(
            rule=registered(finding.code).name, kind="Project", name=name, concerns=(owner,) if owner else ()
        )
        for finding in found
    ]


def _outputs(snapshot: Snapshot) -> Outputs:
    project = snapshot.result.project
    return project.spec.outputs if project is not None else Outputs()


def _allowed(path: str, outputs: Outputs) -> bool:
    return any(matches_glob(path, pattern) for pattern in outputs.allow_extra)
