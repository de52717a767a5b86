"""What breaking-change rules see and yield, shared by `breaking` and `governance`.

A rule is a function of one changed spec and the two checked revisions
(`Context`); it yields `Found` items, which `breaking.breaking_changes`
places (file, line, severity) and turns into findings. Each rule has a code
in the catalogue (CH6xx), which gives its id (the code's name), its severity
and its documentation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from compiler.core.codes import CODES, Code, registered
from compiler.core.diagnostics import Diagnostic, Flip, PathSegment, Severity
from compiler.core.odcs import read_odcs
from compiler.core.references import references
from compiler.integrations.gitops.snapshot import Located, Snapshot
from compiler.plan.changes import SpecChange

__all__ = ["BreakingChange", "Context", "Found", "Rule", "RuleCheck", "both_versions", "flip_found"]

# A breaking change is a finding like any other: its code is the rule's (CH6xx), and
# `rule`, `kind`, `name`, `concerns`, `flips` and `note` say what it is about.
BreakingChange = Diagnostic


@dataclass(frozen=True)
class Found:
    """What a rule yields; the runner places it and adds the people concerned."""

    message: str
    path: tuple[PathSegment, ...] = ()
    on_base: bool = False  # the path is in the old version (what was removed)
    severity: Severity | None = None  # the rule's own severity when None
    concerns: tuple[str, ...] = ()
    flips: tuple[Flip, ...] = ()
    note: str | None = None


@dataclass
class Context:
    base: Snapshot
    head: Snapshot
    flips: list[Flip] = field(default_factory=list)

    def specs(self) -> Iterator[Located]:
        yield from self.head.specs
        yield from self.base.specs

    def find(self, kind: str, name: str, *, head: bool) -> Located | None:
        snapshot = self.head if head else self.base
        for located in snapshot.specs:
            if located.kind != kind:
                continue
            contract = located.spec.contract
            if located.name == name or (contract is not None and contract.name == name):
                return located
        return None

    def users(self, kind: str, name: str) -> list[Located]:
        """Specs, in either revision, that refer to the spec `kind`/`name`."""
        names = {name}
        for located in self.specs():
            if located.kind == kind and located.name == name and located.spec.contract is not None:
                names.add(located.spec.contract.name or name)
        return [located for located in self.specs() if _refers(located, kind, names)]

    def owners(self, located: Located | None) -> list[str]:
        if located is None:
            return []
        if located.spec.contract is not None:
            return read_odcs(located.spec.data).team_members
        model = located.spec.model
        owner = getattr(getattr(model, "metadata", None), "owner", None)
        return [owner] if isinstance(owner, str) and owner else []


RuleCheck = Callable[[SpecChange, Context], Iterable[Found]]


@dataclass(frozen=True)
class Rule:
    code: str
    kinds: tuple[str, ...]
    check: RuleCheck
    announced_by_major_version: bool = False

    def __post_init__(self) -> None:
        registered(self.code)  # a rule without a catalogued code fails at import, not in front of a user

    @property
    def entry(self) -> Code:
        return CODES[self.code]

    @property
    def id(self) -> str:
        """The rule id users see (`policy-pack-removed`): the name of its code."""
        return self.entry.name

    @property
    def severity(self) -> Severity:
        return self.entry.severity

    @property
    def summary(self) -> str:
        return self.entry.title


# Specs that use what they refer to; a Waiver or the Project only names it.
_USERS = frozenset({"Model", "EvaluationSuite", "Environment"})


def _refers(located: Located, kind: str, names: set[str]) -> bool:
    if located.kind not in _USERS:
        return False
    return any(reference.kind == kind and reference.name in names for reference in references(located.spec))


def both_versions(change: SpecChange) -> tuple[Located, Located] | None:
    if change.status != "changed" or change.base is None or change.head is None:
        return None
    return change.base, change.head


def flip_found(flips: list[Flip], what: str, context: Context) -> Found:
    concerns = []
    for flip in flips:
        concerns.extend(context.owners(context.find(flip.kind, flip.name, head=True)))
    loosened = any(flip.loosened for flip in flips)
    severity = Severity.ERROR if loosened else Severity.WARNING if flips else Severity.INFO
    passes = sum(1 for flip in flips if flip.loosened)
    if flips:
        tally = f"{passes} now pass" if passes else ""
        fails = len(flips) - passes
        tally += (", " if tally and fails else "") + (f"{fails} now fail" if fails else "")
        message = f"{what}: flips {len(flips)} verdict{'s' if len(flips) != 1 else ''} ({tally})"
    else:
        message = f"{what}: no verdict changes"
    return Found(message, severity=severity, concerns=tuple(concerns), flips=tuple(flips))
