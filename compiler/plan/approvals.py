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


Mode = Literal["any", "all", "admins"]
# Who approves a need whose owner group the base revision leaves empty.
ADMINS = "one of the repository's admins"


@dataclass(frozen=True)
class ApprovalNeeded:
    """The findings one group of owners settles with an approving review.

    `owners` are GitHub logins (`alice`) or teams (`acme/model-risk`). With `mode="any"` one approving owner
    is enough (governance owners); with `mode="all"` every one of them must approve (a waiver's `approvers`);
    with `mode="admins"` the base names no owner for what changed and `owners` is empty: one approving
    repository admin settles it (GitHub's collaborator permission `admin`). Needs of the same owners and mode
    are one need listing every finding it settles (`needs` merges them), so a change asks each group once.
    """

    findings: tuple[Diagnostic, ...]
    owners: tuple[str, ...]
    reason: str
    mode: Mode = "any"

    @property
    def finding(self) -> Diagnostic:
        """The first finding: where the need is shown when one place is enough."""
        return self.findings[0]

    @property
    def approved(self) -> bool:
        """Every finding was settled (lowered to information)."""
        return all(finding.severity is Severity.INFO for finding in self.findings)

    def owners_text(self) -> str:
        """`@a or @b`, `@a and @b`, or the repository's admins, as the need's mode reads."""
        if self.mode == "admins":
            return ADMINS
        joined = " and " if self.mode == "all" else " or "
        return joined.join("@" + owner for owner in self.owners)


@dataclass(frozen=True)
class Approval:
    """A need and who settled it: the logins whose approving reviews count, empty when it is not settled."""

    needed: ApprovalNeeded
    by: tuple[str, ...] = ()

    @property
    def settled(self) -> bool:
        """Any approving owner settles a need of mode `any` or `admins`; one of mode `all` needs every owner
        among `by` (GitHub logins compare without case)."""
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
    """Every approval the change needs, one per group of owners the **base** revision names.

    A group the base leaves empty (a first charter.yaml, or a project older than governance owners) is
    approved by the repository's admins: they already decide the branch protection Charter runs under, and
    nobody the change itself names can stand in for them.
    """
    owners = base.spec.governance.owners if base is not None else GovernanceOwners()
    found: list[_Asked] = []
    for change in changes:
        for located, path, group in _governance_parts(change):
            what = f"{change.kind} `{change.name}` {change.status}" + (f" ({format_path(path)})" if path else "")
            found.append(_owners_need(located, path, what, group, tuple(getattr(owners, group))))
        found.extend(_approvers_need(change, breaking))
    for finding in breaking:
        if finding.code in _SETTLED_BY:
            group = _SETTLED_BY[finding.code]
            listed = tuple(getattr(owners, group))
            found.append(_Asked(finding, listed, group, "any" if listed else "admins"))
    return _merged(found)


@dataclass(frozen=True)
class _Asked:
    """One finding and who settles it, before the needs of the same owners are merged."""

    finding: Diagnostic
    owners: tuple[str, ...]
    label: str  # the owner group (`policies`), or who else the owners are (a waiver's approvers)
    mode: Mode


def _merged(asked: Sequence[_Asked]) -> list[ApprovalNeeded]:
    """One need per owners and mode, in the order first asked, listing every finding it settles."""
    groups: dict[tuple[tuple[str, ...], str], list[_Asked]] = {}
    for item in asked:
        key = (tuple(sorted({owner.removeprefix("@").casefold() for owner in item.owners})), item.mode)
        groups.setdefault(key, []).append(item)
    return [
        ApprovalNeeded(tuple(item.finding for item in items), items[0].owners, _reason(items), items[0].mode)
        for items in groups.values()
    ]


def _reason(items: Sequence[_Asked]) -> str:
    labels = list(dict.fromkeys(item.label for item in items))
    if items[0].mode == "all":
        return "; ".join(labels)
    named = " and ".join([", ".join(labels[:-1]), labels[-1]] if len(labels) > 1 else labels)
    if items[0].mode == "admins":
        return f"the {named} owners: the base revision names none, so a repository admin approves"
    return f"the {named} owners named in the base revision"


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
    located: Located, path: tuple[PathSegment, ...], what: str, group: str, owners: tuple[str, ...]
) -> _Asked:
    if owners:
        message = (
            f"{what}: a governance change needs an approving review from one of the {group} owners named in "
            f"the base revision: {', '.join('@' + owner for owner in owners)}"
        )
        hint = "`charter github report` verifies the review through GitHub's API"
    else:
        message = (
            f"{what}: a governance change needs an approving review from an owner of {group}; the base revision "
            f"names none (spec.governance.owners.{group} in charter.yaml), so one of the repository's admins approves"
        )
        hint = (
            f"name the owners of {group} in charter.yaml's spec.governance.owners, in a change of its own; until "
            "then `charter github report` counts an approving review by a repository admin (GitHub's collaborator "
            "permission `admin`)"
        )
    return _Asked(_at(located, path, message, hint), owners, group, "any" if owners else "admins")


def _approvers_need(change: SpecChange, breaking: Sequence[Diagnostic]) -> Iterator[_Asked]:
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
    yield _Asked(_at(head, ("spec", "approvers"), message, hint), approvers, "the waiver's approvers", "all")


_WIDENING = frozenset({"waiver-extended", "waiver-widened"})


def _at(located: Located, path: tuple[PathSegment, ...], message: str, hint: str) -> Diagnostic:
    """At `path` in the spec (its name when the whole spec changed); the finding keeps the path it was given."""
    spec = located.spec
    finding = spec.finding(NEED_CODE, message, path or ("metadata", "name"), hint=hint)
    return finding.with_changes(path=path, rule="governance-approval-needed", kind=spec.kind, name=spec.name)


# --- settling -----------------------------------------------------------------------------------------


def settled(approval: Approval, finding: Diagnostic) -> Diagnostic:
    """A finding of a settled need: information, naming who approved."""
    who = ", ".join("@" + login for login in approval.by)
    return finding.with_changes(severity=Severity.INFO, note=f"approved by {who}")


def settle(plan: Plan, approvals: Sequence[Approval]) -> Plan:
    """The plan with every finding of a settled need lowered to information, naming who approved; its exit code
    follows (`Plan.exit_code` counts the needs still unsettled)."""
    lowered = {
        finding: settled(approval, finding)
        for approval in approvals
        if approval.settled
        for finding in approval.needed.findings
    }
    needs_after = [
        replace(need, findings=tuple(lowered.get(finding, finding) for finding in need.findings))
        for need in plan.approvals_needed
    ]
    breaking_after = [lowered.get(finding, finding) for finding in plan.breaking]
    return replace(plan, approvals_needed=needs_after, breaking=breaking_after)
