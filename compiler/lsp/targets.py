"""What a field refers to, where that is declared, and who else refers to it.

References between specs come from `compiler.core.references` (`references`, `column_references`), the one
definition of every reference field; this module adds only their declarations: a spec's `metadata.name`, a
contract's `id` and its properties' `name`, a policy's rules.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from compiler.core.diagnostics import PathSegment
from compiler.core.models import CONTRACT_KIND
from compiler.core.models.policy import Policy
from compiler.core.models.waiver import Waiver
from compiler.core.references import column_references, references
from compiler.core.specs import Spec
from compiler.stages import Checked

COLUMN = "column"
RULE = "rule"


@dataclass(frozen=True, slots=True)
class Target:
    """A spec (by kind and name), a column of a contract, or a rule of a policy."""

    kind: str
    name: str
    contract: str | None = None  # a column's contract
    policy: str | None = None  # a rule's policy


def target_at(spec: Spec, path: Sequence[PathSegment]) -> Target | None:
    """What the field at `path` of `spec` names, or declares."""
    path = tuple(path)
    declared = declaration(spec, path)
    if declared is not None:
        return declared
    for reference in references(spec):
        if reference.path == path:
            return Target(reference.kind, reference.name)
    for named in column_references(spec):
        if named.path == path:
            return Target(COLUMN, named.column, contract=named.contract.name)
    if isinstance(spec.model, Waiver) and path == ("spec", "rule") and spec.model.spec.rule:
        return Target(RULE, spec.model.spec.rule, policy=spec.model.spec.policy)
    return None


def declaration(spec: Spec, path: tuple[PathSegment, ...]) -> Target | None:
    if spec.contract is not None:
        if path == ("id",):
            return Target(CONTRACT_KIND, spec.contract.id)
        if len(path) == 5 and path[0] == "schema" and path[2] == "properties" and path[4] == "name":
            column = next((column for column in spec.contract.columns if column.path == path[:4]), None)
            return Target(COLUMN, column.name, contract=spec.contract.id) if column else None
        return None
    if path == ("metadata", "name"):
        return Target(spec.kind, spec.name)
    if isinstance(spec.model, Policy) and len(path) == 4 and path[:2] == ("spec", "validations") and path[3] == "name":
        index = path[2]
        rules = spec.model.spec.validations
        if isinstance(index, int) and 0 <= index < len(rules):
            return Target(RULE, rules[index].name, policy=spec.name)
    return None


def all_specs(checked: Checked) -> list[Spec]:
    """Every spec of the check, the policies of packs and policy directories included, once each."""
    return list({id(spec): spec for spec in [*checked.specs, *checked.policies]}.values())


def named(checked: Checked, kind: str) -> dict[str, Spec]:
    """The specs of one kind by the names references use (a contract by its id and by its name)."""
    found: dict[str, Spec] = {}
    for spec in all_specs(checked):
        if kind == CONTRACT_KIND and spec.contract is not None:
            for key in (spec.contract.id, spec.contract.name):
                if key:
                    found.setdefault(key, spec)
        elif spec.kind == kind and spec.contract is None:
            found.setdefault(spec.name, spec)
    return found


def find(checked: Checked, kind: str, name: str) -> Spec | None:
    return named(checked, kind).get(name)


def declared_at(checked: Checked, target: Target) -> tuple[Spec, tuple[PathSegment, ...]] | None:
    """Where a target is declared: the spec, and the path of its name there."""
    if target.kind == COLUMN:
        contract = find(checked, CONTRACT_KIND, target.contract or "")
        if contract is None or contract.contract is None:
            return None
        columns = contract.contract.find(target.name)
        return (contract, (*columns[0].path, "name")) if columns else None
    if target.kind == RULE:
        policy = find(checked, "Policy", target.policy or "")
        if policy is None or not isinstance(policy.model, Policy):
            return None
        names = [rule.name for rule in policy.model.spec.validations]
        return (policy, ("spec", "validations", names.index(target.name), "name")) if target.name in names else None
    spec = find(checked, target.kind, target.name)
    if spec is None:
        return None
    return (spec, ("id",)) if spec.contract is not None else (spec, ("metadata", "name"))


def usages(checked: Checked, target: Target) -> Iterator[tuple[Spec, tuple[PathSegment, ...]]]:
    """Every field of every spec that refers to the target."""
    index = named(checked, CONTRACT_KIND if target.kind == COLUMN else target.kind)
    wanted = index.get((target.contract or "") if target.kind == COLUMN else target.name)
    if wanted is None and target.kind != RULE:
        return
    for spec in all_specs(checked):
        if target.kind == RULE:
            model = spec.model
            if isinstance(model, Waiver) and model.spec.policy == target.policy and model.spec.rule == target.name:
                yield spec, ("spec", "rule")
        elif target.kind == COLUMN:
            for column in column_references(spec):
                if column.column == target.name and index.get(column.contract.name) is wanted:
                    yield spec, column.path
        else:
            for reference in references(spec):
                if reference.kind == target.kind and index.get(reference.name) is wanted:
                    yield spec, reference.path
