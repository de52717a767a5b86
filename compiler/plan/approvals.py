"""Approvals a change needs, and the approvals GitHub says it has.

A governance change (a policy, pack, parameter, severity override, waiver, environment or trust setting
weakened or changed) passes only with an approving review from an owner. Who owns what is read from the
**base** revision's Project, never from the head. The plan lists what each change needs
(`Plan.approvals_needed`); offline commands say it; `charter github report` verifies it through GitHub's API
(`compiler.integrations.github.approvals`) and settles each need with the login that approved, or leaves the
finding an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from compiler.core.diagnostics import Diagnostic


@dataclass(frozen=True)
class ApprovalNeeded:
    """One finding that an approving review settles.

    `owners` are GitHub logins (`alice`) or teams (`acme/model-risk`). With `mode="any"` one approving owner
    is enough (governance owners); with `mode="all"` every one of them must approve (a waiver's `approvers`).
    """

    finding: Diagnostic
    owners: tuple[str, ...]
    reason: str
    mode: Literal["any", "all"] = "any"


@dataclass(frozen=True)
class Approval:
    """A need and who settled it: the logins whose approving reviews count, empty when it is not settled."""

    needed: ApprovalNeeded
    by: tuple[str, ...] = ()

    @property
    def settled(self) -> bool:
        return bool(self.by)
