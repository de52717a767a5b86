"""Approvals a change needs, and the approvals GitHub says it has.

A governance change (a policy, pack, parameter, severity override, waiver, environment or trust setting
weakened or changed) passes only with an approving review from an owner. Who owns what is read from the
**base** revision's Project, never from the head. The plan lists what each change needs
(`Plan.approvals_needed`); offline commands say it; `charter github report` verifies it through GitHub's API
(`compiler.integrations.github.approvals`) and settles each need with the login that approved, or leaves the
finding an error.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from compiler.core.diagnostics import Diagnostic, PathSegment, Severity, format_path
from compiler.core.models.project import GovernanceOwners, Project
from compiler.core.models.waiver import Waiver
from compiler.integrations.gitops.snapshot import Located
from compiler.plan.changes import SpecChange, content

if TYPE_CHECKING:
    from compiler.plan.make import Plan


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
        """Any approving owner settles a need of mode `any`; one of mode `all` needs every owner among `by`
        (GitHub logins compare without case)."""
        if self.needed.mode == "all":
            approved = {login.casefold() for login in self.by}
            return bool(self.by) and all(owner.casefold() in approved for owner in self.needed.owners)
        return bool(self.by)


# --- what a change needs ---------------------------------------------------------------------------

NEED_CODE = "CH691"
# Which owners approve a change to a kind of spec, and to a section of the Project.
_KIND_OWNERS = {"Policy": "policies", "Waiver": "waivers", "Environment": "environments"}
_PROJECT_SECTIONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("policies",), "policies"),
    (("governance",), "trust"),
    (("ci",), "trust"),
    (("cloud",), "trust"),
    (("outputs",), "trust"),
    (("deployment", "repoUrl"), "trust"),
    (("endpoints",), "trust"),
)
# Breaking changes that only an approval settles, and which owners approve them.
_SETTLED_BY = {
    "CH690": "policies",
    "CH692": "policies",
    "CH693": "trust",
    "CH694": "waivers",
    "CH695": "trust",  # endpoints-widened
    "CH696": "trust",  # endpoint-trusted-only-by-head
}


def needs(changes: Sequence[SpecChange], breaking: Sequence[Diagnostic], base: Project | None) -> list[ApprovalNeeded]:
    """Every approval the change needs, with the owners the **base** revision names."""
    owners = base.spec.governance.owners if base is not None else GovernanceOwners()
    found: list[ApprovalNeeded] = []
    for change in changes:
        for located, path, group in _governance_parts(change):
            what = f"{change.kind} `{change.name}` {change.status}" + (f" ({format_path(path)})" if path else "")
            found.append(_owners_need(located, path, what, group, getattr(owners, group)))
        found.extend(_approvers_need(change, breaking))
    for finding in breaking:
        if finding.code in _SETTLED_BY:
            group = _SETTLED_BY[finding.code]
            listed = tuple(getattr(owners, group))
            found.append(ApprovalNeeded(finding, listed, f"the {group} owners named in the base revision"))
    return found


def _governance_parts(change: SpecChange) -> Iterator[tuple[Located, tuple[PathSegment, ...], str]]:
    located = change.head or change.base
    assert located is not None
    if change.kind in _KIND_OWNERS:
        yield located, (), _KIND_OWNERS[change.kind]
    elif change.kind == "Project" and change.base is not None and change.head is not None:
        old, new = content(change.base), content(change.head)
        for section, group in _PROJECT_SECTIONS:
            if _dig(old, ("spec", *section)) != _dig(new, ("spec", *section)):
                yield change.head, ("spec", *section), group


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _owners_need(
    located: Located, path: tuple[PathSegment, ...], what: str, group: str, owners: Sequence[str]
) -> ApprovalNeeded:
    if owners:
        message = (
            f"{what}: a governance change needs an approving review from one of the {group} owners named in "
            f"the base revision: {', '.join('@' + owner for owner in owners)}"
        )
    else:
        message = (
            f"{what}: a governance change needs an approving review from an owner of {group}, and the base "
            f"revision names none (spec.governance.owners.{group} in charter.yaml)"
        )
    finding = _at(located, path, message, "`charter github report` verifies the review through GitHub's API")
    return ApprovalNeeded(finding, tuple(owners), f"the {group} owners named in the base revision")


def _approvers_need(change: SpecChange, breaking: Sequence[Diagnostic]) -> Iterator[ApprovalNeeded]:
    """A waiver added, widened or extended needs every one of its approvers."""
    head = change.head
    waiver = head.spec.model if head is not None else None
    if not isinstance(waiver, Waiver) or head is None:
        return
    widened = any(d.kind == "Waiver" and d.name == change.name and d.rule in _WIDENING for d in breaking)
    if change.status != "added" and not widened:
        return
    approvers = tuple(waiver.spec.approvers)
    message = (
        f"waiver `{change.name}` {'added' if change.status == 'added' else 'widened or extended'}: every one of "
        f"its approvers must approve the pull request: {', '.join('@' + login for login in approvers)}"
    )
    hint = "each approver approves the pull request; `charter github report` verifies the reviews"
    yield ApprovalNeeded(_at(head, ("spec", "approvers"), message, hint), approvers, "the waiver's approvers", "all")


_WIDENING = frozenset({"waiver-extended", "waiver-widened"})


def _at(located: Located, path: tuple[PathSegment, ...], message: str, hint: str) -> Diagnostic:
    spec = located.spec
    span = spec.span(path or ("metadata", "name"))
    return Diagnostic.of(
        NEED_CODE,
        message,
        spec.file,
        line=span.line,
        column=span.column,
        end_line=span.end_line,
        end_column=span.end_column,
        path=path,
        document=spec.document.index,
        rule="governance-approval-needed",
        hint=hint,
        kind=spec.kind,
        name=spec.name,
    )


# --- settling -----------------------------------------------------------------------------------------


def settled(approval: Approval) -> Diagnostic:
    """The need's finding once approved: information, naming who approved."""
    who = ", ".join("@" + login for login in approval.by)
    return approval.needed.finding.with_changes(severity=Severity.INFO, note=f"approved by {who}")


def settle(plan: Plan, approvals: Sequence[Approval]) -> Plan:
    """The plan with every settled need's finding lowered to information, naming who approved; its exit code
    follows (`Plan.exit_code` counts the needs still unsettled)."""
    lowered = {approval.needed.finding: settled(approval) for approval in approvals if approval.settled}
    needs_after = [replace(need, finding=lowered.get(need.finding, need.finding)) for need in plan.approvals_needed]
    breaking_after = [lowered.get(finding, finding) for finding in plan.breaking]
    return replace(plan, approvals_needed=needs_after, breaking=breaking_after)
