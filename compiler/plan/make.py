"""`charter plan`: what a change does between two revisions.

Both revisions are checked in full by the same pipeline (see
`compiler.integrations.gitops.snapshot`), then compared: specs added, removed and
changed; findings new, fixed and still there; generated files that change;
and the breaking changes of `compiler.plan.breaking`.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from compiler.core.diagnostics import Diagnostic, Severity, exit_code, sort_diagnostics
from compiler.core.difftext import unified_diff
from compiler.core.exit_codes import FINDINGS, OK
from compiler.core.sources import display_path
from compiler.integrations.gitops.git import Repo
from compiler.integrations.gitops.snapshot import Snapshot, at_revision, at_worktree
from compiler.plan.approvals import ApprovalNeeded, needs
from compiler.plan.breaking import breaking_changes, verdict_flips
from compiler.plan.changes import SpecChange, diff_specs
from compiler.plan.crossed import governance_weakened
from compiler.plan.data_versions import data_versions_changed
from compiler.plan.outputs import unowned_in_head
from compiler.plan.rules import BreakingChange, Context
from compiler.stages import current_date

FAIL_ON = ("error", "warning", "never")


@dataclass
class FindingsDiff:
    new: list[Diagnostic] = field(default_factory=list)
    fixed: list[Diagnostic] = field(default_factory=list)
    still: list[Diagnostic] = field(default_factory=list)


@dataclass(frozen=True)
class FileChange:
    path: str  # relative to the project root
    status: str  # added | removed | changed
    diff: str


@dataclass
class Plan:
    project: str
    base_rev: str
    head_rev: str | None
    base: Snapshot
    head: Snapshot
    changes: list[SpecChange]
    breaking: list[BreakingChange]
    findings: FindingsDiff
    files: list[FileChange] | None
    files_note: str | None = None
    fail_on: str = "error"
    # Governance changes and who must approve them (owners read from the base revision).
    approvals_needed: list[ApprovalNeeded] = field(default_factory=list)

    @property
    def failing_breaking(self) -> list[BreakingChange]:
        if self.fail_on == "never":
            return []
        worst = Severity.ERROR if self.fail_on == "error" else Severity.WARNING
        return [change for change in self.breaking if change.severity.rank <= worst.rank]

    @property
    def failing_approvals(self) -> list[ApprovalNeeded]:
        """Governance changes no verified approval settled yet, at or above `fail_on`."""
        if self.fail_on == "never":
            return []
        worst = Severity.ERROR if self.fail_on == "error" else Severity.WARNING
        return [need for need in self.approvals_needed if any(f.severity.rank <= worst.rank for f in need.findings)]

    def exit_code(self) -> int:
        """1 when the head has an error finding, a breaking change at or above `fail_on`, or a governance
        change that needs an approval not verified yet."""
        failing = self.failing_breaking or self.failing_approvals
        return FINDINGS if exit_code(self.head.result.diagnostics) or failing else OK


def make_plan(
    path: Path,
    base: str,
    head: str | None = None,
    *,
    today: datetime.date | None = None,
    fail_on: str = "error",
    render: bool = True,
) -> Plan:
    """`render=False` leaves the generated files out (`files` is None): `check --changed-since` needs none."""
    today = today or current_date()
    repo = Repo.discover(path)
    base_snapshot = at_revision(path, base, today, repo=repo, outputs=render)
    if head:
        head_snapshot = at_revision(path, head, today, repo=repo, outputs=render)
    else:
        head_snapshot = at_worktree(path, today, outputs=render)
    changes = diff_specs(base_snapshot, head_snapshot)
    context = Context(base_snapshot, head_snapshot, verdict_flips(base_snapshot, head_snapshot))
    files, note = generated_changes(base_snapshot, head_snapshot)
    breaking = [
        *breaking_changes(changes, context),
        *unowned_in_head(base_snapshot, head_snapshot),
        *governance_weakened(base_snapshot, head_snapshot, today),
        *data_versions_changed(base_snapshot, head_snapshot),
    ]
    breaking.sort(key=lambda c: (c.severity.rank, c.kind or "", c.name or "", c.rule or "", c.message))
    return Plan(
        display_path(path),
        base,
        head,
        base_snapshot,
        head_snapshot,
        changes,
        breaking,
        findings_diff(base_snapshot.result.diagnostics, head_snapshot.result.diagnostics),
        files,
        note,
        fail_on,
        needs(changes, breaking, base_snapshot.result.project),
    )


def _identity(d: Diagnostic) -> tuple[object, ...]:
    """What makes a finding the same across revisions: not its line, which edits above it move."""
    return (d.code, d.severity.value, d.file, d.path, d.message, d.policy, d.rule, d.waiver)


def findings_diff(before: list[Diagnostic], after: list[Diagnostic]) -> FindingsDiff:
    remaining = Counter(_identity(d) for d in before)
    result = FindingsDiff()
    for d in sort_diagnostics(after):
        key = _identity(d)
        if remaining[key] > 0:
            remaining[key] -= 1
            result.still.append(d)
        else:
            result.new.append(d)
    unmatched = Counter(_identity(d) for d in after)
    for d in sort_diagnostics(before):
        key = _identity(d)
        if unmatched[key] > 0:
            unmatched[key] -= 1
        else:
            result.fixed.append(d)
    return result


def generated_changes(base: Snapshot, head: Snapshot) -> tuple[list[FileChange] | None, str | None]:
    notes = "; ".join(snapshot.render_note for snapshot in (base, head) if snapshot.render_note) or None
    if base.outputs is None or head.outputs is None:
        return None, notes or "not rendered"
    before = {output.path: output.text for output in base.outputs}
    after = {output.path: output.text for output in head.outputs}
    files = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        status = "added" if old is None else "removed" if new is None else "changed"
        files.append(FileChange(path, status, unified_diff(path, old or "", new or "")))
    return files, notes
