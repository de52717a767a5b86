"""The plan's side of "output directories belong to Charter" (compiler/stages/emit/ownership.py): what the head revision
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
from compiler.stages import unrendered_findings

CODES = ("CH630", "CH631")


def unowned_in_head(base: Snapshot, head: Snapshot) -> list[BreakingChange]:
    """A finding per file, link or special entry in the head's output directories that no head spec renders."""
    if head.outputs is None:
        return []  # the head does not render: its errors fail the plan, and no file can be judged against it
    rendered = {output.path for output in head.outputs}
    found = unrendered_findings(head.result.input, (_outputs(head), _outputs(base)), rendered, CODES)
    project = head.result.project
    name = project.metadata.name if project is not None else "charter.yaml"
    owner = project.metadata.owner if project is not None else None
    return [
        finding.with_changes(
            rule=registered(finding.code).name, kind="Project", name=name, concerns=(owner,) if owner else ()
        )
        for finding in found
    ]


def _outputs(snapshot: Snapshot) -> Outputs:
    project = snapshot.result.project
    return project.spec.outputs if project is not None else Outputs()
