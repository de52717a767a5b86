"""`charter check --changed-since REV`: the base decides there too, and the check says what needs approval.

Where two revisions are known the head's specs are also judged by the base revision's governance
(`compiler.plan.crossed`). The check adds to its findings what the plan says about governance: a finding the
change hid (governance-weakened), a redefined slice, a changed trust setting, a widened waiver, each an
error at its line; and, as information, each approval the change will need in its pull request, with the
owners the base names (an offline check cannot verify a review: `charter github report` does).
"""

from __future__ import annotations

import datetime
from pathlib import Path

from compiler.core.diagnostics import Diagnostic, Severity
from compiler.plan.approvals import NEED_CODE
from compiler.plan.make import make_plan

GOVERNANCE_CODES = frozenset({"CH690", "CH692", "CH693", "CH694"})


def base_decides(root: Path, rev: str, today: datetime.date) -> list[Diagnostic]:
    """Governance findings of the change since `rev`, for a check of the working tree at `root`."""
    if root.is_file():
        return []
    plan = make_plan(root, rev, today=today, render=False)
    found = [change for change in plan.breaking if change.code in GOVERNANCE_CODES]
    needs = [finding for need in plan.approvals_needed for finding in need.findings if finding.code == NEED_CODE]
    return found + [need.with_changes(severity=Severity.INFO) for need in needs]
